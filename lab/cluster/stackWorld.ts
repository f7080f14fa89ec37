/**
 * What a shipped stack runs with around a started cluster: the artifact server (charts through the
 * stacks' mirror settings), the real istiod and cert-manager for their pods, the load balancer
 * stand-in and the Job gates. The cluster harness's shipped-stack scenarios and the live runs
 * (lab/live) start the same one.
 */
import * as path from "path";
import { ensureArtifacts, ensureHelm, serveArtifacts, type ArtifactServer } from "./artifacts";
import { CERT_MANAGER_PROGRAMS, ensureCertManager } from "./certmanager";
import type { Cluster } from "./controlplane";
import { ensureIstiod, istiodPodProgram } from "./istiod";
import { startJobGates } from "./jobs";
import { startLoadBalancerStub } from "./loadBalancer";
import { startPodProcesses, type PodProcesses, type PodProgram } from "./podProcesses";

export const ISTIOD_PROGRAM = "istiod";

export interface StackWorld {
    served: ArtifactServer;
    /** The Istio release whose charts and istiod are built here. */
    istioRelease: string;
    /** The helm executable the checks list releases with. */
    helm: string;
    /** Plugin folders for the Pulumi CLI (cert-manager's component plugin). */
    plugins: string[];
    processes: PodProcesses;
    /** How each part was got: "; istiod cached, cert-manager built in 900 s, …". */
    describe: string;
    stop(): Promise<void>;
    logs(): string;
}

const built = (b: { cached: boolean; seconds: number }) => (b.cached ? "cached" : `built in ${b.seconds.toFixed(0)} s`);

/**
 * Starts the world around `cluster`. `served` reuses an artifact server already running; `programs`
 * adds pod programs (the live runs' demo app); `istiodPerPod` runs istiod as a per-pod program
 * (restarted after `hold`/`release`, its readiness written back).
 */
export async function startStackWorld(
    cluster: Cluster,
    opts: { served?: ArtifactServer; programs?: Record<string, PodProgram>; istiodPerPod?: boolean } = {},
): Promise<StackWorld> {
    const artifacts = ensureArtifacts();
    const helm = ensureHelm();
    const istiod = ensureIstiod();
    const certManager = ensureCertManager();
    const served = opts.served ?? (await serveArtifacts(artifacts.dir));
    const programs: Record<string, PodProgram> = {
        [ISTIOD_PROGRAM]: { ...istiodPodProgram(istiod.bin), ...(opts.istiodPerPod ? { perPod: true } : {}) },
    };
    for (const [name, p] of Object.entries(CERT_MANAGER_PROGRAMS)) {
        programs[`cert-manager-${name}`] = {
            bin: path.join(certManager.bin, p.binary),
            image: p.image,
            extraArgs: (ctx) => p.extraArgs(ctx.kubeconfig),
            env: (ctx) => p.extraEnv(ctx.kubeconfig),
        };
    }
    const processes = startPodProcesses({ kubectl: cluster, programs: { ...programs, ...opts.programs } });
    const lb = startLoadBalancerStub(cluster);
    const jobs = startJobGates(cluster);
    return {
        served,
        istioRelease: artifacts.versions.istio.release,
        helm: helm.helm,
        plugins: [certManager.bin],
        processes,
        describe: `; istiod ${built(istiod)}, cert-manager ${built(certManager)}, charts ${built(artifacts)}`,
        stop: async () => {
            await jobs.stop();
            await lb.stop();
            await processes.stop();
            if (!opts.served) await served.close();
        },
        logs: () => `${processes.logs()}\nload balancer: ${lb.assigned().join(", ")}\njobs: ${jobs.done().join(", ")}`,
    };
}
