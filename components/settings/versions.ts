/** Istio's official Helm chart repository. */
export const ISTIO_CHART_REPO = "https://istio-release.storage.googleapis.com/charts";

/**
 * The default Istio version: the newest 1.30 patch confirmed in Istio's release
 * announcements. 1.30 supports Kubernetes 1.32 to 1.36.
 */
export const DEFAULT_ISTIO_VERSION = "1.30.5";

/** The oldest minor this package supports: flat istiod values and templated CRDs arrived in 1.24. */
export const MIN_ISTIO_MINOR = { major: 1, minor: 24 } as const;

/** Cookie attributes in `consistentHash.httpCookie` arrived in 1.28. */
export const COOKIE_ATTRIBUTES_MINOR = { major: 1, minor: 28 } as const;

/** Versions that must not be installed, with the reason shown to the user. */
export const REFUSED_ISTIO_VERSIONS: Readonly<Record<string, string>> = {
    "1.30.0": "its Envoy stops sending traffic to new pods after a consistent-hash cluster scales " + "(istio/istio#60312, fixed in 1.30.1)",
};

/**
 * The verify tool, a package of its own released with this one: stack outputs
 * print `npx <this> …`, which runs it where it is installed and fetches it from the registry otherwise.
 */
export const VERIFY_TOOL = "istio-sticky-verify@0.1.0";

/**
 * The Gateway API release whose standard-channel CRDs a stack on the Gateway API
 * installs: the one Istio 1.30 is built against (istio/istio 1.30.3 go.mod:
 * sigs.k8s.io/gateway-api v1.5.1). Istio 1.30 ignores kinds whose CRDs are older than
 * it needs (pkg/config/schema/gatewayapi/minimumversions.go: TLSRoute needs 1.5.0).
 */
export const GATEWAY_API_VERSION = "v1.5.1";

/** The standard-channel install manifest of a Gateway API release (the CRDs only). */
export function gatewayApiCrdsUrl(version: string): string {
    return `https://github.com/kubernetes-sigs/gateway-api/releases/download/${version}/standard-install.yaml`;
}
