import type { TlsSettings } from "../settings/schema";
import {
    buildCertManager,
    buildClusterIssuer,
    buildGatewayCertificate,
    CERT_MANAGER_NAMESPACE,
    type GatewayRef,
} from "../manifests/tls";
import { buildNamespace } from "../manifests/namespace";
import { CERT_MANAGER_TYPE, Entry, Part } from "./types";

/** What the gateway's certificate is built from. */
export interface TlsInputs {
    tls: TlsSettings;
    /** The gateway's namespace: the Certificate and its Secret go there. */
    gatewayNamespace: string;
    /** On the Gateway API: the Gateway whose HTTP listener the ACME solver's HTTPRoutes attach to. */
    solverGateway?: GatewayRef;
}

/** What decides which TLS objects exist. */
export interface TlsLayout {
    installCertManager: boolean;
}

export function tlsKeys(owner: string) {
    return {
        certManagerNamespace: `${owner}-cert-manager-namespace`,
        certManager: `${owner}-cert-manager`,
        issuer: `${owner}-issuer`,
        certificate: `${owner}-certificate`,
    };
}

const CERT_MANAGER = { apiVersion: "cert-manager.io/v1" };

/** Keys outside the part that TLS objects wait for. */
export interface TlsWaits {
    /** The gateway's namespace, for the Certificate. */
    certificate?: string[];
    /** The Gateway API's CRDs, for cert-manager (it watches Gateway API kinds from its start). */
    certManager?: string[];
}

/**
 * cert-manager itself (when asked), then a ClusterIssuer, then the Certificate
 * in the gateway's namespace, whose Secret the gateway's HTTPS server names.
 */
export function tlsPart(owner: string, layout: TlsLayout, waits: TlsWaits = {}): Part<TlsInputs> {
    const k = tlsKeys(owner);
    const certManager: Entry<TlsInputs>[] = layout.installCertManager
        ? [
              {
                  key: k.certManagerNamespace,
                  owner,
                  type: { apiVersion: "v1", kind: "Namespace" },
                  dependsOn: [],
                  build: () => buildNamespace(CERT_MANAGER_NAMESPACE),
              },
              {
                  key: k.certManager,
                  owner,
                  type: CERT_MANAGER_TYPE,
                  dependsOn: [k.certManagerNamespace, ...(waits.certManager ?? [])],
                  build: (s) => buildCertManager(s.tls, { gatewayApi: s.solverGateway !== undefined }),
              },
          ]
        : [];
    // Issuers and certificates need cert-manager's CRDs and its webhook.
    const ready = layout.installCertManager ? [k.certManager] : [];
    return {
        entries: [
            ...certManager,
            {
                key: k.issuer,
                owner,
                type: { ...CERT_MANAGER, kind: "ClusterIssuer" },
                dependsOn: ready,
                build: (s) => buildClusterIssuer(s.tls, s.solverGateway),
            },
            {
                key: k.certificate,
                owner,
                type: { ...CERT_MANAGER, kind: "Certificate" },
                dependsOn: [k.issuer, ...ready, ...(waits.certificate ?? [])],
                build: (s) => buildGatewayCertificate(s.tls, s.gatewayNamespace),
            },
        ],
        reads: [],
    };
}
