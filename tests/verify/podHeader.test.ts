/**
 * verify against any app: the pod that answered comes from a response header (the one the
 * package's routes set for existing Services), not from the demo app's JSON body.
 */
import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { verifyStickiness } from "../../verify/run";
import { parseVerifyOptions } from "../../verify/options";
import { parseVerifyArgs } from "../../verify/cli";

/** An app that answers plain text; it names a "pod" by the x-user header's hash, in `header` when given. */
async function startApp(header?: string): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
        const user = String(req.headers["x-user"] ?? "");
        const pod = `10.244.0.${[...user].reduce((n, c) => n + c.charCodeAt(0), 0) % 3}:8080`;
        res.writeHead(200, { "content-type": "text/plain", ...(header ? { [header]: pod } : {}) });
        res.end("hello from an app that is not the demo app\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/cart/`,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

describe("verify --pod-header (any app, on 127.0.0.1)", function () {
    this.timeout(30_000);

    it("takes the pod from the header and measures stickiness over the pods it names", async () => {
        const app = await startApp("x-istio-sticky-pod");
        try {
            const opts = parseVerifyArgs([
                "--url",
                app.url,
                "--mode",
                "header",
                "--key",
                "x-user",
                "--pod-header",
                "x-istio-sticky-pod",
                "--sessions",
                "30",
            ]);
            assert.equal(opts.podHeader, "x-istio-sticky-pod");
            const r = await verifyStickiness(opts);
            assert.equal(r.errors, 0, JSON.stringify(r.errorKinds));
            assert.equal(r.stickiness, 1);
            assert.ok(Object.keys(r.distribution.requestsByPod).every((p) => /^10\.244\.0\.[0-2]:8080$/.test(p)));
            assert.ok(
                Object.keys(r.distribution.requestsByPod).length >= 2,
                "the sessions spread over the pods the header names",
            );
        } finally {
            await app.close();
        }
    });

    it("reports each answer without the header, and a body that is no demo app's without the flag", async () => {
        const app = await startApp();
        try {
            const without = await verifyStickiness(
                parseVerifyOptions({
                    url: app.url,
                    mode: "header",
                    sessions: 2,
                    requests: 3,
                    podHeader: "x-istio-sticky-pod",
                }),
            );
            assert.deepEqual(without.errorKinds, { "no x-istio-sticky-pod header": 6 });
            const body = await verifyStickiness(
                parseVerifyOptions({ url: app.url, mode: "header", sessions: 2, requests: 3 }),
            );
            assert.deepEqual(body.errorKinds, { "bad body": 6 });
        } finally {
            await app.close();
        }
    });

    it("refuses a header name that is not lower-case", () => {
        assert.throws(
            () => parseVerifyArgs(["--url", "http://127.0.0.1/", "--pod-header", "X-Pod"]),
            /must be a lower-case header name/,
        );
    });
});
