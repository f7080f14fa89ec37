import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "./settings/validate";

/**
 * One Istio per cluster in a program. Two meshes on one cluster install the same Helm releases
 * (istio-base, istiod and the gateway in the same namespaces) and CRDs: the second install fails
 * half-way through a deploy, or, with other release names, two control planes fight over the
 * webhooks. A cluster is known by its Kubernetes provider: the same provider object, or none (the
 * default provider) for both. A program is known by its resource monitor (the engine's, or the one
 * Pulumi's mocks install), so tests that set up mocks again start a new program.
 */
const claims = new WeakMap<object, Map<pulumi.ProviderResource | "default", string>>();
const NO_MONITOR = {};

/** Records that `who` installs Istio on the cluster of `resource`'s Kubernetes provider; refuses a second one. */
export function claimCluster(resource: pulumi.Resource, who: string): void {
    const monitor = (pulumi.runtime.getMonitor() as object | undefined) ?? NO_MONITOR;
    const program = claims.get(monitor) ?? new Map<pulumi.ProviderResource | "default", string>();
    claims.set(monitor, program);
    const cluster = resource.getProvider("kubernetes::") ?? "default";
    const first = program.get(cluster);
    if (first !== undefined) {
        throw new SettingsError([
            `${who}: installs a second Istio on a cluster where ${first} installs one (the same Kubernetes provider): ` +
                `one cluster runs one Istio, and the second install would fail half-way through the deploy. Share the first: ` +
                `give a StickyApp that mesh in dependsOn (or its gatewayNamespace and gatewaySelector), give StickySessions mesh: { install: false }, ` +
                `or put every app in the one StickySessions`,
        ]);
    }
    program.set(cluster, who);
}
