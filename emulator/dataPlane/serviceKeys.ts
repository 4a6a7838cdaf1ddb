/**
 * The data plane's service-key operations (spec/ovh/okms-data-plane.openapi.json, "Service Key API") and random
 * bytes, registered with the dispatcher by `operationId`. The keys are the ones the management API serves
 * (emulator/management.ts): one record each, shown in each plane's casing (lower-case states and reasons here).
 */
import * as crypto from "node:crypto";

import { z } from "zod";

import {
    DATA_PLANE_KEY_SIZES,
    DATA_PLANE_KEY_STATES,
    DATA_PLANE_LIMITS,
    DATA_PLANE_SIGNING_ALGORITHMS,
    KEY_CURVES,
    KEY_OPERATIONS,
    KEY_TYPES,
    MANAGEMENT_LIMITS,
    PROTECTION_LEVELS,
    REVOCATION_REASONS,
    type DeactivationReason,
    type KeyOperation,
    type KeyState,
} from "../rules";
import { ApiError } from "../http";
import { decrypt, decryptDataKey, encrypt, generateDataKey, publicJwk, sign, verify } from "../keys";
import { applyKeyState, checkTransition, deletableKeyState, newServiceKey, resolveKeyMaterial } from "../management";
import type { EmulatorState, StoredServiceKey } from "../model";
import type { DataPlaneReply, DataPlaneRequest, OperationHandlers } from "./dispatcher";
import { DATA_PLANE_CATEGORY, badRequest, conflict, notFound } from "./errors";

// ----------------------------------------------------------------------------------------------------------------
// Request bodies (every request schema of the document has additionalProperties: false)
// ----------------------------------------------------------------------------------------------------------------

/** Go's `[]byte` JSON encoding: standard, padded base64. */
const base64 = (max: number) =>
    z
        .string()
        .max(max)
        .refine((s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s), { error: "must be standard base64" });
const context = z.string().max(MANAGEMENT_LIMITS.keyContextMax).nullish();
const signingAlgorithm = z.enum(DATA_PLANE_SIGNING_ALGORITHMS);
const keyName = z.string({ error: "name is required" }).min(1).max(MANAGEMENT_LIMITS.keyNameMax);

const schemas = {
    /** `CreateImportServiceKeyRequest`; the key rules themselves are checked by `resolveKeyMaterial`. */
    create: z.strictObject({
        id: z.uuid({ error: "id must be a UUID" }).nullish(),
        name: keyName,
        context,
        type: z.enum(KEY_TYPES).nullish(),
        size: z.union(DATA_PLANE_KEY_SIZES.map((n) => z.literal(n))).nullish(),
        curve: z.enum(KEY_CURVES).nullish(),
        operations: z.array(z.enum(KEY_OPERATIONS)).max(32).nullish(),
        protectionLevel: z.enum(PROTECTION_LEVELS).nullish(),
        keys: z.array(z.record(z.string(), z.unknown())).nullish(),
    }),
    patch: z.strictObject({ name: keyName }),
    deactivate: z.strictObject({
        reason: z.enum(REVOCATION_REASONS, {
            error: `reason must be one of ${REVOCATION_REASONS.join(", ")}`,
        }),
    }),
    encrypt: z.strictObject({ plaintext: base64(DATA_PLANE_LIMITS.messageMax).min(1), context }),
    decrypt: z.strictObject({ ciphertext: z.string().min(1).max(DATA_PLANE_LIMITS.ciphertextMax), context }),
    datakey: z.strictObject({
        name: z.string().max(MANAGEMENT_LIMITS.keyNameMax).nullish(),
        size: z
            .number()
            .int()
            .min(DATA_PLANE_LIMITS.dataKeyBits.min)
            .max(DATA_PLANE_LIMITS.dataKeyBits.max)
            .refine((n) => n % 8 === 0, { error: "must be a multiple of 8 bits" }),
    }),
    datakeyDecrypt: z.strictObject({ key: z.string().min(1).max(DATA_PLANE_LIMITS.dataKeyMax) }),
    sign: z.strictObject({
        message: base64(DATA_PLANE_LIMITS.messageMax).min(1),
        alg: signingAlgorithm,
        isdigest: z.boolean().nullish(),
    }),
    verify: z.strictObject({
        message: base64(DATA_PLANE_LIMITS.messageMax).nullish(),
        signature: z.string().min(1),
        alg: signingAlgorithm.nullish(),
        isdigest: z.boolean().nullish(),
    }),
};

/** Parses a required JSON body; every problem is reported with its field. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
    if (body === undefined) {
        throw badRequest("a JSON request body is required", DATA_PLANE_CATEGORY.argument);
    }
    const result = schema.safeParse(body);
    if (!result.success) {
        const messages = result.error.issues.map((i) =>
            i.path.length > 0 ? `${i.path.map(String).join(".")}: ${i.message}` : i.message,
        );
        throw badRequest(`invalid request body: ${messages.join("; ")}`, DATA_PLANE_CATEGORY.argument);
    }
    return result.data;
}

/** Runs a management-API rule and reports its refusal in the data plane's shape. */
function sharedRule<T>(fn: () => T): T {
    try {
        return fn();
    } catch (e) {
        if (e instanceof ApiError && e.status === 400) {
            throw badRequest(e.message);
        }
        throw e;
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Views
// ----------------------------------------------------------------------------------------------------------------

const lower = (state: KeyState) => state.toLowerCase();

/**
 * `GetServiceKeyResponse`: lower-case state in `attributes`, `size` only for oct/RSA, `curve` only for EC. JWK
 * members without a value are left out: `alg` and `use` are enums there, not nullable.
 */
function keyResponse(key: StoredServiceKey, withJwk: boolean): Record<string, unknown> {
    const attributes: Record<string, string> = {
        state: lower(key.state),
        original_creation_date: key.createdAt,
    };
    if (key.activationDate !== null) {
        attributes.activation_date = key.activationDate;
    }
    if (key.deactivationDate !== null) {
        attributes.deactivation_date = key.deactivationDate;
    }
    if (key.deactivationReason !== null) {
        attributes.deactivation_reason = key.deactivationReason.toLowerCase();
    }
    if (key.compromiseDate != null) {
        attributes.compromise_date = key.compromiseDate;
    }
    const out: Record<string, unknown> = {
        id: key.id,
        name: key.name,
        type: key.type,
        protectionLevel: key.protectionLevel,
        operations: [...key.operations],
        attributes,
    };
    if (key.size !== null && key.type !== "EC") {
        out.size = key.size;
    }
    if (key.curve !== null) {
        out.curve = key.curve;
    }
    const jwk = withJwk ? publicJwk(key) : undefined;
    if (jwk !== undefined) {
        out.keys = [Object.fromEntries(Object.entries(jwk).filter(([, v]) => v !== null && v !== undefined))];
    }
    return out;
}

function findKey(state: EmulatorState, okmsId: string, keyId: string): StoredServiceKey {
    const key = state.serviceKeys[keyId];
    if (key === undefined || key.okmsId !== okmsId) {
        throw notFound(`service key ${keyId} not found in KMS ${okmsId}`);
    }
    return key;
}

/** Only active keys perform cryptography, and only the operations they were created for. */
function usableKey(key: StoredServiceKey, operation: KeyOperation): StoredServiceKey {
    if (key.state !== "ACTIVE") {
        throw badRequest(`service key ${key.id} is ${lower(key.state)}; only active keys can be used`);
    }
    if (!key.operations.includes(operation)) {
        throw badRequest(
            `service key ${key.id} does not allow ${operation}; its operations are ${key.operations.join(", ")}`,
        );
    }
    return key;
}

function jwkFormat(query: URLSearchParams): boolean {
    const format = query.get("format");
    if (format !== null && format !== "jwk") {
        throw badRequest("format must be jwk", DATA_PLANE_CATEGORY.argument);
    }
    return format === "jwk";
}

const LIST_STATES = DATA_PLANE_KEY_STATES;

/** Continuation tokens point after a key in (creation date, id) order, so deletions don't shift pages. */
function sortKey(key: StoredServiceKey): string {
    return `${key.createdAt}|${key.id}`;
}

/**
 * `ListServiceKeysResponse`. `continuation_token` is required and non-empty in the document, so the last page
 * carries one too (pointing after its last key); clients stop on `is_truncated: false`, as the Go SDK does.
 */
function listKeys(state: EmulatorState, okmsId: string, query: URLSearchParams): Record<string, unknown> {
    const filter = query.get("state") ?? "all";
    if (!LIST_STATES.includes(filter)) {
        throw badRequest(`state must be one of ${LIST_STATES.join(", ")}`, DATA_PLANE_CATEGORY.argument);
    }
    const maxParam = query.get("max");
    const max = maxParam === null ? 100 : Number(maxParam);
    if (!Number.isInteger(max) || max < 10 || max > 100) {
        throw badRequest("max must be an integer between 10 and 100", DATA_PLANE_CATEGORY.argument);
    }
    const token = query.get("continuation-token") ?? "";
    let after = "";
    if (token !== "") {
        after = Buffer.from(token, "base64url").toString("utf8");
        if (token.length > 500 || !/^(?:[^|]+\|[0-9a-f-]+|\|)$/.test(after)) {
            throw badRequest("continuation-token is not valid", DATA_PLANE_CATEGORY.argument);
        }
        if (after === "|") {
            after = "";
        }
    }
    const keys = Object.values(state.serviceKeys)
        .filter((k) => k.okmsId === okmsId && (filter === "all" || lower(k.state) === filter))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
        .filter((k) => sortKey(k) > after);
    const page = keys.slice(0, max);
    const last = page[page.length - 1];
    // An empty page keeps the caller's position; "|" stands for the start of the list.
    const position = last !== undefined ? sortKey(last) : after === "" ? "|" : after;
    return {
        objects_list: page.map((k) => keyResponse(k, false)),
        continuation_token: Buffer.from(position).toString("base64url"),
        is_truncated: keys.length > max,
    };
}

const keyOf = (r: DataPlaneRequest) => findKey(r.state(), r.okms.id, r.params.keyId ?? "");
const nowIso = (r: DataPlaneRequest) =>
    new Date(Math.floor(r.now() / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

/** Looks the key up again inside the mutation (it may have changed since the request was read). */
function mutateKey(r: DataPlaneRequest, fn: (key: StoredServiceKey, state: EmulatorState) => void): Promise<void> {
    keyOf(r);
    return r.mutate((s) => fn(findKey(s, r.okms.id, r.params.keyId ?? ""), s));
}

/** Activates or deactivates the key (204), where the shared transition rule allows it. */
async function moveKeyTo(
    r: DataPlaneRequest,
    to: KeyState,
    reason: DeactivationReason | null,
): Promise<DataPlaneReply> {
    await mutateKey(r, (key) => {
        sharedRule(() => checkTransition(key.state, to));
        applyKeyState(key, to, reason, nowIso(r));
    });
    return { status: 204 };
}

// ----------------------------------------------------------------------------------------------------------------
// Handlers
// ----------------------------------------------------------------------------------------------------------------

export const serviceKeyHandlers: OperationHandlers = {
    ListServiceKeys: { handle: (r) => ({ status: 200, body: listKeys(r.state(), r.okms.id, r.query) }) },

    CreateImportServiceKey: {
        // `?format=jwk` with `keys` imports (serviceKey/import); anything else generates (serviceKey/create).
        actions: (r) => [
            r.query.get("format") === "jwk" ? "okms:apikms:serviceKey/import" : "okms:apikms:serviceKey/create",
        ],
        handle: async (r) => {
            const importing = jwkFormat(r.query);
            const body = parseBody(schemas.create, r.body);
            const hasKeys = body.keys !== undefined && body.keys !== null;
            if (importing !== hasKeys) {
                throw badRequest(
                    importing
                        ? "format=jwk imports a key: keys must hold one JWK"
                        : "keys can only be imported with ?format=jwk",
                );
            }
            const { id: requestedId, name, context: keyContext, ...spec } = body;
            const material = sharedRule(() => resolveKeyMaterial(spec));
            const key = await r.mutate((s) => {
                if (s.okms[r.okms.id] === undefined) {
                    throw notFound(`KMS ${r.okms.id} not found`);
                }
                const id = requestedId ?? crypto.randomUUID();
                if (s.serviceKeys[id] !== undefined) {
                    throw conflict(`a service key with id ${id} already exists`);
                }
                const created = newServiceKey(r.okms.id, id, name, keyContext, material, nowIso(r));
                s.serviceKeys[id] = created;
                return created;
            });
            return { status: 201, body: keyResponse(key, importing) };
        },
    },

    GetServiceKey: { handle: (r) => ({ status: 200, body: keyResponse(keyOf(r), jwkFormat(r.query)) }) },

    PatchServiceKey: {
        handle: async (r) => {
            const body = parseBody(schemas.patch, r.body);
            await mutateKey(r, (key) => {
                key.name = body.name;
            });
            return { status: 200, body: keyResponse(keyOf(r), false) };
        },
    },

    DeleteServiceKey: {
        handle: async (r) => {
            await mutateKey(r, (key, s) => {
                if (!deletableKeyState(key.state)) {
                    throw badRequest(
                        `service key ${key.id} must be deactivated before deletion (it is ${lower(key.state)})`,
                    );
                }
                delete s.serviceKeys[key.id];
            });
            return { status: 204 };
        },
    },

    ActivateServiceKey: { handle: (r) => moveKeyTo(r, "ACTIVE", null) },

    DeactivateServiceKey: {
        handle: async (r) => {
            const body = parseBody(schemas.deactivate, r.body);
            return moveKeyTo(r, "DEACTIVATED", body.reason.toUpperCase() as DeactivationReason);
        },
    },

    Encrypt: {
        handle: async (r) => {
            const key = keyOf(r);
            const b = parseBody(schemas.encrypt, r.body);
            const ciphertext = await encrypt(usableKey(key, "encrypt"), Buffer.from(b.plaintext, "base64"), b.context);
            return { status: 200, body: { ciphertext } };
        },
    },

    Decrypt: {
        handle: async (r) => {
            const key = keyOf(r);
            const b = parseBody(schemas.decrypt, r.body);
            const plaintext = await decrypt(usableKey(key, "decrypt"), b.ciphertext, b.context);
            return { status: 200, body: { plaintext: plaintext.toString("base64") } };
        },
    },

    GenerateDataKey: {
        handle: async (r) => {
            const key = keyOf(r);
            const b = parseBody(schemas.datakey, r.body);
            const dk = await generateDataKey(usableKey(key, "wrapKey"), b.size);
            return { status: 201, body: { key: dk.key, plaintext: dk.plaintext.toString("base64") } };
        },
    },

    DecryptDataKey: {
        handle: async (r) => {
            const key = keyOf(r);
            const b = parseBody(schemas.datakeyDecrypt, r.body);
            const plaintext = await decryptDataKey(usableKey(key, "unwrapKey"), b.key);
            return { status: 200, body: { plaintext: plaintext.toString("base64") } };
        },
    },

    Sign: {
        handle: (r) => {
            const format = r.query.get("format") ?? "raw";
            if (format !== "raw" && format !== "jws" && format !== "jwt") {
                throw badRequest("format must be raw, jws or jwt", DATA_PLANE_CATEGORY.argument);
            }
            const key = keyOf(r);
            const b = parseBody(schemas.sign, r.body);
            const signature = sign(usableKey(key, "sign"), {
                message: Buffer.from(b.message, "base64"),
                alg: b.alg,
                isdigest: b.isdigest,
                format,
            });
            return { status: 200, body: { signature } };
        },
    },

    Verify: {
        handle: (r) => {
            const key = keyOf(r);
            const b = parseBody(schemas.verify, r.body);
            const result = verify(usableKey(key, "verify"), {
                message: b.message ? Buffer.from(b.message, "base64") : undefined,
                signature: b.signature,
                alg: b.alg,
                isdigest: b.isdigest,
            });
            return { status: 200, body: { result } };
        },
    },

    GenerateRandomBytes: {
        handle: (r) => {
            // `length` is optional and defaults to 1 (spec/ovh/okms-data-plane.openapi.json, GET /api/{okmsId}/v1/random).
            const length = Number(r.query.get("length") ?? "1");
            const { min, max } = DATA_PLANE_LIMITS.randomBytes;
            if (!Number.isInteger(length) || length < min || length > max) {
                throw badRequest(`length must be an integer between ${min} and ${max}`, DATA_PLANE_CATEGORY.argument);
            }
            return { status: 200, body: { bytes: crypto.randomBytes(length).toString("base64") } };
        },
    },
};
