/**
 * A load balancer for the harness's cluster, as k3s's ServiceLB does it: every Service of type
 * LoadBalancer gets the node's InternalIP as its address (status.loadBalancer.ingress). Nothing
 * routes to it; it is what lets a Helm release that waits for its load balancer, and the stack's
 * ingress output, see one. The only stand-in of the harness for a cloud's controller.
 */
import { execFile } from "child_process";
import * as path from "path";
import type { Kubectl } from "./kubectl";

export interface LoadBalancerStub {
    /** "namespace/name → ip" for each Service given an address so far. */
    assigned(): string[];
    stop(): Promise<void>;
}

function kubectlAsync(k: Kubectl, args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
        execFile(path.join(k.bin, "kubectl"), ["--kubeconfig", k.kubeconfig, ...args], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) =>
            e ? reject(new Error(`kubectl ${args.join(" ")}: ${err || e.message}`)) : resolve(out),
        ),
    );
}

/** Polls Services (every `pollMs`, for at most `maxSeconds`) and gives each LoadBalancer Service without an address the node's. */
export function startLoadBalancerStub(k: Kubectl, opts: { pollMs?: number; maxSeconds?: number } = {}): LoadBalancerStub {
    const pollMs = opts.pollMs ?? 1000;
    const polls = Math.ceil(((opts.maxSeconds ?? 7200) * 1000) / pollMs);
    const assigned: string[] = [];
    let stopping = false;
    const loop = (async () => {
        for (let i = 0; i < polls && !stopping; i++) {
            try {
                const nodes = JSON.parse(await kubectlAsync(k, ["get", "nodes", "-o", "json"])).items as any[];
                const ip = nodes.flatMap((n) => n.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address;
                const services = JSON.parse(await kubectlAsync(k, ["get", "services", "-A", "-o", "json"])).items as any[];
                for (const s of services.filter((x) => x.spec?.type === "LoadBalancer" && !(x.status?.loadBalancer?.ingress ?? []).length)) {
                    if (!ip) break;
                    const status = { status: { loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] } } };
                    await kubectlAsync(k, [
                        "patch",
                        "service",
                        s.metadata.name,
                        "-n",
                        s.metadata.namespace,
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        JSON.stringify(status),
                    ]);
                    assigned.push(`${s.metadata.namespace}/${s.metadata.name} → ${ip}`);
                }
            } catch {
                // The API server may be starting or stopping: the next poll tries again.
            }
            await new Promise((r) => setTimeout(r, pollMs));
        }
    })();
    return {
        assigned: () => [...assigned],
        stop: async () => {
            stopping = true;
            await loop;
        },
    };
}
