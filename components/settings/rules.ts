/**
 * Field rules shared by the settings schema: each is a pure predicate or a pure
 * parser, so it can be unit-tested on its own.
 */

/** Envoy rejects a maglev table that is not prime; Istio also caps it below this size. */
export const MAGLEV_TABLE_SIZE_LIMIT = 5_000_011;
/** Envoy's upper bound for `ring_hash_lb_config.minimum_ring_size` (8M entries). */
export const MAX_RING_SIZE = 8_388_608;

/** Ports the Istio sidecar and agent listen on; an app port must not collide with them. */
export const ISTIO_RESERVED_PORTS: readonly number[] = [
    15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090,
];

export function isPrime(n: number): boolean {
    if (!Number.isInteger(n) || n < 2) return false;
    if (n % 2 === 0) return n === 2;
    for (let d = 3; d * d <= n; d += 2) {
        if (n % d === 0) return false;
    }
    return true;
}

/** A DNS-1123 label: what Kubernetes accepts as a namespace or Service name. */
export function isDnsLabel(s: string): boolean {
    return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** An HTTP header name (RFC 9110 token) in lower case, as Envoy matches them. */
/** An HTTP header name (RFC 9110 token), in any case: Envoy compares header names lower-cased. */
export function isHeaderName(s: string): boolean {
    return /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(s);
}

export function isLowercaseHeaderName(s: string): boolean {
    return /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(s);
}

/** A cookie name (RFC 6265 token). */
export function isCookieName(s: string): boolean {
    return /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(s);
}

/** A Kubernetes label value, non-empty. */
export function isLabelValue(s: string): boolean {
    return s.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(s);
}

/** A URL query parameter name that needs no percent-encoding. */
export function isQueryParameterName(s: string): boolean {
    return /^[A-Za-z0-9._~-]+$/.test(s);
}

/** A Go/protobuf duration as Istio accepts it: "60s", "1.5h", "1h30m", "0s". */
export function isDuration(s: string): boolean {
    return /^(\d+(\.\d+)?(ns|us|µs|μs|ms|s|m|h))+$/.test(s);
}

/**
 * A route path prefix: starts with "/", plain segments, no trailing slash
 * (except the root "/"), no query or fragment.
 */
export function isRoutePath(s: string): boolean {
    return s === "/" || /^(\/[A-Za-z0-9._~-]+)+$/.test(s);
}

/** True when one path would shadow the other as a prefix route. */
export function pathsOverlap(a: string, b: string): boolean {
    if (a === b || a === "/" || b === "/") return true;
    return a.startsWith(b + "/") || b.startsWith(a + "/");
}

export interface Version {
    major: number;
    minor: number;
    patch: number;
}

/** Parses "1.30.5" or "1.31.0-rc.1"; undefined when it is not such a version. */
export function parseVersion(s: string): Version | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(s);
    if (!m) return undefined;
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Compares two versions "1.30.5" by major, minor and patch (pre-releases before their release). */
export function compareVersions(a: string, b: string): number {
    const [x, y] = [parseVersion(a), parseVersion(b)];
    if (!x || !y) throw new Error(`not versions: ${a}, ${b}`);
    const d = x.major - y.major || x.minor - y.minor || x.patch - y.patch;
    if (d) return d;
    return (a.includes("-") ? -1 : 0) - (b.includes("-") ? -1 : 0);
}

/** Compares a version with "major.minor": negative when older. */
export function compareMinor(v: Version, major: number, minor: number): number {
    return v.major !== major ? v.major - major : v.minor - minor;
}

export interface Cidr {
    /** The network address as four octets. */
    octets: [number, number, number, number];
    prefix: number;
}

/** Parses an IPv4 CIDR such as "10.244.0.0/16"; undefined when it is not one. */
export function parseCidr(s: string): Cidr | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number) as Cidr["octets"];
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    return { octets, prefix };
}

/** True when the address has no bits set past the prefix ("10.244.0.0/16", not "10.244.1.0/16"). */
export function isNetworkAddress(c: Cidr): boolean {
    const value = c.octets.reduce((acc, o) => acc * 256 + o, 0);
    const hostBits = 2 ** (32 - c.prefix);
    return value % hostBits === 0;
}

/** Two exact-value header matches can both match one request unless some header they share differs. */
export function headerMatchesOverlap(
    a: Readonly<Record<string, string>>,
    b: Readonly<Record<string, string>>,
): boolean {
    return Object.keys(a).every((k) => !(k in b) || a[k] === b[k]);
}

/** Envoy's default maglev table size (a prime), used when `algorithm: maglev` names no size. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

/**
 * The longest duration Istio accepts: it parses durations with Go's
 * time.ParseDuration, which holds nanoseconds in an int64.
 */
export const MAX_GO_DURATION_NS = 2n ** 63n - 1n;

const DURATION_UNIT_NS: Readonly<Record<string, bigint>> = {
    ns: 1n,
    us: 1_000n,
    µs: 1_000n,
    μs: 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};

/** A Go duration ("1h30m", "0.5s") in nanoseconds, truncated as Go does; undefined when it is not one. */
export function goDurationNanos(s: string): bigint | undefined {
    if (!isDuration(s)) return undefined;
    let total = 0n;
    for (const [, whole, frac = "", unit] of s.matchAll(/(\d+)(?:\.(\d+))?(ns|us|µs|μs|ms|s|m|h)/g)) {
        const scale = DURATION_UNIT_NS[unit];
        total += BigInt(whole) * scale + (frac ? (BigInt(frac) * scale) / 10n ** BigInt(frac.length) : 0n);
    }
    return total;
}

/** A container image reference that names a tag or a digest (without one, Kubernetes pulls ":latest"). */
export function hasTagOrDigest(image: string): boolean {
    if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
    const last = image.slice(image.lastIndexOf("/") + 1);
    return /:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(last);
}

/** A Kubernetes label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export function isLabelKey(s: string): boolean {
    const slash = s.lastIndexOf("/");
    const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
    const name = s.slice(slash + 1);
    const nameOk = name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
    const prefixOk =
        prefix === undefined ||
        (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix));
    return nameOk && prefixOk;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
    if (inner.prefix < outer.prefix) return false;
    const value = (c: Cidr) => c.octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - outer.prefix);
    return Math.floor(value(inner) / size) === Math.floor(value(outer) / size);
}

/**
 * The address ranges a pod network may use: RFC 1918 private space and RFC 6598
 * shared space (some CNIs use 100.64.0.0/10). Anything else reaches loopback,
 * link-local (cloud metadata) or the internet.
 */
export const PRIVATE_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

export function isPrivateCidr(c: Cidr): boolean {
    return PRIVATE_RANGES.some((r) => cidrWithin(c, parseCidr(r)!));
}

/** A loopback host: a mirror on this machine may serve plain HTTP. */
function isLoopbackHost(host: string): boolean {
    return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Where artifacts are fetched from: https://, or http:// on a loopback host (a local mirror); no trailing slash, query or fragment. */
export function isArtifactUrl(s: string, schemes: readonly string[] = ["https:"]): boolean {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    const scheme = schemes.includes(u.protocol) || (u.protocol === "http:" && isLoopbackHost(u.hostname));
    return scheme && u.hostname !== "" && !s.endsWith("/") && u.search === "" && u.hash === "";
}

/** A Helm chart repository: an https:// repository URL (http:// on loopback) or an oci:// registry path. */
export function isChartRepository(s: string): boolean {
    return isArtifactUrl(s, ["https:", "oci:"]);
}

/**
 * An image hub: a registry host (with an optional port) and a path, lower case, as
 * Istio's charts prepend it to image names ("docker.io/istio", "registry.example.com:5000/mirror/istio").
 */
export function isImageHub(s: string): boolean {
    return s.length <= 255 && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(s);
}
