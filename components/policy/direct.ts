import toRegexRange from "to-regex-range";
import { parseCidr } from "../settings/rules";
import { ORIGINAL_DST_HEADER } from "../settings/wellKnown";
import { podPort, type AppSettings } from "../settings/schema";

/** Istio's validation webhook rejects regular expressions longer than this. */
export const ISTIO_MAX_REGEX_LENGTH = 1024;

export const DIRECT_SUBSET = "direct";
export const NORMAL_SUBSET = "normal";

/**
 * An RE2 expression matching exactly "<IPv4 address inside cidr>:<port>", the
 * only values of x-envoy-original-dst-host the direct route accepts. Envoy
 * matches it against the whole header value.
 */
export function podAddressRegex(cidr: string, port: number): string {
    const c = parseCidr(cidr);
    if (!c) throw new Error(`not an IPv4 CIDR: ${cidr}`);
    const octet = (i: number) => {
        const fixedBits = Math.min(8, Math.max(0, c.prefix - i * 8));
        const lo = c.octets[i] & (0xff << (8 - fixedBits)) & 0xff;
        const hi = lo + 2 ** (8 - fixedBits) - 1;
        return lo === hi ? String(lo) : toRegexRange(lo, hi);
    };
    return `${[0, 1, 2, 3].map(octet).join("\\.")}:${port}`;
}

export function directRefusal(app: AppSettings): string {
    return `direct routing refused: ${ORIGINAL_DST_HEADER} must be <pod IP>:${podPort(app)} with the pod IP inside ${app.direct.podCidr}`;
}
