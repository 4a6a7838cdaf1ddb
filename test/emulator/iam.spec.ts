/**
 * The IAM decision (emulator/iam.ts) as a pure function: wildcards, except, deny, expiry, resource scoping and
 * the account identity. The same function answers the data plane and the management authorization checks, whose
 * wire behaviour test/emulator/dataPlaneApi.spec.ts covers.
 */
import * as assert from "node:assert/strict";

import { actionMatches, authorize } from "../../emulator/iam";
import type { EmulatorState, StoredPolicy } from "../../emulator/model";

const KMS = "urn:v1:eu:resource:okms:11111111-1111-1111-1111-111111111111";
const ALICE = "urn:v1:eu:identity:user:xx1111-ovh/alice";
const OPS = "urn:v1:eu:identity:group:xx1111-ovh/ops";

function policy(p: Partial<StoredPolicy>): StoredPolicy {
    return {
        id: p.name ?? "p",
        name: "p",
        description: null,
        identities: [ALICE],
        resources: [KMS],
        allow: [],
        except: [],
        deny: [],
        createdAt: "2026-01-01T00:00:00Z",
        updatedAt: null,
        expiredAt: null,
        ...p,
    };
}

function stateWith(...policies: StoredPolicy[]): EmulatorState {
    return { iamPolicies: Object.fromEntries(policies.map((p) => [p.id, p])) } as unknown as EmulatorState;
}

describe("emulator/iam", function () {
    it("matches action patterns with * as OVH IAM does", function () {
        assert.equal(actionMatches("okms:apikms:*", "okms:apikms:serviceKey/encrypt"), true);
        assert.equal(actionMatches("okms:apikms:serviceKey/*", "okms:apikms:serviceKey/dataKey/create"), true);
        assert.equal(actionMatches("okms:apikms:serviceKey/*", "okms:apikms:secret/get"), false);
        assert.equal(actionMatches("*", "okms:apikms:random/get"), true);
        assert.equal(actionMatches("okms:apikms:serviceKey/get", "okms:apikms:serviceKey/getX"), false);
        assert.equal(actionMatches("okms:apikms:secret.get", "okms:apikms:secretXget"), false, "dots are literal");
    });

    it("decides per action: allow minus except, deny wins across policies, other resources and expiry ignored", function () {
        const now = Date.parse("2026-06-01T00:00:00Z");
        const s = stateWith(
            policy({ name: "all", allow: ["okms:apikms:*"], except: ["okms:apikms:serviceKey/delete"] }),
            policy({ name: "no-sign", identities: [OPS], deny: ["okms:apikms:serviceKey/sign"] }),
            policy({ name: "other", resources: [`${KMS}0`], allow: ["*"] }),
            policy({ name: "old", allow: ["okms:apikms:serviceKey/delete"], expiredAt: "2026-01-02T00:00:00Z" }),
        );
        const actions = ["okms:apikms:serviceKey/get", "okms:apikms:serviceKey/delete", "okms:apikms:serviceKey/sign"];
        assert.deepEqual(authorize(s, [ALICE], KMS, actions, now), {
            authorizedActions: ["okms:apikms:serviceKey/get", "okms:apikms:serviceKey/sign"],
            unauthorizedActions: ["okms:apikms:serviceKey/delete"],
        });
        // A certificate holding both identities gets both policies: the deny applies.
        assert.deepEqual(authorize(s, [ALICE, OPS], KMS, actions, now).unauthorizedActions, [
            "okms:apikms:serviceKey/delete",
            "okms:apikms:serviceKey/sign",
        ]);
        assert.deepEqual(authorize(s, [ALICE], `${KMS}0`, actions, now).unauthorizedActions, []);
        // Before its expiry, the "old" policy still grants delete (allow in one policy, except in another).
        const before = authorize(s, [ALICE], KMS, actions, Date.parse("2026-01-01T12:00:00Z"));
        assert.deepEqual(before.unauthorizedActions, []);
    });

    it("leaves an account identity unconstrained and denies an identity no policy names", function () {
        const s = stateWith(policy({ deny: ["*"] }));
        const account = "urn:v1:eu:identity:account:xx1111-ovh";
        assert.deepEqual(authorize(s, [account], KMS, ["okms:apikms:secret/get"], 0).authorizedActions, [
            "okms:apikms:secret/get",
        ]);
        assert.deepEqual(authorize(stateWith(), [OPS], KMS, ["okms:apikms:secret/get"], 0).unauthorizedActions, [
            "okms:apikms:secret/get",
        ]);
    });
});
