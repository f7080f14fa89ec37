/**
 * `npm run -s live -- --stack <name> [--json] [--sabotage]`: the live scenarios (lab/live/run.ts)
 * for one shipped stack's apps and one demo app per affinity mode, printed as one table (or, with
 * --json, as {stack, istio, envoy, scenarios: [...]}).
 *
 * Builds what is missing first (the harness's toolchain, control plane, istiod, cert-manager, charts,
 * Envoy, the relay), while the registries can be reached, then runs itself again inside the
 * harness's network namespace (lab/cluster/netns.sh: needs root), where the cluster, the pods'
 * processes and every request live. Progress goes to stderr; the table or JSON to stdout.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ensureEnvoy, ensureRelay, ensureXds, envoyVersion, LAB_DIR } from "../build";
import { ensureArtifacts, ensureHelm } from "../cluster/artifacts";
import { ensureCertManager } from "../cluster/certmanager";
import { ensureControlPlane, startCluster } from "../cluster/controlplane";
import { ensureIstiod, istioChartDirs } from "../cluster/istiod";
import { ISTIOD_PROGRAM, startStackWorld } from "../cluster/stackWorld";
import { ensurePulumiToolchain } from "../cluster/toolchain";
import { demoAppPodProgram, PROBED_IMAGES } from "./apps";
import { runLive, type LiveRun } from "./run";
import { formatLiveTable } from "./table";

export const LIVE_USAGE = `usage: npm run -s live -- --stack <name> [--json] [--sabotage]
  --stack <name>   a shipped stack (stacks/Pulumi.<name>.yaml) whose Istio, ingress API and apps the run deploys,
                   with one demo app per affinity mode added
  --json           print {stack, istio, envoy, scenarios: [...]} instead of the table
  --sabotage       also remove the header app's hash through pulumi up (its stickiness must drop)`;

export interface LiveArgs {
    stack: string;
    json: boolean;
    sabotage: boolean;
}

export function parseLiveArgs(argv: string[]): LiveArgs {
    const out: LiveArgs = { stack: "", json: false, sabotage: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") out.json = true;
        else if (a === "--sabotage") out.sabotage = true;
        else if (a === "--stack" && argv[i + 1]) out.stack = argv[++i];
        else if (a.startsWith("--stack=")) out.stack = a.slice("--stack=".length);
        else throw new Error(`unknown argument ${a}\n${LIVE_USAGE}`);
    }
    if (!out.stack) throw new Error(`--stack is required\n${LIVE_USAGE}`);
    return out;
}

/** Builds (or finds cached) everything the run needs, logging to stderr. */
function prepare(): void {
    const parts: [string, () => unknown][] = [
        ["Pulumi toolchain", ensurePulumiToolchain],
        ["control plane", ensureControlPlane],
        ["istiod", ensureIstiod],
        ["Istio charts", istioChartDirs],
        ["helm", ensureHelm],
        ["cert-manager", ensureCertManager],
        ["artifacts", ensureArtifacts],
        ["Envoy", ensureEnvoy],
        ["xds", ensureXds],
        ["relay", ensureRelay],
    ];
    for (const [what, f] of parts) {
        const t = performance.now();
        f();
        process.stderr.write(`${what}: ready (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
    }
}

/** The run itself, inside the network namespace. */
export async function liveInNamespace(args: LiveArgs, log: (s: string) => void): Promise<LiveRun> {
    const toolchain = ensurePulumiToolchain();
    const cluster = await startCluster({ gatedJobs: true, probedImages: PROBED_IMAGES });
    const world = await startStackWorld(cluster, { programs: { "demo-app": demoAppPodProgram() }, istiodPerPod: true });
    // Interrupted: the cluster and every pod's process end with the run.
    const interrupted = (signal: NodeJS.Signals) => {
        log(`${signal}: stopping the cluster`);
        void world
            .stop()
            .then(() => cluster.stop())
            .finally(() => process.exit(130));
    };
    process.once("SIGINT", interrupted).once("SIGTERM", interrupted);
    try {
        return await runLive(
            {
                kubectl: cluster,
                pulumiBin: toolchain.bin,
                plugins: world.plugins,
                served: world.served,
                istioRelease: world.istioRelease,
                envoyVersion: envoyVersion(ensureEnvoy().path),
                processes: world.processes,
                istiodProgram: ISTIOD_PROGRAM,
            },
            args.stack,
            { sabotage: args.sabotage, log },
        );
    } catch (e) {
        if (process.env.ISTIO_STICKY_CLUSTER_LOGS) log(world.logs());
        throw e;
    } finally {
        await world.stop();
        await cluster.stop();
    }
}

async function main(argv: string[]): Promise<number> {
    let args: LiveArgs;
    try {
        args = parseLiveArgs(argv);
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        return 2;
    }
    if (!process.env.ISTIO_STICKY_NETNS) {
        prepare();
        const r = spawnSync(
            "bash",
            [path.join(LAB_DIR, "cluster", "netns.sh"), process.execPath, "--import", "tsx", __filename, ...argv],
            { stdio: "inherit" },
        );
        return r.status ?? 1;
    }
    const run = await liveInNamespace(args, (s) => process.stderr.write(`${s}\n`));
    process.stdout.write(args.json ? `${JSON.stringify(run, null, 2)}\n` : `${formatLiveTable(run)}\n`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`${(e as Error).stack ?? e}\n`);
            process.exit(1);
        },
    );
}
