import { GATEWAY_API_RELEASES } from "./artifacts";
import { compareMinor, compareVersions, parseVersion } from "./rules";

/**
 * The Istio minors this package installs and configures, each with what depends on
 * the minor. Istio supports two minors at a time; 1.29 reached its end of life on
 * 2026-10-15. Both supported minors run on Kubernetes 1.32 to 1.36.
 */
export interface IstioLine {
    /** "1.31" */
    minor: string;
    /**
     * The Gateway API release whose standard-channel CRDs the stack installs: the newest patch
     * of the one this minor's istiod is built against (its go.mod), which it also requires at
     * least (pkg/config/schema/gatewayapi/minimumversions.go: older CRDs are ignored).
     */
    gatewayApi: string;
    /** Its newest patch: the newest istio.io/client-go tag of the minor (`npm run -s versions` reads them). */
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
    /** The oldest patch accepted, and why older ones are refused (a security advisory, a defect). */
    floor?: { version: string; why: string };
    /**
     * When Istio stops supporting the minor: six weeks after the second minor after it is released
     * (istio.io docs/releases/supported-releases). Until then a stack on it gets a warning naming the
     * date; `npm run -s versions` fails once the date has passed, and the line then moves to
     * ISTIO_END_OF_LIFE, which refuses it. `basis` says where the date comes from.
     */
    endOfLife?: { date: string; basis: string };
    /** Advisories a patch of the minor is open to, until the patch that fixes it: a warning, not a refusal. */
    advisories?: { fixedIn: string; what: string }[];
}

export const ISTIO_LINES: readonly IstioLine[] = [
    // istio/istio 1.30.3 go.mod: sigs.k8s.io/gateway-api v1.5.1. 1.30.5: announced 2026-09-21; istio.io/client-go is
    // tagged up to v1.30.8 (2026-10-21), its newest patch (docs/versions.md).
    {
        minor: "1.30",
        gatewayApi: "v1.5.1",
        latest: "1.30.8",
        waypointHashNeedsVirtualService: true,
        sendsUnhealthyEndpoints: false,
        floor: {
            version: "1.30.5",
            why:
                "1.30.4 fixed 13 Envoy CVEs and GHSA-qm8v-g4f9-qhjx, a BackendTLSPolicy that fails open to plaintext " +
                "(ISTIO-SECURITY-2026-006, 2026-08-26), and 1.30.5 (2026-09-21) is 1.30's newest announced patch",
        },
        endOfLife: {
            date: "2026-12-02",
            basis:
                "estimated: six weeks after Istio 1.32.0, whose istio.io/client-go tag is dated 2026-10-21; " +
                "Istio has published no end-of-life notice for 1.30 yet",
        },
    },
    // istio/istio 1.31.0 go.mod: sigs.k8s.io/gateway-api v1.6.0; v1.6.3 (2026-10-06) is that release's newest patch
    // (it changes only the CRDs' descriptions). 1.31.1: announced 2026-09-21; istio.io/client-go is tagged up to
    // v1.31.4 (2026-10-21), the release's newest patch.
    {
        minor: "1.31",
        gatewayApi: "v1.6.3",
        latest: "1.31.4",
        waypointHashNeedsVirtualService: false,
        sendsUnhealthyEndpoints: true,
        advisories: [
            {
                fixedIn: "1.31.1",
                what: "GHSA-qm8v-g4f9-qhjx, a BackendTLSPolicy that fails open to plaintext on sidecars (Istio 1.31.1's notes)",
            },
        ],
    },
];

/** The module whose tags mark Istio's releases (Istio tags istio.io/client-go as it releases). */
export const ISTIO_RELEASE_MODULE = "istio.io/client-go";

/** The newest cert-manager patch confirmed (its v1.21.2 tag, 2026-09-10); 1.19 reached its end of life when 1.21 came out. */
export const DEFAULT_CERT_MANAGER_VERSION = "v1.21.2";
/** The oldest cert-manager minor this package installs: the one its chart tests run. */
export const MIN_CERT_MANAGER_MINOR = { major: 1, minor: 21 } as const;

/**
 * The Node.js lines in support, with their end of life (nodejs/Release schedule.json); the
 * oldest is the package's `engines.node` floor. Node.js 20 reached its end of life on 2026-04-30.
 */
export const NODE_LINES: readonly { major: number; endOfLife: string }[] = [
    { major: 22, endOfLife: "2027-04-30" },
    { major: 24, endOfLife: "2028-04-30" },
    { major: 26, endOfLife: "2029-04-30" },
];

/** The newest releases of the SDKs a program brings, which the consumer tests install (npm's latest on 2026-11-29). */
export const TESTED_SDKS: Readonly<Record<"@pulumi/pulumi" | "@pulumi/kubernetes", string>> = {
    "@pulumi/pulumi": "3.276.0",
    "@pulumi/kubernetes": "4.34.2",
};

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
    const line = istioLineOf(version);
    if (line?.floor && compareVersions(version, line.floor.version) < 0)
        return `Istio ${version} is older than ${line.floor.version}, the oldest ${line.minor} patch this package installs: ${line.floor.why}`;
    if (!minor || line) return undefined;
    const supported = `this package supports ${ISTIO_LINES.map((l) => l.minor).join(" and ")} (the minors Istio supports)`;
    const [major, oldest] = ISTIO_LINES[0].minor.split(".").map(Number);
    if (compareMinor(parseVersion(version)!, major, oldest) < 0) {
        const eol = ISTIO_END_OF_LIFE[minor];
        return `Istio ${minor} is past its end of life${eol ? ` (${eol})` : ""}: ${supported}; upgrade Istio first`;
    }
    return `Istio ${minor} is newer than this package knows: ${supported}; the Gateway API CRDs and chart values it installs are checked per minor`;
}

/** A warning for a version whose minor Istio stops supporting soon, or undefined. */
export function istioEndOfLifeWarning(version: string): string | undefined {
    const eol = istioLineOf(version)?.endOfLife;
    if (!eol) return undefined;
    const newest = ISTIO_LINES[ISTIO_LINES.length - 1];
    return (
        `Istio ${minorOf(version)} reaches its end of life on ${eol.date} (${eol.basis}); after it, this package ` +
        `refuses it: upgrade to ${newest.minor} (${newest.latest})`
    );
}

/** Warnings for the advisories a version is open to (fixed in a later patch of its minor). */
export function istioAdvisoryWarnings(version: string): string[] {
    return (istioLineOf(version)?.advisories ?? [])
        .filter((a) => compareVersions(version, a.fixedIn) < 0)
        .map((a) => `Istio ${version} is open to ${a.what}, fixed in ${a.fixedIn}: upgrade to ${a.fixedIn} or later`);
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
