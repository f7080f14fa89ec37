/**
 * Builds (or finds in the cache) everything the cluster tests run, while the Go module proxy and
 * the npm registry can still be reached: the cluster tests themselves run inside a network
 * namespace of their own (lab/cluster/netns.sh), where nothing outside is reachable.
 *
 *   npx tsx lab/cluster/prepare.ts
 *
 * Prints each part's versions and how long it took (0 s: from the cache).
 */
import * as path from "path";
import { ensureHelm } from "../charts";
import { ensureArtifacts } from "./artifacts";
import { ensureCertManager } from "./certmanager";
import { ensureControlPlane } from "./controlplane";
import { ensureIstiod, istioChartDirs } from "./istiod";
import { preparePrograms } from "./programs";
import { ensurePulumiToolchain } from "./toolchain";

function step<T>(what: string, f: () => T, describe: (r: T) => string): T {
    const started = performance.now();
    const r = f();
    console.log(`${what}: ${describe(r)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return r;
}

const built = (r: { cached: boolean; seconds: number }) => (r.cached ? "cached" : `built in ${r.seconds.toFixed(1)} s`);

async function main(): Promise<void> {
    const toolchain = step(
        "Pulumi toolchain",
        ensurePulumiToolchain,
        (t) =>
            `pulumi ${t.versions.pulumi}, kubernetes provider ${t.versions.kubernetes.reports}, ${built(t)}, ${t.bin}`,
    );
    step(
        "control plane",
        ensureControlPlane,
        (c) =>
            `Kubernetes ${c.versions.kubernetes}, etcd ${c.versions.etcd}, kwok ${c.versions.kwok}, ${c.versions.go}, ${built(c)}, ${c.bin}`,
    );
    step(
        "istiod",
        ensureIstiod,
        (i) => `pilot-discovery ${i.version} (istio.io/istio ${i.versions.module}), ${built(i)}, ${i.bin}`,
    );
    step("Istio charts", istioChartDirs, (c) => c.module);
    step("helm (the lab's, for helm template)", ensureHelm, (h) => h);
    const certManager = step(
        "cert-manager",
        ensureCertManager,
        (c) =>
            `controller, webhook and cainjector ${c.versions.certManager.module}, component plugin ${c.versions.plugin.reports}, ${built(c)}, ${c.bin}`,
    );
    step(
        "artifacts",
        ensureArtifacts,
        (a) =>
            `Istio charts ${a.versions.istio.release}, cert-manager chart ${a.versions.certManager}, Gateway API ${a.versions.gatewayApi.join(", ")}, helm ${a.versions.helm}, ${built(a)}, ${a.dir}`,
    );
    // The example programs, made runnable offline: each language's SDK generated and installed (PyPI, the Go module proxy).
    const started = performance.now();
    const programs = await preparePrograms(
        toolchain.bin,
        [
            {
                name: "kubernetes",
                version: toolchain.versions.kubernetes.reports,
                file: path.join(toolchain.bin, "pulumi-resource-kubernetes"),
            },
            {
                name: "kubernetes-cert-manager",
                version: certManager.versions.plugin.reports,
                file: path.join(certManager.bin, "pulumi-resource-kubernetes-cert-manager"),
            },
        ],
        [certManager.bin],
    );
    console.log(
        `example programs: ${programs.map((p) => `${p.language} ${p.seconds.toFixed(0)} s (${p.commands.map((c) => c.command).join(", ") || "nothing to prepare"})`).join("; ")} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
}

main().catch((e) => {
    console.error((e as Error).message);
    process.exitCode = 1;
});
