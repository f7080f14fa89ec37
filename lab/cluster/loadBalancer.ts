/**
 * A load balancer for the harness's cluster, as k3s's ServiceLB does it: every Service of type
 * LoadBalancer gets the node's InternalIP as its address (status.loadBalancer.ingress). Nothing
 * routes to it; it is what lets a Helm release that waits for its load balancer, and the stack's
 * ingress output, see one. The only stand-in of the harness for a cloud's controller.
 */
import { inBackground } from "./background";
import { kubectlAsync, type Kubectl } from "./kubectl";

export interface LoadBalancerStub {
    /** "namespace/name → ip" for each Service given an address so far. */
    assigned(): string[];
    stop(): Promise<void>;
}

/** Polls Services (every `pollMs`, for at most `maxSeconds`) and gives each LoadBalancer Service without an address the node's. */
export function startLoadBalancerStub(
    k: Kubectl,
    opts: { pollMs?: number; maxSeconds?: number } = {},
): LoadBalancerStub {
    const assigned: string[] = [];
    const loop = inBackground(async () => {
        const nodes = JSON.parse(await kubectlAsync(k, ["get", "nodes", "-o", "json"])).items as any[];
        const ip = nodes.flatMap((n) => n.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address;
        if (!ip) return;
        const services = JSON.parse(await kubectlAsync(k, ["get", "services", "-A", "-o", "json"])).items as any[];
        for (const s of services.filter(
            (x) => x.spec?.type === "LoadBalancer" && !(x.status?.loadBalancer?.ingress ?? []).length,
        )) {
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
    }, opts);
    return { assigned: () => [...assigned], stop: loop.stop };
}
