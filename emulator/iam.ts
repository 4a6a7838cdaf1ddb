/**
 * OVH IAM as far as the KMS needs it (spec/ovh/iam.json): policies (`/v2/iam/policy` CRUD), the authorization checks
 * (`/v2/iam/authorization/check`, `/v2/iam/resource/{resourceURN}/authorization/check`), and the one decision
 * function the data plane calls for every operation's `x-iam-actions` (spec/ovh/okms-data-plane.openapi.json).
 *
 * Decision, for a set of caller identities, an action and a resource URN:
 * - an account identity (`urn:v1:<plate>:identity:account:<nic>`) is the account itself and is never constrained;
 * - otherwise a policy applies when it names one of the identities and the resource, and has not expired; the action
 *   is denied if any applicable policy denies it, else allowed if one allows it without excepting it, else denied.
 * Action patterns use `*` as OVH IAM does (`okms:apikms:*`, `okms:apikms:serviceKey/*`, `*`).
 * Policy `conditions` and `permissionsGroups` are not emulated: a policy using them is refused (400) rather than
 * silently granting more, or less, than OVH would.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import { IDENTITY_URN } from "./rules";
import { EMULATOR_NIC, authDetails } from "./auth";
import { bindRoutes, type BoundRoute, type EmulatorContext, type RequestContext, type RouteDef } from "./context";
import { ApiError, badRequest, isoSeconds, notFound, paginate, validate, type Reply } from "./http";
import type { EmulatorState, StoredPolicy } from "./model";

const ACCOUNT_IDENTITY = /^urn:v1:[a-z]+:identity:account:[A-Za-z0-9-]+$/;

/** Whether an IAM action pattern (with `*` wildcards) covers `action`. */
export function actionMatches(pattern: string, action: string): boolean {
    const source = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${source}$`).test(action);
}

export interface AuthorizationResult {
    authorizedActions: string[];
    unauthorizedActions: string[];
}

/** Decides each of `actions` for `identities` on `resourceUrn` at emulator time `now` (ms). */
export function authorize(
    state: EmulatorState,
    identities: readonly string[],
    resourceUrn: string,
    actions: readonly string[],
    now: number,
): AuthorizationResult {
    if (identities.some((i) => ACCOUNT_IDENTITY.test(i))) {
        return { authorizedActions: [...actions], unauthorizedActions: [] };
    }
    const applicable = Object.values(state.iamPolicies ?? {}).filter(
        (p) =>
            p.identities.some((i) => identities.includes(i)) &&
            p.resources.includes(resourceUrn) &&
            (p.expiredAt === null || Date.parse(p.expiredAt) > now),
    );
    const result: AuthorizationResult = { authorizedActions: [], unauthorizedActions: [] };
    for (const action of actions) {
        const denied = applicable.some((p) => p.deny.some((d) => actionMatches(d, action)));
        const allowed = applicable.some(
            (p) => p.allow.some((a) => actionMatches(a, action)) && !p.except.some((e) => actionMatches(e, action)),
        );
        (allowed && !denied ? result.authorizedActions : result.unauthorizedActions).push(action);
    }
    return result;
}

// ----------------------------------------------------------------------------------------------------------------
// Policy routes
// ----------------------------------------------------------------------------------------------------------------

const actionList = (field: string) =>
    z
        .array(z.strictObject({ action: z.string().min(1, `${field}: action must not be empty`) }), {
            error: `${field} must be an array of {action}`,
        })
        .nullish();

/** `iam.policy.Creation` and `iam.policy.Update` have the same members. */
const policyBodySchema = z.strictObject(
    {
        name: z
            .string({ error: "name is required (a string)" })
            .min(1, "name must be 1 to 255 characters")
            .max(255, "name must be 1 to 255 characters"),
        description: z.string({ error: "description must be a string" }).nullish(),
        identities: z.array(
            z.string().regex(IDENTITY_URN, "identities: not a valid identity URN (urn:v1:<plate>:identity:…)"),
            { error: "identities must be an array of identity URNs" },
        ),
        resources: z.array(
            z.strictObject({
                urn: z.string().regex(/^urn:v1:[a-z]+:resource:/, "resources: urn must be a resource URN"),
            }),
            { error: "resources must be an array of {urn}" },
        ),
        permissions: z.strictObject(
            {
                allow: actionList("permissions.allow"),
                except: actionList("permissions.except"),
                deny: actionList("permissions.deny"),
            },
            { error: "permissions must be an object with allow, except and deny" },
        ),
        permissionsGroups: z
            .array(z.unknown())
            .max(0, "permissionsGroups are not emulated; list the actions in permissions instead")
            .nullish(),
        conditions: z.null({ error: "conditions are not emulated; leave them out" }).optional(),
        expiredAt: z.iso.datetime({ offset: true, error: "expiredAt must be an ISO-8601 date-time" }).nullish(),
    },
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : undefined) },
);

type PolicyBody = z.infer<typeof policyBodySchema>;

const actions = (list: { action: string }[] | null | undefined) => (list ?? []).map((a) => a.action);

function policyFields(body: PolicyBody): Omit<StoredPolicy, "id" | "createdAt" | "updatedAt"> {
    return {
        name: body.name,
        description: body.description ?? null,
        identities: body.identities,
        resources: body.resources.map((r) => r.urn),
        allow: actions(body.permissions.allow),
        except: actions(body.permissions.except),
        deny: actions(body.permissions.deny),
        expiredAt: body.expiredAt ?? null,
    };
}

/** `iam.policy.Response`. */
function policyView(p: StoredPolicy): Record<string, unknown> {
    const wrap = (list: string[]) => list.map((action) => ({ action }));
    return {
        id: p.id,
        name: p.name,
        description: p.description,
        identities: p.identities,
        resources: p.resources.map((urn) => ({ urn })),
        permissions: { allow: wrap(p.allow), except: wrap(p.except), deny: wrap(p.deny) },
        permissionsGroups: [],
        conditions: null,
        owner: EMULATOR_NIC,
        readOnly: false,
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
        expiredAt: p.expiredAt,
    };
}

function getPolicy(state: EmulatorState, id: string): StoredPolicy {
    const p = state.iamPolicies?.[id];
    if (p === undefined) {
        throw notFound(`The requested object (policyId = ${id}) does not exist`);
    }
    return p;
}

function assertUniqueName(state: EmulatorState, name: string, exceptId?: string): void {
    const clash = Object.values(state.iamPolicies ?? {}).find((p) => p.name === name && p.id !== exceptId);
    if (clash !== undefined) {
        throw new ApiError(409, `a policy named ${name} already exists (${clash.id})`);
    }
}

/** The identities of the management-API caller (as `GET /1.0/auth/details` reports them). */
function callerIdentities(rc: RequestContext): string[] {
    if (rc.identity === undefined) {
        return [];
    }
    const details = authDetails(rc.identity);
    return Array.isArray(details.identities) ? details.identities.filter((i) => typeof i === "string") : [];
}

const checkSchema = z.strictObject({
    actions: z
        .array(z.string().min(1), { error: "actions must be an array of IAM actions" })
        .min(1, "actions is required"),
});
const batchCheckSchema = z.strictObject({
    actions: z
        .array(z.string().min(1), { error: "actions must be an array of IAM actions" })
        .min(1, "actions is required"),
    resourceURNs: z
        .array(z.string().min(1), { error: "resourceURNs must be an array of URNs" })
        .min(1, "resourceURNs is required"),
});

const base = "/v2/iam";

/** `GET /v2/iam/policy`. */
const listPolicies = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const identity = rc.query.getAll("identity");
    const resource = rc.query.getAll("resourceURN");
    const action = rc.query.getAll("action");
    const readOnly = rc.query.get("readOnly");
    if (readOnly === "true") {
        // The emulator holds no OVH-managed (read-only) policies.
        return paginate(rc.req, []);
    }
    const list = Object.values(ctx.store.state.iamPolicies ?? {})
        .filter((p) => identity.length === 0 || p.identities.some((i) => identity.includes(i)))
        .filter((p) => resource.length === 0 || p.resources.some((r) => resource.includes(r)))
        .filter((p) => action.length === 0 || action.some((a) => p.allow.some((x) => actionMatches(x, a))))
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
        .map(policyView);
    return paginate(rc.req, list);
};

/** `POST /v2/iam/policy`. */
const createPolicy = (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const body = validate(policyBodySchema, rc.body ?? {});
    return ctx.store.mutate((s) => {
        assertUniqueName(s, body.name);
        const policy: StoredPolicy = {
            id: randomUUID(),
            ...policyFields(body),
            createdAt: isoSeconds(ctx.now()),
            updatedAt: null,
        };
        (s.iamPolicies ??= {})[policy.id] = policy;
        return { body: policyView(policy) };
    });
};

/** `GET /v2/iam/policy/{policyId}`. */
const readPolicy = (rc: RequestContext, ctx: EmulatorContext): Reply => ({
    body: policyView(getPolicy(ctx.store.state, rc.params.policyId ?? "")),
});

/** `PUT /v2/iam/policy/{policyId}`. */
const updatePolicy = (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const id = rc.params.policyId ?? "";
    getPolicy(ctx.store.state, id);
    const body = validate(policyBodySchema, rc.body ?? {});
    return ctx.store.mutate((s) => {
        const current = getPolicy(s, id);
        assertUniqueName(s, body.name, id);
        const updated: StoredPolicy = { ...current, ...policyFields(body), updatedAt: isoSeconds(ctx.now()) };
        (s.iamPolicies ??= {})[id] = updated;
        return { body: policyView(updated) };
    });
};

/** `DELETE /v2/iam/policy/{policyId}`. */
const deletePolicy = (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const id = rc.params.policyId ?? "";
    getPolicy(ctx.store.state, id);
    return ctx.store.mutate((s) => {
        getPolicy(s, id);
        delete s.iamPolicies?.[id];
        return { status: 204 };
    });
};

/** `POST /v2/iam/authorization/check`. */
const checkAuthorization = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const body = validate(batchCheckSchema, rc.body ?? {});
    const identities = callerIdentities(rc);
    return {
        body: body.resourceURNs.map((resourceURN) => ({
            resourceURN,
            ...authorize(ctx.store.state, identities, resourceURN, body.actions, ctx.now()),
        })),
    };
};

/** `POST /v2/iam/resource/{resourceURN}/authorization/check`. */
const checkResourceAuthorization = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const urn = rc.params.resourceURN ?? "";
    if (!urn.startsWith("urn:")) {
        throw badRequest("resourceURN must be a URN (percent-encoded in the path)");
    }
    const body = validate(checkSchema, rc.body ?? {});
    return { body: authorize(ctx.store.state, callerIdentities(rc), urn, body.actions, ctx.now()) };
};

const IAM_ROUTES: readonly BoundRoute<EmulatorContext>[] = [
    { method: "GET", path: `${base}/policy`, handler: listPolicies },
    { method: "POST", path: `${base}/policy`, handler: createPolicy },
    { method: "GET", path: `${base}/policy/{policyId}`, handler: readPolicy },
    { method: "PUT", path: `${base}/policy/{policyId}`, handler: updatePolicy },
    { method: "DELETE", path: `${base}/policy/{policyId}`, handler: deletePolicy },
    { method: "POST", path: `${base}/authorization/check`, handler: checkAuthorization },
    {
        method: "POST",
        path: `${base}/resource/{resourceURN}/authorization/check`,
        handler: checkResourceAuthorization,
    },
];

export function iamRoutes(ctx: EmulatorContext): RouteDef[] {
    return bindRoutes(ctx, IAM_ROUTES);
}
