import { IngressApi, TlsIssuer } from "../settings/enums";
import type { MeshSettings, TlsSettings } from "../settings/schema";
import { chartSource, COMMON_LABELS, HELM_RELEASE_API_VERSION, HELM_RELEASE_POLICY, K8sObject } from "./types";

export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** The Secret cert-manager writes and the Istio Gateway reads (credentialName). */
export const GATEWAY_TLS_SECRET = "sticky-gateway-tls";
export const GATEWAY_CERTIFICATE = "sticky-gateway-cert";

/** The chart values cert-manager is installed with. */
export interface CertManagerValues {
    crds: { enabled: boolean; keep: boolean };
    /** The controller's configuration file (its chart's `config`). */
    config?: Record<string, unknown>;
}

/** What @pulumi/kubernetes-cert-manager's CertManager component takes as `helmOptions`: its Helm release, whole. */
export interface CertManagerHelmOptions {
    name: string;
    namespace: string;
    chart: string;
    version: string;
    repositoryOpts?: { repo: string };
    values: CertManagerValues;
    atomic: boolean;
    cleanupOnFail: boolean;
    timeout: number;
    maxHistory: number;
}

/**
 * cert-manager through @pulumi/kubernetes-cert-manager's CertManager component, everything
 * its Helm release takes pinned here: the chart, its version and repository, the release's
 * name and namespace, how it installs (atomic, timeout, history) and the values. The CRDs
 * come with it (crds.enabled; the deprecated installCRDs is not sent) and stay when the
 * release is uninstalled (crds.keep: deleting them would delete every Certificate). Render
 * prints it as a CertManager document whose spec is the component's args.
 */
export function buildCertManager(tls: TlsSettings, opts: { gatewayApi?: boolean } = {}): K8sObject {
    const values: CertManagerValues = {
        crds: { enabled: true, keep: true },
        // The HTTP-01 solver's HTTPRoutes: cert-manager watches Gateway API kinds only when told (its chart's `config`).
        ...(opts.gatewayApi && tls.issuer === TlsIssuer.Acme
            ? {
                  config: {
                      apiVersion: "controller.config.cert-manager.io/v1alpha1",
                      kind: "ControllerConfiguration",
                      enableGatewayAPI: true,
                  },
              }
            : {}),
    };
    const helmOptions: CertManagerHelmOptions = {
        name: "cert-manager",
        namespace: CERT_MANAGER_NAMESPACE,
        ...chartSource({ repo: tls.chartRepository, chart: "cert-manager" }),
        version: tls.certManagerVersion,
        values,
        ...HELM_RELEASE_POLICY,
    };
    return {
        apiVersion: HELM_RELEASE_API_VERSION,
        kind: "CertManager",
        metadata: { name: "cert-manager", namespace: CERT_MANAGER_NAMESPACE },
        spec: { helmOptions },
    };
}

export function issuerName(tls: TlsSettings): string {
    return tls.issuer === TlsIssuer.Acme ? "istio-sticky-acme" : "istio-sticky-selfsigned";
}

/** A Gateway API Gateway, by name and namespace. */
export interface GatewayRef {
    name: string;
    namespace: string;
}

/**
 * The ClusterIssuer: self-signed, or ACME answering HTTP-01 through the Istio ingress
 * gateway: with an Ingress of istiod's ingress class, or, given `solverGateway`, with
 * an HTTPRoute cert-manager attaches to that Gateway's HTTP listener.
 */
export function buildClusterIssuer(tls: TlsSettings, solverGateway?: GatewayRef): K8sObject {
    const spec =
        tls.issuer === TlsIssuer.Acme
            ? {
                  acme: {
                      email: tls.acme!.email,
                      server: tls.acme!.server,
                      privateKeySecretRef: { name: "istio-sticky-acme-account" },
                      // `class` sets the kubernetes.io/ingress.class annotation, which istiod matches against
                      // meshConfig.ingressClass; `ingressClassName` would need an IngressClass object, which no
                      // Istio chart creates (pilot/pkg/config/kube/ingress: shouldProcessIngressWithClass).
                      solvers: [
                          solverGateway
                              ? {
                                    http01: {
                                        gatewayHTTPRoute: {
                                            parentRefs: [{ ...solverGateway, kind: "Gateway", sectionName: "http" }],
                                        },
                                    },
                                }
                              : { http01: { ingress: { class: tls.acme!.ingressClass } } },
                      ],
                  },
              }
            : { selfSigned: {} };
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: issuerName(tls), labels: { ...COMMON_LABELS } },
        spec,
    };
}

/** The gateway's certificate, in the gateway's namespace (where Istio reads credentialName). */
export function buildGatewayCertificate(tls: TlsSettings, gatewayNamespace: string): K8sObject {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: GATEWAY_CERTIFICATE, namespace: gatewayNamespace, labels: { ...COMMON_LABELS } },
        spec: {
            secretName: GATEWAY_TLS_SECRET,
            dnsNames: [...tls.hosts],
            issuerRef: { name: issuerName(tls), kind: "ClusterIssuer", group: "cert-manager.io" },
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        },
    };
}

/**
 * What an ACME HTTP-01 solver needs from istiod: the gateway as the controller
 * of the solver's ingress class. istiod looks `ingressService` up in
 * K8S_INGRESS_NS (default istio-system), so that is the gateway's namespace, and
 * selects the gateway pods by `istio: <ingressSelector>` (validation requires that label).
 */
export function acmeIngressMeshConfig(tls: TlsSettings, mesh: MeshSettings): Record<string, unknown> {
    // On the Gateway API the solver attaches an HTTPRoute to the Gateway: istiod serves no Ingress for it.
    if (!tls.enabled || tls.issuer !== TlsIssuer.Acme || mesh.gateway.api === IngressApi.GatewayApi) return {};
    return {
        meshConfig: {
            ingressClass: tls.acme!.ingressClass,
            ingressControllerMode: "STRICT",
            ingressService: mesh.gateway.name,
            ingressSelector: mesh.gateway.labels.istio,
        },
        env: { K8S_INGRESS_NS: mesh.gateway.namespace },
    };
}
