/**
 * Test helpers for the emulator's PKI, key material and data plane: a minimal DER reader (so certificate profiles
 * are checked against the bytes, not against the library that wrote them) and a small in-memory emulator state.
 */
import * as crypto from "node:crypto";

import type { EmulatorState, StoredCredential, StoredOkms, StoredServiceKey } from "../../emulator/model";
import { createCa, issueCredentialCertificate } from "../../emulator/pki";
import { generateKeyMaterial } from "../../emulator/keys";
import { newServiceKey } from "../../emulator/management";
import type { KeyCurve, KeyOperation, KeyType } from "../../emulator/rules";
import { freshState } from "../../emulator/server";

/** One DER TLV: tag byte, content bytes, the whole encoding, and the parsed children of constructed values. */
export interface Der {
    tag: number;
    value: Buffer;
    raw: Buffer;
    children: Der[];
}

/** Parses one DER value at `offset` (definite lengths only, which DER guarantees). */
export function parseDer(buf: Buffer, offset = 0): Der {
    const tag = buf[offset];
    let lengthByte = buf[offset + 1];
    if (tag === undefined || lengthByte === undefined) {
        throw new Error(`truncated DER at ${offset}`);
    }
    let pos = offset + 2;
    let length = lengthByte;
    if (lengthByte & 0x80) {
        const n = lengthByte & 0x7f;
        length = 0;
        for (let i = 0; i < n; i++) {
            lengthByte = buf[pos++];
            if (lengthByte === undefined) {
                throw new Error("truncated DER length");
            }
            length = length * 256 + lengthByte;
        }
    }
    const value = buf.subarray(pos, pos + length);
    if (value.length !== length) {
        throw new Error("truncated DER value");
    }
    const constructed = (tag & 0x20) !== 0;
    const children: Der[] = [];
    if (constructed) {
        let p = 0;
        while (p < value.length) {
            const child = parseDer(value, p);
            children.push(child);
            p += child.raw.length;
        }
    }
    return { tag, value, raw: buf.subarray(offset, pos + length), children };
}

/** The i-th child, failing the test when absent. */
export function child(node: Der, i: number): Der {
    const c = node.children[i];
    if (c === undefined) {
        throw new Error(`DER node with tag ${node.tag.toString(16)} has no child ${i}`);
    }
    return c;
}

/** Dotted form of an OBJECT IDENTIFIER's content bytes. */
export function oidToString(value: Buffer): string {
    const first = value[0] ?? 0;
    const parts = [Math.floor(first / 40), first % 40];
    let acc = 0;
    for (const b of value.subarray(1)) {
        acc = acc * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) {
            parts.push(acc);
            acc = 0;
        }
    }
    return parts.join(".");
}

/** The DER of a PEM block. */
export function pemToDer(pem: string): Buffer {
    return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/** Emulator clock for tests: starts at the wall clock and can be moved forward. */
export class TestClock {
    offsetMs = 0;
    now(): number {
        return Date.now() + this.offsetMs;
    }
    advance(ms: number): void {
        this.offsetMs += ms;
    }
}

/** A credential's client-side material: what a user would configure in okms-cli. */
export interface ClientIdentity {
    credential: StoredCredential;
    certificatePem: string;
    privateKeyPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** An empty state with fresh public CA and server certificates (the emulator's own starting state). */
export async function emptyState(): Promise<EmulatorState> {
    return freshState();
}

/** Adds a KMS with its own credential CA. */
export async function addOkms(state: EmulatorState, region = "eu-west-rbx"): Promise<StoredOkms> {
    const id = crypto.randomUUID();
    const okms: StoredOkms = {
        id,
        region,
        displayName: `okms-${id.slice(0, 8)}`,
        iamId: id,
        serviceId: state.nextNumericId++,
        createdAt: new Date().toISOString(),
        pciDssEnabled: false,
        credentialCa: await createCa("CCMUsersCA"),
    };
    state.okms[id] = okms;
    return okms;
}

/** Adds a READY credential (OVH-generated key pair, or from `csrPem`) and returns what the client holds. */
export async function addCredential(
    state: EmulatorState,
    okms: StoredOkms,
    opts: { validityDays?: number; now?: number; certificateType?: "ECDSA" | "RSA" } = {},
): Promise<ClientIdentity> {
    const id = crypto.randomUUID();
    const createdAt = new Date(opts.now ?? Date.now());
    const expiredAt = new Date(createdAt.getTime() + (opts.validityDays ?? 30) * DAY_MS);
    const issued = await issueCredentialCertificate({
        ca: okms.credentialCa,
        okmsId: okms.id,
        credentialId: id,
        notBefore: createdAt,
        notAfter: expiredAt,
        certificateType: opts.certificateType,
    });
    const credential: StoredCredential = {
        id,
        okmsId: okms.id,
        name: "test",
        description: null,
        identityURNs: ["urn:v1:eu:identity:account:xx1111-ovh"],
        certificateType: issued.certificateType,
        fromCSR: false,
        createdAt: createdAt.toISOString(),
        expiredAt: expiredAt.toISOString(),
        readyAt: createdAt.getTime(),
        certificatePem: issued.certificatePem,
    };
    state.credentials[id] = credential;
    if (issued.privateKeyPem === undefined) {
        throw new Error("expected an OVH-generated private key");
    }
    return { credential, certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem };
}

/** Adds an ACTIVE service key with generated material. */
export function addServiceKey(
    state: EmulatorState,
    okms: StoredOkms,
    spec: { type: KeyType; size?: number | null; curve?: KeyCurve | null; operations: KeyOperation[]; name?: string },
): StoredServiceKey {
    const material = {
        type: spec.type,
        size: spec.type === "EC" ? null : (spec.size ?? (spec.type === "oct" ? 256 : 2048)),
        curve: spec.type === "EC" ? (spec.curve ?? "P-256") : null,
        operations: spec.operations,
        jwk: generateKeyMaterial(spec),
    };
    const key = newServiceKey(
        okms.id,
        crypto.randomUUID(),
        spec.name ?? `key-${spec.type}`,
        null,
        material,
        new Date().toISOString(),
    );
    state.serviceKeys[key.id] = key;
    return key;
}
