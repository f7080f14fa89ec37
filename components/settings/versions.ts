import { GATEWAY_API_RELEASES } from "./artifacts";
import { compareMinor, parseVersion } from "./rules";

/**
 * The Istio minors this package installs and configures, each with what depends on
 * the minor. Istio supports two minors at a time; 1.29 reached its end of life on
 * 2026-10-15. Both supported minors run on Kubernetes 1.32 to 1.36.
 */
export interface IstioLine {
    /** "1.31" */
    minor: string;
    /**
     * The Gateway API release whose standard-channel CRDs the stack installs: the one
     * this minor's istiod is built against (its go.mod), which it also requires at least
     * (pkg/config/schema/gatewayapi/minimumversions.go: older CRDs are ignored).
     */
    gatewayApi: string;
    /** Its newest patch confirmed in Istio's release announcements (istio.io news/releases). */
    latest: string;
    /**
     * A waypoint hashes (a route hash_policy from the DestinationRule's consistentHash) only on routes
     * of a VirtualService for the Service: without one, 1.30's waypoint builds a default route with no
     * hash_policy (pilot/pkg/networking/core/listener_waypoint.go: buildWaypointInboundHTTPRouteConfig falls
     * back to httproute.go: buildSidecarInboundHTTPRouteConfig), over a RING_HASH cluster, so the pick is
     * random. 1.31 adds the DestinationRule's top-level hash to that default route (istio/istio#61045,
     * PR #61048; not backported).
     */
    waypointHashNeedsVirtualService: boolean;
    /**
     * istiod sends not-ready endpoints to Envoy (EDS health UNHEALTHY) unless a DestinationRule's
     * outlierDetection sets minHealthPercent (pilot/pkg/features/experimental.go:
     * PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS, default true from 1.31; pilot/pkg/xds/endpoints/endpoint_builder.go:
     * supportsUnhealthyEndpoints).
     */
    sendsUnhealthyEndpoints: boolean;
}

export const ISTIO_LINES: readonly IstioLine[] = [
    // istio/istio 1.30.3 go.mod: sigs.k8s.io/gateway-api v1.5.1. 1.30.5: announced 2026-09-21.
    {
        minor: "1.30",
        gatewayApi: "v1.5.1",
        latest: "1.30.5",
        waypointHashNeedsVirtualService: true,
        sendsUnhealthyEndpoints: false,
    },
    // istio/istio 1.31.0 go.mod: sigs.k8s.io/gateway-api v1.6.0; v1.6.1 is that release's patch. 1.31.1: announced 2026-09-21.
    {
        minor: "1.31",
        gatewayApi: "v1.6.1",
        latest: "1.31.1",
        waypointHashNeedsVirtualService: false,
        sendsUnhealthyEndpoints: true,
    },
];

/** Minors past their end of life, with the date, for the message that refuses them. */
export const ISTIO_END_OF_LIFE: Readonly<Record<string, string>> = { "1.29": "2026-10-15" };

/** The default Istio version: the newest patch of the newest supported minor. */
export const DEFAULT_ISTIO_VERSION = ISTIO_LINES[ISTIO_LINES.length - 1].latest;

/** Versions that must not be installed, with the reason shown to the user. */
export const REFUSED_ISTIO_VERSIONS: Readonly<Record<string, string>> = {
    "1.30.0":
        "its Envoy stops sending traffic to new pods after a consistent-hash cluster scales " +
        "(istio/istio#60312, fixed in 1.30.1)",
};

const minorOf = (version: string): string | undefined => {
    const v = parseVersion(version);
    return v && `${v.major}.${v.minor}`;
};

/** The supported line of a version, or undefined. */
export function istioLineOf(version: string): IstioLine | undefined {
    const minor = minorOf(version);
    return ISTIO_LINES.find((l) => l.minor === minor);
}

/** Why a version cannot be used, or undefined when it can. */
export function unsupportedIstioVersion(version: string): string | undefined {
    const refused = REFUSED_ISTIO_VERSIONS[version.replace(/-.*$/, "")];
    if (refused) return `${version} must not be used: ${refused}`;
    const minor = minorOf(version);
    if (!minor || istioLineOf(version)) return undefined;
    const supported = `this package supports ${ISTIO_LINES.map((l) => l.minor).join(" and ")} (the minors Istio supports)`;
    const [major, oldest] = ISTIO_LINES[0].minor.split(".").map(Number);
    if (compareMinor(parseVersion(version)!, major, oldest) < 0) {
        const eol = ISTIO_END_OF_LIFE[minor];
        return `Istio ${minor} is past its end of life${eol ? ` (${eol})` : ""}: ${supported}; upgrade Istio first`;
    }
    return `Istio ${minor} is newer than this package knows: ${supported}; the Gateway API CRDs and chart values it installs are checked per minor`;
}

/** The supported line of a version that validation has accepted. */
export function istioLine(version: string): IstioLine {
    const line = istioLineOf(version);
    if (!line) throw new Error(`Istio ${version} is not a supported version`);
    return line;
}

/** The Gateway API release to install with a supported Istio version. */
export function gatewayApiVersionFor(istioVersion: string): string {
    return istioLine(istioVersion).gatewayApi;
}

/** The standard-channel install manifest (the CRDs only) of a Gateway API release, from `releases` (a mirror, or GitHub's releases). */
export function gatewayApiCrdsUrl(version: string, releases: string = GATEWAY_API_RELEASES): string {
    return `${releases}/${version}/standard-install.yaml`;
}

/**
 * The verify tool, a bin of this package: stack outputs print `npx <this> …`, which runs it
 * wherever the package is installed (a program that depends on it, or this repository).
 */
export const VERIFY_TOOL = "istio-sticky-verify";
