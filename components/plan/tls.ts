import type { TlsSettings } from "../settings/schema";
import { buildCertManagerRelease, buildClusterIssuer, buildGatewayCertificate, CERT_MANAGER_NAMESPACE } from "../manifests/tls";
import { buildNamespace } from "../manifests/namespace";
import { helmReleaseDocument } from "../manifests/types";
import { Entry, HELM_RELEASE_TYPE, Part } from "./types";

/** What the gateway's certificate is built from. */
export interface TlsInputs {
    tls: TlsSettings;
    /** The gateway's namespace: the Certificate and its Secret go there. */
    gatewayNamespace: string;
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

/**
 * cert-manager itself (when asked), then a ClusterIssuer, then the Certificate
 * in the gateway's namespace, whose Secret the Istio Gateway's HTTPS server
 * names. `certificateWaits`: keys the Certificate also waits for (the gateway's namespace).
 */
export function tlsPart(owner: string, layout: TlsLayout, certificateWaits: string[] = []): Part<TlsInputs> {
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
                  type: HELM_RELEASE_TYPE,
                  dependsOn: [k.certManagerNamespace],
                  build: (s) => helmReleaseDocument(buildCertManagerRelease(s.tls)),
              },
          ]
        : [];
    // Issuers and certificates need cert-manager's CRDs and its webhook.
    const ready = layout.installCertManager ? [k.certManager] : [];
    return {
        entries: [
            ...certManager,
            { key: k.issuer, owner, type: { ...CERT_MANAGER, kind: "ClusterIssuer" }, dependsOn: ready, build: (s) => buildClusterIssuer(s.tls) },
            {
                key: k.certificate,
                owner,
                type: { ...CERT_MANAGER, kind: "Certificate" },
                dependsOn: [k.issuer, ...ready, ...certificateWaits],
                build: (s) => buildGatewayCertificate(s.tls, s.gatewayNamespace),
            },
        ],
        reads: [],
    };
}
