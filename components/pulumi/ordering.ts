import type * as pulumi from "@pulumi/pulumi";

/** The two mesh resources other objects may have to wait for. */
export interface MeshReadiness {
    /** The base chart: Istio's CRDs. */
    base: pulumi.Resource;
    /** istiod: the injection and validation webhooks. */
    istiod: pulumi.Resource;
}

/**
 * What an object of this type waits for in a mesh installed by the same program:
 * Istio objects need the CRDs and pass istiod's validation webhook; injected
 * workloads need istiod's injection webhook; everything else waits for nothing.
 */
export function waitsFor(type: { apiVersion: string; kind: string }, mesh: MeshReadiness | undefined): pulumi.Resource[] {
    if (!mesh) return [];
    if (/\.istio\.io\//.test(type.apiVersion)) return [mesh.base, mesh.istiod];
    if (type.kind === "Deployment") return [mesh.istiod];
    return [];
}
