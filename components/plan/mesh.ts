import type { MeshSettings } from "../settings/schema";
import { buildMeshReleases, ISTIO_SYSTEM_NAMESPACE } from "../manifests/releases";
import { buildNamespace } from "../manifests/namespace";
import { helmReleaseDocument } from "../manifests/types";
import { Entry, HELM_RELEASE_TYPE, MANIFEST_FILE_TYPE, Part, ReadKind } from "./types";
import { Dataplane, IngressApi } from "../settings/enums";
import { gatewayApiVersionFor } from "../settings/versions";
import { buildGatewayApiCrds } from "../manifests/gatewayApi";
import type { MeshKeys } from "./waits";

/** What the mesh is built from. */
export interface MeshInputs {
    mesh: MeshSettings;
    /** Turn on Envoy's stateful-session filter in istiod (persistent affinity modes need it). */
    persistentSessions: boolean;
}

/** What decides which mesh objects exist. */
export interface MeshLayout {
    /** Install the Gateway API's CRDs (gateway.api "gatewayApi", or ambient's waypoints). */
    gatewayApiCrds: boolean;
    /** Ambient: istio-cni and ztunnel too. */
    ambient?: boolean;
}

export function meshKeys(
    owner: string,
    layout: MeshLayout = { gatewayApiCrds: false },
): MeshKeys & { systemNamespace: string; gateway: string; gatewayService: string } {
    return {
        systemNamespace: `${owner}-ns-istio-system`,
        gatewayNamespace: `${owner}-ns-gateway`,
        base: `${owner}-base`,
        istiod: `${owner}-istiod`,
        gateway: `${owner}-gateway`,
        gatewayService: `${owner}-gateway-service`,
        ...(layout.gatewayApiCrds ? { gatewayApiCrds: `${owner}-gateway-api-crds` } : {}),
        ...(layout.ambient ? { cni: `${owner}-cni`, ztunnel: `${owner}-ztunnel` } : {}),
    };
}

const NAMESPACE = { apiVersion: "v1", kind: "Namespace" };

/** The layout a mesh's settings ask for. */
export function meshLayout(mesh: { gateway: { api: IngressApi }; dataplane: Dataplane }): MeshLayout {
    const ambient = mesh.dataplane === Dataplane.Ambient;
    // Waypoints are Gateway API Gateways (class istio-waypoint): ambient needs the CRDs too.
    return { gatewayApiCrds: mesh.gateway.api === IngressApi.GatewayApi || ambient, ambient };
}

/**
 * Istio from its charts: istiod's and the gateway's namespaces, then base →
 * istiod → gateway, and a read of the gateway's Service once it is installed.
 * On the Gateway API, its CRDs first (istiod starts with them).
 */
export function meshPart(owner: string, layout: MeshLayout = { gatewayApiCrds: false }): Part<MeshInputs> {
    const k = meshKeys(owner, layout);
    const releases = (s: MeshInputs) => buildMeshReleases(s.mesh, { persistentSessions: s.persistentSessions });
    const crds: Entry<MeshInputs>[] = k.gatewayApiCrds
        ? [
              {
                  key: k.gatewayApiCrds,
                  owner,
                  type: MANIFEST_FILE_TYPE,
                  dependsOn: [],
                  build: (s) =>
                      buildGatewayApiCrds(gatewayApiVersionFor(s.mesh.version), s.mesh.gatewayApiCrdsRepository),
              },
          ]
        : [];
    return {
        entries: [
            ...crds,
            {
                key: k.systemNamespace,
                owner,
                type: NAMESPACE,
                dependsOn: [],
                build: () => buildNamespace(ISTIO_SYSTEM_NAMESPACE),
            },
            {
                key: k.gatewayNamespace,
                owner,
                type: NAMESPACE,
                dependsOn: [],
                build: (s) => buildNamespace(s.mesh.gateway.namespace),
            },
            {
                key: k.base,
                owner,
                type: HELM_RELEASE_TYPE,
                dependsOn: [k.systemNamespace],
                build: (s) => helmReleaseDocument(releases(s).base),
            },
            {
                key: k.istiod,
                owner,
                type: HELM_RELEASE_TYPE,
                dependsOn: [k.base, ...(k.gatewayApiCrds ? [k.gatewayApiCrds] : [])],
                build: (s) => helmReleaseDocument(releases(s).istiod),
            },
            {
                key: k.gateway,
                owner,
                type: HELM_RELEASE_TYPE,
                dependsOn: [k.istiod, k.gatewayNamespace],
                build: (s) => helmReleaseDocument(releases(s).gateway),
            },
            // Ambient: istio-cni needs no control plane (it enrols pods as they start); ztunnel gets its
            // certificates from istiod. Both run beside the gateway, so a deploy still waits three times in a row.
            ...(k.cni && k.ztunnel
                ? [
                      {
                          key: k.cni,
                          owner,
                          type: HELM_RELEASE_TYPE,
                          dependsOn: [k.systemNamespace],
                          build: (s: MeshInputs) => helmReleaseDocument(releases(s).cni!),
                      },
                      {
                          key: k.ztunnel,
                          owner,
                          type: HELM_RELEASE_TYPE,
                          dependsOn: [k.istiod],
                          build: (s: MeshInputs) => helmReleaseDocument(releases(s).ztunnel!),
                      },
                  ]
                : []),
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
