/** `npm run lab -- --stack <name> [--json]`: the documented JSON document, the text report, and usage errors. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runLabCommand } from "../cli";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await runLabCommand(argv, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
}

describe("npm run lab", function () {
    this.timeout(30 * 60_000);

    it("--json prints one document in the documented shape", async () => {
        const r = await run(["--stack", "prod", "--json"]);
        assert.equal(r.code, 0, r.err);
        const doc = JSON.parse(r.out);
        assert.deepEqual(Object.keys(doc).slice(0, 5), ["stack", "dataplane", "istio", "envoy", "apps"]);
        assert.deepEqual([doc.stack, doc.dataplane, doc.istio], ["prod", "sidecar", "1.31.4"]);
        assert.match(doc.envoy, /^\d+\.\d+\.\d+$/);
        const [app] = doc.apps;
        assert.deepEqual([app.name, app.mode, app.xds], ["sticky", "persistentCookie", { ok: true, problems: [] }]);
        assert.deepEqual(Object.keys(app.envoy).slice(0, 7), [
            "sessions",
            "pods",
            "stickiness",
            "worstSession",
            "podsUsed",
            "movedOnScaleUp",
            "requestsByPod",
        ]);
        assert.equal(app.envoy.stickiness, 1);
        assert.equal(app.envoy.movedOnScaleUp, 0);
        assert.match(doc.istioControlPlane.commit, /^[0-9a-f]{12}$/);
    });

    it("prints per app what Envoy got, whether it matches, the figures; --xds-only omits envoy and says why; --out writes the configuration", async () => {
        const text = await run(["--stack", "dev"]);
        assert.equal(text.code, 0, text.err);
        assert.match(
            text.out,
            /^stack dev: sidecar data plane, Istio 1\.31\.4; xDS from istiod 1\.31\.0 \(istio\/istio@[0-9a-f]{12}\), run by Envoy \d+\.\d+\.\d+/,
        );
        assert.match(
            text.out,
            /envoy got {3}gateway: 4 routes, hash_policy \[\{"header":\{"header_name":"x-user"\}\}\], RING_HASH, ORIGINAL_DST passthrough/,
        );
        assert.match(text.out, /scale-up {4}3 → 4 pods: \d+\.\d % of sessions moved/);
        assert.match(text.out, /result: PASS\n$/);

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-lab-out-"));
        try {
            const xds = await run(["--stack", "ambient", "--json", "--xds-only", "--out", dir]);
            assert.equal(xds.code, 0, xds.err);
            const doc = JSON.parse(xds.out);
            for (const a of doc.apps) {
                assert.equal(a.envoy, undefined);
                assert.match(a.notMeasured, /--xds-only/);
            }
            assert.deepEqual(fs.readdirSync(dir).sort(), [
                "gateway-envoy-bootstrap.json",
                "gateway.json",
                "waypoint-carts-waypoint.json",
                "waypoint-sticky-waypoint.json",
            ]);
            const bootstrap = JSON.parse(fs.readFileSync(path.join(dir, "gateway-envoy-bootstrap.json"), "utf8"));
            assert.ok(bootstrap.static_resources.clusters.some((c: any) => c.lb_policy === "MAGLEV"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a missing or unknown stack with exit status 2", async () => {
        const none = await run([]);
        assert.equal(none.code, 2);
        assert.match(none.err, /--stack is required \(one of ambient, dev, prod, staging\)/);
        const unknown = await run(["--stack", "nope"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /nope/);
        assert.equal((await run(["--bogus"])).code, 2);
    });
});
