/**
 * The lab's Envoy runs with the runtime istio-agent would give the gateway's Envoy at the lab's Istio
 * version: the bootstrap's layers come from Istio's own code (pkg/bootstrap, through the xds program),
 * flag by flag, and the running Envoy reports them (admin /runtime). Envoy 1.40 alone turns
 * coalesce_lb_rebuilds_on_batch_update on, which Istio turns off (pkg/bootstrap/config.go, citing
 * envoyproxy/envoy#45212: new endpoints got no traffic after a scale-up).
 */
import { strict as assert } from "assert";
import { buildPlan, parseStackConfig } from "istio-sticky";
import { readStackConfig } from "istio-sticky/stack-files";
import { ensureEnvoy, PROJECT_DIR } from "../build";
import { agentRuntime, gatewayBootstrap, startEnvoy } from "../envoy";
import { onLabAddresses } from "../run";
import { buildWorld, type LabWorld } from "../world";
import { generateXds, type ProxyConfig } from "../xds";

const COALESCE = "envoy.reloadable_features.coalesce_lb_rebuilds_on_batch_update";

/** The flags of a runtime's static layers, as Envoy's admin reports values: strings. */
function staticFlags(runtime: any): Record<string, string> {
    const layers = (runtime.layers as any[]).filter((l) => l.static_layer);
    return Object.fromEntries(layers.flatMap((l) => Object.entries(l.static_layer).map(([k, v]) => [k, String(v)])));
}

/** What Envoy's admin says each of these runtime keys is. */
async function liveFlags(adminPort: number, keys: string[]): Promise<Record<string, string | undefined>> {
    const res = await fetch(`http://127.0.0.1:${adminPort}/runtime`);
    const body = (await res.json()) as { entries: Record<string, { final_value?: string }> };
    return Object.fromEntries(keys.map((k) => [k, body.entries[k]?.final_value]));
}

describe("the lab's Envoy runs with istio-agent's runtime", function () {
    this.timeout(20 * 60_000);
    let gateway: ProxyConfig;
    let world: LabWorld;

    before(() => {
        const { settings } = onLabAddresses(parseStackConfig(readStackConfig(PROJECT_DIR, "dev")).value);
        const plan = buildPlan(settings, { demoAppSource: "lab" });
        world = buildWorld(plan, { name: "dev" });
        const [result] = generateXds([world.xds]);
        assert.equal(result.error, undefined);
        gateway = result.proxies.gateway;
    });

    it("takes the layers of the bootstrap Istio's own code writes for the gateway, flag by flag", () => {
        const agent = gateway.bootstrap.layered_runtime;
        const lab = gatewayBootstrap(gateway, world, { 80: 1, 443: 2 }, 3).layered_runtime;
        assert.deepEqual(lab, agent);
        assert.deepEqual(
            agent.layers.map((l: any) => l.name),
            ["global config", "admin"],
        );
        assert.equal(staticFlags(agent)[COALESCE], "false");
        assert.throws(() => agentRuntime({ ...gateway, bootstrap: undefined }), /holds no bootstrap runtime/);
    });

    it("the running Envoy reports Istio's flags; a bootstrap without them leaves Envoy's own defaults", async () => {
        const envoy = ensureEnvoy().path;
        const want = staticFlags(gateway.bootstrap.layered_runtime);
        const running = await startEnvoy(envoy, gateway, world);
        try {
            assert.deepEqual(await liveFlags(running.adminPort, Object.keys(want)), want);
        } finally {
            await running.stop();
        }
        // The check can fail: a bootstrap without Istio's layer leaves every such flag to Envoy's compiled default
        // (admin /runtime lists no entry for it), and 1.40's default for coalescing is on.
        const bare = { ...gateway, bootstrap: { layered_runtime: { layers: [{ name: "admin", admin_layer: {} }] } } };
        const plain = await startEnvoy(envoy, bare, world);
        try {
            const live = await liveFlags(plain.adminPort, Object.keys(want));
            assert.notDeepEqual(live, want);
            assert.equal(live[COALESCE], undefined);
        } finally {
            await plain.stop();
        }
    });
});
