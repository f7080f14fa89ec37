/**
 * `npm run test:cluster`: the package's program through the real Pulumi CLI and Kubernetes
 * provider, against a real API server, all built here (lab/cluster). Each step of the
 * scenario (lab/cluster/harness.ts) is a test. It runs when ISTIO_STICKY_CLUSTER is set
 * (npm run test:cluster sets it): the first run builds for many minutes.
 */
import { strict as assert } from "assert";
import { ensurePulumiToolchain } from "../../lab/cluster/toolchain";
import { ensureControlPlane, startCluster } from "../../lab/cluster/controlplane";
import { runHarness, STEP, type HarnessRun } from "../../lab/cluster/harness";

describe("pulumi up for real, offline: the Pulumi CLI, the Kubernetes provider and an API server built here", function () {
    this.timeout(120 * 60_000);
    let run: HarnessRun | undefined;
    let stop: (() => Promise<void>) | undefined;

    before(async function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log("      skipped: set ISTIO_STICKY_CLUSTER=1 (npm run test:cluster does) to build and run the harness");
            this.skip();
        }
        const toolchain = ensurePulumiToolchain();
        const controlPlane = ensureControlPlane();
        const cluster = await startCluster();
        stop = cluster.stop;
        run = await runHarness(cluster, toolchain.bin);
        const built = (b: { cached: boolean; seconds: number }) => (b.cached ? "cached" : `built in ${b.seconds.toFixed(0)} s`);
        console.log(
            `      ${run.pulumiVersion}; Kubernetes ${cluster.version}; toolchain ${built(toolchain)}, control plane ${built(controlPlane)}\n` +
                run.steps.map((s) => `      ${s.ok ? "ok  " : "FAIL"} ${s.name} (${s.seconds.toFixed(1)} s)`).join("\n"),
        );
    });

    after(async () => {
        await stop?.();
    });

    for (const name of Object.values(STEP)) {
        it(name, () => {
            const s = run!.steps.find((x) => x.name === name);
            assert.ok(
                s,
                `not reached: an earlier step failed (${run!.steps
                    .filter((x) => !x.ok)
                    .map((x) => x.name)
                    .join(", ")})`,
            );
            assert.ok(s.ok, s.detail);
        });
    }
});
