import type { ObjectType } from "./types";

/** Keys of the mesh objects others wait for, when the mesh is installed by the same program. */
export interface MeshKeys {
    /** The base chart: Istio's CRDs. */
    base: string;
    /** istiod: the injection and validation webhooks. */
    istiod: string;
    /** The gateway's namespace: objects placed there wait for it. */
    gatewayNamespace: string;
}

/**
 * What an object of this type waits for in a mesh installed by the same
 * program: Istio objects need the CRDs and pass istiod's validation webhook;
 * injected workloads need istiod's injection webhook; everything else waits
 * for nothing. With an existing mesh nothing is waited for.
 */
export function meshWaits(type: ObjectType, mesh: MeshKeys | undefined): string[] {
    if (!mesh) return [];
    if (/\.istio\.io\//.test(type.apiVersion)) return [mesh.base, mesh.istiod];
    if (type.kind === "Deployment") return [mesh.istiod];
    return [];
}
