import type { MeshSettings } from "../settings/schema";
import { buildMeshReleases, ISTIO_SYSTEM_NAMESPACE } from "../manifests/releases";
import { buildNamespace } from "../manifests/namespace";
import { helmReleaseDocument } from "../manifests/types";
import { HELM_RELEASE_TYPE, Part, ReadKind } from "./types";
import type { MeshKeys } from "./waits";

/** What the mesh is built from. */
export interface MeshInputs {
    mesh: MeshSettings;
    /** Turn on Envoy's stateful-session filter in istiod (persistent affinity modes need it). */
    persistentSessions: boolean;
}

export function meshKeys(owner: string): MeshKeys & { systemNamespace: string; gateway: string; gatewayService: string } {
    return {
        systemNamespace: `${owner}-ns-istio-system`,
        gatewayNamespace: `${owner}-ns-gateway`,
        base: `${owner}-base`,
        istiod: `${owner}-istiod`,
        gateway: `${owner}-gateway`,
        gatewayService: `${owner}-gateway-service`,
    };
}

const NAMESPACE = { apiVersion: "v1", kind: "Namespace" };

/**
 * Istio from its charts: istiod's and the gateway's namespaces, then base →
 * istiod → gateway, and a read of the gateway's Service once it is installed.
 * Which objects exist does not depend on the settings.
 */
export function meshPart(owner: string): Part<MeshInputs> {
    const k = meshKeys(owner);
    const releases = (s: MeshInputs) => buildMeshReleases(s.mesh, { persistentSessions: s.persistentSessions });
    return {
        entries: [
            { key: k.systemNamespace, owner, type: NAMESPACE, dependsOn: [], build: () => buildNamespace(ISTIO_SYSTEM_NAMESPACE) },
            { key: k.gatewayNamespace, owner, type: NAMESPACE, dependsOn: [], build: (s) => buildNamespace(s.mesh.gateway.namespace) },
            { key: k.base, owner, type: HELM_RELEASE_TYPE, dependsOn: [k.systemNamespace], build: (s) => helmReleaseDocument(releases(s).base) },
            { key: k.istiod, owner, type: HELM_RELEASE_TYPE, dependsOn: [k.base], build: (s) => helmReleaseDocument(releases(s).istiod) },
            {
                key: k.gateway,
                owner,
                type: HELM_RELEASE_TYPE,
                dependsOn: [k.istiod, k.gatewayNamespace],
                build: (s) => helmReleaseDocument(releases(s).gateway),
            },
        ],
        reads: [
            {
                key: k.gatewayService,
                owner,
                kind: ReadKind.GatewayService,
                dependsOn: [k.gateway],
                target: (s) => ({ namespace: s.mesh.gateway.namespace, service: s.mesh.gateway.name }),
            },
        ],
    };
}
