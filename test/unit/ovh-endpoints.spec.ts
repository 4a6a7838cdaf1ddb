import * as assert from "node:assert/strict";
import * as path from "node:path";

import { buildOvhUrl, isOvhConfigError, OVH_ENDPOINTS, packageVersion, resolveEndpoint } from "../../provider/ovh";

describe("ovh endpoints", () => {
    const table: [string, string, string, string | undefined][] = [
        ["ovh-eu", "https://eu.api.ovh.com", "eu", "https://www.ovh.com/auth/oauth2/token"],
        ["ovh-ca", "https://ca.api.ovh.com", "ca", "https://ca.ovh.com/auth/oauth2/token"],
        ["ovh-us", "https://api.us.ovhcloud.com", "us", "https://us.ovhcloud.com/auth/oauth2/token"],
        ["kimsufi-eu", "https://eu.api.kimsufi.com", "eu", undefined],
        ["kimsufi-ca", "https://ca.api.kimsufi.com", "ca", undefined],
        ["soyoustart-eu", "https://eu.api.soyoustart.com", "eu", undefined],
        ["soyoustart-ca", "https://ca.api.soyoustart.com", "ca", undefined],
    ];

    it("knows exactly the seven named endpoints", () => {
        assert.deepEqual(Object.keys(OVH_ENDPOINTS).sort(), table.map(([name]) => name).sort());
    });

    for (const [name, root, plate, tokenUrl] of table) {
        it(`${name} → ${root}/1.0, plate ${plate}`, () => {
            const ep = resolveEndpoint(name);
            assert.equal(ep.name, name);
            assert.equal(ep.v1Base, `${root}/1.0`);
            assert.equal(ep.v2Base, `${root}/v2`);
            assert.equal(ep.plate, plate);
            assert.equal(ep.tokenUrl, tokenUrl);
        });
    }

    it("accepts a full URL with or without /1.0 or a trailing slash (plate eu)", () => {
        for (const url of [
            "http://127.0.0.1:4567",
            "http://127.0.0.1:4567/",
            "http://127.0.0.1:4567/1.0",
            "http://127.0.0.1:4567/1.0/",
        ]) {
            const ep = resolveEndpoint(url);
            assert.equal(ep.name, undefined);
            assert.equal(ep.root, "http://127.0.0.1:4567", url);
            assert.equal(ep.v1Base, "http://127.0.0.1:4567/1.0");
            assert.equal(ep.plate, "eu");
            assert.equal(ep.tokenUrl, "http://127.0.0.1:4567/auth/oauth2/token");
        }
        const prefixed = resolveEndpoint("https://proxy.example/ovh/1.0");
        assert.equal(prefixed.root, "https://proxy.example/ovh");
        assert.equal(prefixed.tokenUrl, "https://proxy.example/auth/oauth2/token");
    });

    it("rejects names and URLs it does not know", () => {
        for (const bad of ["ovh-mars", "ftp://host/1.0", "http://host/1.0?x=1", ""]) {
            assert.throws(
                () => resolveEndpoint(bad),
                (e: unknown) => isOvhConfigError(e) && /OVH_ENDPOINT/.test(e.message),
                bad,
            );
        }
    });

    it("maps paths: /v2 and /v1 at the host root, anything else under /1.0", () => {
        const eu = resolveEndpoint("ovh-eu");
        assert.equal(buildOvhUrl(eu, "/v2/okms/resource"), "https://eu.api.ovh.com/v2/okms/resource");
        assert.equal(buildOvhUrl(eu, "/v1/me"), "https://eu.api.ovh.com/v1/me");
        assert.equal(buildOvhUrl(eu, "/auth/time"), "https://eu.api.ovh.com/1.0/auth/time");
        assert.equal(buildOvhUrl(eu, "/v2"), "https://eu.api.ovh.com/v2");
        assert.equal(buildOvhUrl(eu, "/v2ish/x"), "https://eu.api.ovh.com/1.0/v2ish/x");
        const local = resolveEndpoint("http://127.0.0.1:4567/1.0");
        assert.equal(buildOvhUrl(local, "/order/cart"), "http://127.0.0.1:4567/1.0/order/cart");
        assert.equal(buildOvhUrl(local, "/v2/okms/resource"), "http://127.0.0.1:4567/v2/okms/resource");
        assert.throws(() => buildOvhUrl(eu, "v2/okms"), TypeError);
    });

    it("encodes the query and drops undefined values", () => {
        const eu = resolveEndpoint("ovh-eu");
        assert.equal(
            buildOvhUrl(eu, "/v2/okms/resource/x", { publicCA: true, n: 3, skip: undefined, q: "a b&c=é" }),
            "https://eu.api.ovh.com/v2/okms/resource/x?publicCA=true&n=3&q=a+b%26c%3D%C3%A9",
        );
        assert.equal(buildOvhUrl(eu, "/me", { skip: undefined }), "https://eu.api.ovh.com/1.0/me");
        assert.equal(buildOvhUrl(eu, "/me?a=1", { b: 2 }), "https://eu.api.ovh.com/1.0/me?a=1&b=2");
    });

    it("reads the package version from package.json, from sources or a deeper build directory", () => {
        const expected = (require("../../package.json") as { version: string }).version;
        assert.equal(packageVersion(), expected);
        const root = path.resolve(__dirname, "../..");
        assert.equal(packageVersion(path.join(root, "dist", "provider", "ovh")), expected);
        assert.equal(packageVersion("/"), "0.0.0-unknown");
    });
});
