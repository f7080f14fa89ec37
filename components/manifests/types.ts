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

/**
 * How every Helm release here is installed and upgraded: a failed install or upgrade
 * rolls back (atomic, cleaning up what it created) within 600 s, and Helm keeps at most
 * 10 revisions (it keeps every one otherwise, each in a Secret).
 */
export const HELM_RELEASE_POLICY = { atomic: true, cleanupOnFail: true, timeout: 600, maxHistory: 10 } as const;

/**
 * Where Helm finds a chart: from an https:// repository by name, or from an
 * oci:// registry by its full reference (which takes no repository option).
 */
export function chartSource(spec: Pick<HelmReleaseSpec, "repo" | "chart">): {
    chart: string;
    repositoryOpts?: { repo: string };
} {
    return spec.repo.startsWith("oci://")
        ? { chart: `${spec.repo}/${spec.chart}` }
        : { chart: spec.chart, repositoryOpts: { repo: spec.repo } };
}

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
