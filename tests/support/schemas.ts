/**
 * Validates generated objects against the upstream schemas: the Kubernetes
 * OpenAPI models (kubernetes-models) and Istio's CRD schemas (@kubernetes-models/istio).
 */
import type { K8sObject } from "../../components/manifests/types";

// These packages are ESM-only; a native import() keeps the CommonJS transform from turning it into require().
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

const MODULES: Record<string, [string, string]> = {
    "v1/Namespace": ["kubernetes-models/v1/Namespace", "Namespace"],
    "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "ConfigMap"],
    "v1/Service": ["kubernetes-models/v1/Service", "Service"],
    "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment", "Deployment"],
    "autoscaling/v2/HorizontalPodAutoscaler": [
        "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
        "HorizontalPodAutoscaler",
    ],
    "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget", "PodDisruptionBudget"],
    "networking.istio.io/v1alpha3/EnvoyFilter": [
        "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter",
        "EnvoyFilter",
    ],
    "security.istio.io/v1/PeerAuthentication": [
        "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication",
        "PeerAuthentication",
    ],
    "security.istio.io/v1/AuthorizationPolicy": [
        "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy",
        "AuthorizationPolicy",
    ],
    "networking.k8s.io/v1/NetworkPolicy": ["kubernetes-models/networking.k8s.io/v1/NetworkPolicy", "NetworkPolicy"],
    "cert-manager.io/v1/ClusterIssuer": [
        "@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer",
        "ClusterIssuer",
    ],
    "cert-manager.io/v1/Certificate": ["@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate", "Certificate"],
    "networking.istio.io/v1/Gateway": ["@kubernetes-models/istio/networking.istio.io/v1/Gateway", "Gateway"],
    "networking.istio.io/v1/VirtualService": [
        "@kubernetes-models/istio/networking.istio.io/v1/VirtualService",
        "VirtualService",
    ],
    "networking.istio.io/v1/DestinationRule": [
        "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule",
        "DestinationRule",
    ],
    "gateway.networking.k8s.io/v1/Gateway": [
        "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway",
        "Gateway",
    ],
    "gateway.networking.k8s.io/v1/HTTPRoute": [
        "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
        "HTTPRoute",
    ],
    "gateway.networking.k8s.io/v1beta1/ReferenceGrant": [
        "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant",
        "ReferenceGrant",
    ],
};

const cache = new Map<string, any>();

/** Throws when the object breaks its upstream schema, or when no schema is known for its kind. */
export async function validateUpstream(obj: K8sObject): Promise<void> {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const entry = MODULES[key];
    if (!entry) throw new Error(`no upstream schema known for ${key}`);
    if (!cache.has(key)) cache.set(key, (await importEsm(entry[0]))[entry[1]]);
    const Model = cache.get(key);
    try {
        new Model(JSON.parse(JSON.stringify(obj))).validate();
    } catch (e) {
        throw new Error(`${key} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}: ${(e as Error).message}`);
    }
}
