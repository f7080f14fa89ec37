/**
 * The ingress-nginx annotations of one Ingress, read with the controller's own
 * validators (kubernetes/ingress-nginx internal/ingress/annotations/*: each
 * annotation's `Validator`). ingress-nginx logs a value its validator refuses
 * and goes on without it ("Ignoring"), so sessions silently stopped being
 * sticky; the import refuses such a value instead, so that nothing is lost
 * without a word.
 */
import type { Ingress } from "./input";

export const PREFIX = "nginx.ingress.kubernetes.io/";

export type SameSite = "None" | "Lax" | "Strict";

export interface CookieAnnotations {
    name?: string;
    secure?: boolean;
    /** Seconds, as written (ingress-nginx passes the text to Lua's tonumber). */
    expires?: number;
    maxAge?: number;
    path?: string;
    domain?: string;
    sameSite?: SameSite;
    conditionalSameSiteNone?: boolean;
    changeOnFailure?: boolean;
}

export interface NginxAnnotations {
    /** Every annotation of the prefix, by its name without the prefix. */
    raw: Record<string, string>;
    affinity?: "cookie";
    affinityMode?: "balanced" | "persistent";
    canaryBehavior?: "sticky" | "legacy";
    cookie: CookieAnnotations;
    hashBy?: string;
    hashBySubset?: boolean;
    hashBySubsetSize?: number;
    loadBalance?: string;
    useRegex?: boolean;
    rewriteTarget?: string;
    backendProtocol?: string;
    sslRedirect?: boolean;
    forceSslRedirect?: boolean;
    canary?: boolean;
}

/** Go's strconv.ParseBool, which GetBoolAnnotation uses (internal/ingress/annotations/parser/main.go: parseBool). */
export function parseGoBool(s: string): boolean | undefined {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
    return undefined;
}

// parser/validators.go
const ALPHA_NUMERIC = String.raw`\-._~a-zA-Z0-9/:`;
const BASIC_CHARS = new RegExp(`^[/${ALPHA_NUMERIC}]*$`);
const URL_CHARS = new RegExp(`^[${ALPHA_NUMERIC},:?&=]*$`);
const REGEX_PATH_WITH_CAPTURE = new RegExp(`^/?[${ALPHA_NUMERIC}/$]*$`);
// upstreamhashby/main.go: hashByRegex
const HASH_BY = /^[A-Za-z0-9\-_${}]*$/;
// sessionaffinity/main.go: affinityCookieExpiresRegex is `(^0|-?[1-9]\d*$)`, which also lets "0x" through to
// Lua's tonumber (nil: no attribute); a whole number is what it means.
const SECONDS = /^(0|-?[1-9]\d*)$/;

interface Field<T> {
    parse: (v: string) => T | undefined;
    allowed: string;
}

const options = <T extends string>(values: readonly T[], caseSensitive: boolean): Field<T> => ({
    // parser.ValidateOptions(options, caseSensitive, trimSpace=true)
    parse: (v) => {
        const s = caseSensitive ? v.trim() : v.trim().toLowerCase();
        return values.find((o) => (caseSensitive ? o : o.toLowerCase()) === s);
    },
    allowed: values.join(", "),
});
const bool: Field<boolean> = { parse: parseGoBool, allowed: "true or false" };
const regex = (re: RegExp, allowed: string): Field<string> => ({ parse: (v) => (re.test(v) ? v : undefined), allowed });
const seconds: Field<number> = {
    parse: (v) => (SECONDS.test(v) ? Number(v) : undefined),
    allowed: "a whole number of seconds",
};
const int: Field<number> = { parse: (v) => (/^[+-]?\d+$/.test(v) ? Number(v) : undefined), allowed: "a whole number" };

/**
 * The annotations the import reads, each with its validator. Others of the
 * prefix are reported as not mapped (ingresses.ts), never refused.
 */
const FIELDS = {
    affinity: options(["cookie"] as const, true),
    "affinity-mode": options(["balanced", "persistent"] as const, true),
    "affinity-canary-behavior": options(["sticky", "legacy"] as const, true),
    "session-cookie-name": regex(BASIC_CHARS, "letters, digits and -._~/:"),
    "session-cookie-secure": bool,
    "session-cookie-expires": seconds,
    "session-cookie-max-age": seconds,
    "session-cookie-path": regex(URL_CHARS, "a URL path (letters, digits and -._~/:,?&=)"),
    "session-cookie-domain": regex(BASIC_CHARS, "letters, digits and -._~/:"),
    "session-cookie-samesite": options(["None", "Lax", "Strict"] as const, false),
    "session-cookie-conditional-samesite-none": bool,
    "session-cookie-change-on-failure": bool,
    "upstream-hash-by": regex(HASH_BY, "nginx variables and text (letters, digits and -_${})"),
    "upstream-hash-by-subset": bool,
    "upstream-hash-by-subset-size": int,
    "load-balance": options(
        ["round_robin", "chash", "chashsubset", "sticky_balanced", "sticky_persistent", "ewma"] as const,
        true,
    ),
    "use-regex": bool,
    "rewrite-target": regex(REGEX_PATH_WITH_CAPTURE, "a path with $1-style captures"),
    "backend-protocol": options(["AUTO_HTTP", "HTTP", "HTTPS", "GRPC", "GRPCS", "FCGI"] as const, false),
    "ssl-redirect": bool,
    "force-ssl-redirect": bool,
    canary: bool,
} as const;

export type KnownAnnotation = keyof typeof FIELDS;
export const KNOWN_ANNOTATIONS = Object.keys(FIELDS) as KnownAnnotation[];

type Parsed = { [K in KnownAnnotation]?: NonNullable<ReturnType<(typeof FIELDS)[K]["parse"]>> };

/** The annotations of an Ingress; `problems` gets one line per value ingress-nginx would have refused. */
export function readAnnotations(ing: Ingress, problems: string[]): NginxAnnotations {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(ing.annotations)) if (k.startsWith(PREFIX)) raw[k.slice(PREFIX.length)] = v;
    const p: Parsed = {};
    for (const key of KNOWN_ANNOTATIONS) {
        const value = raw[key];
        if (value === undefined) continue;
        const parsed = FIELDS[key].parse(value);
        if (parsed === undefined) {
            problems.push(
                `Ingress ${ing.namespace}/${ing.name} (${ing.source}): ${PREFIX}${key}: ${JSON.stringify(value)} is not a value ingress-nginx accepts ` +
                    `(${FIELDS[key].allowed}); ingress-nginx ignored it, so it did not do what it says: correct it or remove it, then import again`,
            );
            continue;
        }
        (p as Record<string, unknown>)[key] = parsed;
    }
    const cookie: CookieAnnotations = {
        ...(p["session-cookie-name"] !== undefined ? { name: p["session-cookie-name"] } : {}),
        ...(p["session-cookie-secure"] !== undefined ? { secure: p["session-cookie-secure"] } : {}),
        ...(p["session-cookie-expires"] !== undefined ? { expires: p["session-cookie-expires"] } : {}),
        ...(p["session-cookie-max-age"] !== undefined ? { maxAge: p["session-cookie-max-age"] } : {}),
        ...(p["session-cookie-path"] !== undefined ? { path: p["session-cookie-path"] } : {}),
        ...(p["session-cookie-domain"] !== undefined ? { domain: p["session-cookie-domain"] } : {}),
        ...(p["session-cookie-samesite"] !== undefined ? { sameSite: p["session-cookie-samesite"] } : {}),
        ...(p["session-cookie-conditional-samesite-none"] !== undefined
            ? { conditionalSameSiteNone: p["session-cookie-conditional-samesite-none"] }
            : {}),
        ...(p["session-cookie-change-on-failure"] !== undefined
            ? { changeOnFailure: p["session-cookie-change-on-failure"] }
            : {}),
    };
    return {
        raw,
        cookie,
        ...(p.affinity !== undefined ? { affinity: p.affinity } : {}),
        ...(p["affinity-mode"] !== undefined ? { affinityMode: p["affinity-mode"] } : {}),
        ...(p["affinity-canary-behavior"] !== undefined ? { canaryBehavior: p["affinity-canary-behavior"] } : {}),
        ...(p["upstream-hash-by"] !== undefined ? { hashBy: p["upstream-hash-by"] } : {}),
        ...(p["upstream-hash-by-subset"] !== undefined ? { hashBySubset: p["upstream-hash-by-subset"] } : {}),
        ...(p["upstream-hash-by-subset-size"] !== undefined
            ? { hashBySubsetSize: p["upstream-hash-by-subset-size"] }
            : {}),
        ...(p["load-balance"] !== undefined ? { loadBalance: p["load-balance"] } : {}),
        ...(p["use-regex"] !== undefined ? { useRegex: p["use-regex"] } : {}),
        ...(p["rewrite-target"] !== undefined ? { rewriteTarget: p["rewrite-target"] } : {}),
        ...(p["backend-protocol"] !== undefined ? { backendProtocol: p["backend-protocol"] } : {}),
        ...(p["ssl-redirect"] !== undefined ? { sslRedirect: p["ssl-redirect"] } : {}),
        ...(p["force-ssl-redirect"] !== undefined ? { forceSslRedirect: p["force-ssl-redirect"] } : {}),
        ...(p.canary !== undefined ? { canary: p.canary } : {}),
    };
}
