/** Plain Kubernetes objects as the pure layer builds them (no Pulumi inputs inside). */
export interface ObjectMeta {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: ObjectMeta;
    spec?: any;
    data?: Record<string, string>;
}

/** A Helm release as the pure layer plans it; `render` prints it as a HelmRelease document. */
export interface HelmReleaseSpec {
    /** The Helm release name. */
    name: string;
    namespace: string;
    chart: string;
    repo: string;
    version: string;
    values: Record<string, unknown>;
}

export const COMMON_LABELS = { "app.kubernetes.io/part-of": "istio-sticky" } as const;
