/**
 * `npm run test:cluster`: the package's program through the real Pulumi CLI and Kubernetes
 * provider, against a real API server, all built here (lab/cluster). Each step of a scenario
 * (lab/cluster/harness.ts) is a test:
 *
 * - an Istio that is already installed, with an existing Service of a team's own;
 * - the shipped stacks dev, staging and ambient (lab/cluster/stacks.ts), installing Istio and
 *   cert-manager with Helm from the loopback artifact server, with the real istiod and
 *   cert-manager running for their pods. These run inside the network namespace of
 *   lab/cluster/netns.sh, where the API server reaches the webhooks at their pods' IPs.
 *
 * It runs when ISTIO_STICKY_CLUSTER is set (npm run test:cluster sets it): the first run builds for many minutes.
 */
import { ensureArtifacts, serveArtifacts, type ArtifactServer } from "../../cluster/artifacts";
import { ensureControlPlane, startCluster, type Cluster, type ClusterOptions } from "../../cluster/controlplane";
import { EXISTING_ISTIO, runScenario, stepsOf, type HarnessRun, type Scenario } from "../../cluster/harness";
import { SHIPPED_STACKS, shippedScenario } from "../../cluster/stacks";
import { startStackWorld } from "../../cluster/stackWorld";
import { ensurePulumiToolchain } from "../../cluster/toolchain";
import { assertStepPassed, stepLines } from "../support/steps";

const built = (b: { cached: boolean; seconds: number }) => (b.cached ? "cached" : `built in ${b.seconds.toFixed(0)} s`);

/** What a scenario runs with besides the cluster: the scenario itself, plugins for the CLI, and what to stop afterwards. */
interface World {
    scenario: Scenario;
    plugins: string[];
    describe: string;
    stop(): Promise<void>;
    logs(): string;
}

/** Registers one scenario's steps as tests; `world` sets up around a started cluster (or says why it cannot run). */
function scenarioSuite(
    title: string,
    steps: string[],
    world: (cluster: Cluster) => Promise<World>,
    unavailable: () => string | undefined = () => undefined,
    options: ClusterOptions = {},
) {
    describe(title, function () {
        this.timeout(120 * 60_000);
        let run: HarnessRun | undefined;
        let cluster: Cluster | undefined;
        let w: World | undefined;

        before(async function () {
            if (!process.env.ISTIO_STICKY_CLUSTER) {
                console.log(
                    "      skipped: set ISTIO_STICKY_CLUSTER=1 (npm run test:cluster does) to build and run the harness",
                );
                this.skip();
            }
            const why = unavailable();
            if (why) {
                console.log(`      skipped: ${why}`);
                this.skip();
            }
            const toolchain = ensurePulumiToolchain();
            const controlPlane = ensureControlPlane();
            cluster = await startCluster(options);
            w = await world(cluster);
            run = await runScenario(w.scenario, cluster, toolchain.bin, w.plugins);
            console.log(
                `      ${run.pulumiVersion}; Kubernetes ${cluster.version}; toolchain ${built(toolchain)}, control plane ${built(controlPlane)}${w.describe}\n` +
                    stepLines(run.steps),
            );
            if (run.steps.some((s) => !s.ok) && process.env.ISTIO_STICKY_CLUSTER_LOGS) console.log(w.logs());
        });

        after(async () => {
            await w?.stop();
            await cluster?.stop();
        });

        for (const name of steps) {
            it(name, () => assertStepPassed(run!.steps, name));
        }
    });
}

describe("pulumi up for real, offline: the Pulumi CLI, the Kubernetes provider and an API server built here", function () {
    scenarioSuite(
        "with Istio already installed, and an existing Service of the team's",
        stepsOf(EXISTING_ISTIO),
        async () => ({
            scenario: EXISTING_ISTIO,
            plugins: [],
            describe: "",
            stop: async () => undefined,
            logs: () => "",
        }),
    );

    let served: ArtifactServer | undefined;
    after(async () => served?.close());

    for (const stack of SHIPPED_STACKS) {
        // The steps are known before anything runs: the scenario's shape does not depend on the server's address.
        const shape = shippedScenario(
            stack,
            {
                istioChartRepository: "",
                certManagerChartRepository: "",
                gatewayApiCrdsRepository: "",
            } as ArtifactServer,
            "",
            "",
        );
        const title = `the shipped stack ${stack}: Istio and cert-manager installed with Helm, the real istiod and cert-manager answering`;
        const outsideNamespace = () =>
            process.env.ISTIO_STICKY_NETNS
                ? undefined
                : "run inside lab/cluster/netns.sh (npm run test:cluster does): the API server calls the webhooks at pod IPs";
        scenarioSuite(
            title,
            stepsOf(shape),
            async (cluster) => {
                served ??= await serveArtifacts(ensureArtifacts().dir);
                const w = await startStackWorld(cluster, { served });
                return {
                    scenario: shippedScenario(stack, served, w.istioRelease, w.helm),
                    plugins: w.plugins,
                    describe: w.describe,
                    stop: w.stop,
                    logs: w.logs,
                };
            },
            outsideNamespace,
            { gatedJobs: true },
        );
    }
});
