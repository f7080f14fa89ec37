import type { ObjectType } from "./types";

/** Keys of the mesh objects others wait for, when the mesh is installed by the same program. */
export interface MeshKeys {
    /** The base chart: Istio's CRDs. */
    base: string;
    /** istiod: the injection and validation webhooks. */
    istiod: string;
    /** The gateway's namespace: objects placed there wait for it. */
    gatewayNamespace: string;
    /** The Gateway API's CRDs, when the mesh installs them. */
    gatewayApiCrds?: string;
    /** Ambient: istio-cni (which enrols pods) and ztunnel. */
    cni?: string;
    ztunnel?: string;
}

/**
 * What an object of this type waits for in a mesh installed by the same
 * program: Istio objects need the CRDs and pass istiod's validation webhook;
 * Gateway API objects need the Gateway API's CRDs;
 * injected workloads need istiod's injection webhook; everything else waits
 * for nothing. With an existing mesh nothing is waited for.
 */
export function meshWaits(type: ObjectType, mesh: MeshKeys | undefined): string[] {
    if (!mesh) return [];
    if (/\.istio\.io\//.test(type.apiVersion)) return [mesh.base, mesh.istiod];
    // Gateway API objects need their CRDs; istiod picks them up once it runs (no webhook of its own checks them).
    if (type.apiVersion.startsWith("gateway.networking.k8s.io/"))
        return mesh.gatewayApiCrds ? [mesh.gatewayApiCrds] : [];
    // Sidecars come from istiod's injection webhook; ambient pods are enrolled by istio-cni instead.
    if (type.kind === "Deployment") return mesh.cni ? [mesh.cni] : [mesh.istiod];
    return [];
}
