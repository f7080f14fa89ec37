/**
 * Where the upstream artifacts a stack installs live (charts, images, CRD manifests),
 * and the hosts they have left. Pure data and predicates: the settings schema refuses
 * a retired host with its reason, its date and what replaces it.
 */

/** Istio's Helm repository since its move off Google Cloud: every version (Istio 1.31 upgrade notes). */
export const ISTIO_CHART_REPO = "https://blob.istio.io/istio-release/charts";
/** Istio's charts as OCI artifacts (oci://ghcr.io/istio/release/charts/<chart>). */
export const ISTIO_OCI_CHART_REPO = "oci://ghcr.io/istio/release/charts";
/** Where Istio publishes its images (Docker Hub, project "istio"). */
export const ISTIO_IMAGE_HUB = "docker.io/istio";
/**
 * cert-manager's charts: its OCI registry, which its docs recommend ("the source of truth,
 * published immediately upon release"; the Helm repository https://charts.jetstack.io is
 * the legacy one, updated hours later but not retired). cert-manager.io docs, installation/helm.
 */
export const CERT_MANAGER_CHART_REPO = "oci://quay.io/jetstack/charts";
/** The Gateway API's GitHub releases: <this>/<version>/standard-install.yaml. */
export const GATEWAY_API_RELEASES = "https://github.com/kubernetes-sigs/gateway-api/releases/download";

/** A host (or a path on a shared host) an upstream project no longer serves. */
export interface RetiredHost {
    /** How the user wrote it, for the message: "registry.istio.io", "gcr.io/istio-release". */
    name: string;
    /** True for a reference (URL or image/registry path) on this host. */
    holds(host: string, firstSegment: string): boolean;
    /** Why, and from when. */
    reason: string;
    /** What to use instead, per kind of reference. */
    instead: { chartRepository?: string; ociChartRepository?: string; hub?: string };
}

const ISTIO_MOVE =
    "Istio no longer publishes there since 1.31 and switches it off in December 2026: the last switch-off test runs " +
    "from 2026-12-08 15:00 UTC to 2026-12-09 15:00 UTC, after which it is gone (Istio 1.31 upgrade notes; istio.io blog " +
    '"An update on our move to AWS", 2026-08-21)';
const ISTIO_INSTEAD = {
    chartRepository: ISTIO_CHART_REPO,
    ociChartRepository: ISTIO_OCI_CHART_REPO,
    hub: ISTIO_IMAGE_HUB,
};

export const RETIRED_HOSTS: readonly RetiredHost[] = [
    {
        name: "istio-release.storage.googleapis.com",
        holds: (host, first) =>
            host === "istio-release.storage.googleapis.com" ||
            (host === "storage.googleapis.com" && first === "istio-release"),
        reason: ISTIO_MOVE,
        instead: ISTIO_INSTEAD,
    },
    {
        name: "gcr.io/istio-release",
        // gcr.io and its regional hosts (us.gcr.io, eu.gcr.io, asia.gcr.io).
        holds: (host, first) => (host === "gcr.io" || host.endsWith(".gcr.io")) && first === "istio-release",
        reason: ISTIO_MOVE,
        instead: ISTIO_INSTEAD,
    },
    {
        name: "registry.istio.io",
        holds: (host) => host === "registry.istio.io",
        reason: ISTIO_MOVE.replace("switches it off", "decommissions it"),
        instead: ISTIO_INSTEAD,
    },
];

/** The host and first path segment of a URL ("https://…", "oci://…") or of a registry or image reference ("docker.io/istio/pilot:1.31.1"). */
function hostAndFirstSegment(ref: string): { host: string; first: string } {
    const rest = ref.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
    const [authority, first = ""] = rest.split("/");
    const host = authority
        .replace(/^[^@]*@/, "")
        .replace(/:\d+$/, "")
        .toLowerCase();
    return { host, first };
}

/** The retired host a reference points at, if any. */
export function retiredHostOf(ref: string): RetiredHost | undefined {
    const { host, first } = hostAndFirstSegment(ref);
    return RETIRED_HOSTS.find((r) => r.holds(host, first));
}

/** What a retired reference should become, for a chart repository (by its scheme) or an image hub. */
function replacementFor(r: RetiredHost, ref: string, kind: "chartRepository" | "hub"): string | undefined {
    if (kind === "hub") return r.instead.hub;
    return ref.startsWith("oci://") ? r.instead.ociChartRepository : r.instead.chartRepository;
}

/** The message for a retired reference: the reason, the date and the replacement. */
export function retiredMessage(r: RetiredHost, ref: string, kind: "chartRepository" | "hub" | "value"): string {
    const instead =
        kind === "value"
            ? [
                  r.instead.hub && `images from ${r.instead.hub}`,
                  r.instead.chartRepository && `charts from ${r.instead.chartRepository}`,
              ]
                  .filter(Boolean)
                  .join(", ")
            : replacementFor(r, ref, kind);
    return `names ${r.name}, which is retired: ${r.reason}; use ${instead} instead`;
}

/**
 * Every string in a values map that names a retired host, as [path, value, host]
 * (an image, a hub or a repository a user set among the Helm values).
 */
export function retiredReferencesIn(
    values: unknown,
    prefix: PropertyKey[] = [],
): [PropertyKey[], string, RetiredHost][] {
    if (typeof values === "string") {
        const r = retiredHostOf(values);
        return r ? [[prefix, values, r]] : [];
    }
    if (values === null || typeof values !== "object") return [];
    const entries: [PropertyKey, unknown][] = Array.isArray(values)
        ? values.map((v, i) => [i, v])
        : Object.entries(values);
    return entries.flatMap(([k, v]) => retiredReferencesIn(v, [...prefix, k]));
}
