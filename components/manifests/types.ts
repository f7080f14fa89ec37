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

/** The document type render prints a Helm release as. */
export const HELM_RELEASE_API_VERSION = "render.istio-sticky/v1";

/** A Helm release as a document: how the plan carries it and render prints it. */
export function helmReleaseDocument(r: HelmReleaseSpec): K8sObject {
    return {
        apiVersion: HELM_RELEASE_API_VERSION,
        kind: "HelmRelease",
        metadata: { name: r.name, namespace: r.namespace },
        spec: { chart: r.chart, repo: r.repo, version: r.version, values: r.values },
    };
}

/** The release a HelmRelease document describes. */
export function releaseOfDocument(doc: K8sObject): HelmReleaseSpec {
    return {
        name: doc.metadata.name,
        namespace: doc.metadata.namespace!,
        chart: doc.spec.chart,
        repo: doc.spec.repo,
        version: doc.spec.version,
        values: doc.spec.values,
    };
}
