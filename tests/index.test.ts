import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, Recorder, settle, valueOf } from "./support/mocks";
import { PROJECT_DIR, readStackConfig } from "../cli/stackFiles";

/** Loads the program with a stack's config, as `pulumi up -s <stack>` would. */
function runProgram(config: Record<string, unknown>): Record<string, pulumi.Output<any> | string> {
    // Pulumi hands structured values to the program as JSON text.
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));
    const path = require.resolve("../index");
    delete require.cache[path];
    return require(path);
}

describe("index.ts (the program, under Pulumi mocks)", () => {
    const rec = new Recorder();
    before(() => installMocks(rec, { gatewayService: { type: "NodePort" } }));
    beforeEach(() => rec.reset());
    after(() => pulumi.runtime.setAllConfig({}));

    it("deploys the dev stack and exports the ingress and the app", async () => {
        const out = runProgram(readStackConfig(PROJECT_DIR, "dev"));
        const apps = await valueOf(out.apps as pulumi.Output<any>);
        const ingress = await valueOf(out.ingress as pulumi.Output<any>);
        await settle(rec);
        assert.equal(ingress.type, "NodePort");
        assert.deepEqual(Object.keys(apps), ["sticky"]);
        assert.match(apps.sticky.affinity, /header x-user/);
        assert.equal(out.istioVersion, "1.30.5");
        assert.deepEqual(await valueOf(out.pods as pulumi.Output<any>), { sticky: [{ name: "sticky-7d9f-a", ip: "10.244.1.11" }, { name: "sticky-7d9f-b", ip: "10.244.2.12" }] });
        assert.equal(apps.sticky.directCurls.length, 2);
        assert.equal(rec.byNameOf("sticky-mesh-gateway").inputs.values.service.type, "NodePort");
        assert.equal(rec.byNameOf("sticky-sticky-deployment").inputs.spec.replicas, 3);
    });

    it("stops on an unknown config key before registering anything", async () => {
        assert.throws(() => runProgram({ "istio-sticky:apps": [{ name: "a" }], "istio-sticky:mesh:": {} }), /istio-sticky:mesh:: unknown config key/);
        await settle(rec);
        assert.equal(rec.resources.length, 0);
    });
});
