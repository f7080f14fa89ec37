/**
 * ingress-nginx's session affinity and upstream hashing → this package's affinity
 * modes, one finding per annotation. Where each rule comes from:
 *
 * - ingress-nginx: internal/ingress/annotations/sessionaffinity/main.go (names,
 *   defaults), rootfs/etc/nginx/lua/balancer.lua (get_implementation: which
 *   balancer), balancer/sticky.lua (the cookie it sets), sticky_balanced.lua and
 *   sticky_persistent.lua (the two modes), chash.lua and chashsubset.lua
 *   (upstream-hash-by), internal/ingress/controller/controller.go (createServers:
 *   the cookie settings per upstream).
 * - Istio 1.31 / Envoy: the DestinationRule's consistentHash (httpCookie, ttl, path,
 *   attributes), the persistent-session Service label (a session cookie without
 *   attributes, path "/"), and Envoy's router (source/common/router/router.h:
 *   addDownstreamSetCookie, which always sets HttpOnly and derives the value from
 *   the client connection's addresses).
 */
import { AffinityMode, HashAlgorithm } from "../../components/settings/enums";
import {
    isCookieName,
    isLabelValue,
    isLowercaseHeaderName,
    isQueryParameterName,
} from "../../components/settings/rules";
import type { NginxAnnotations } from "./annotations";
import { approximate, exact, Finding, notMapped } from "./report";
import { COOKIE_SETTING_KEYS } from "./upstreams";

/** sessionaffinity/main.go: defaultAffinityCookieName. */
export const NGINX_DEFAULT_COOKIE = "INGRESSCOOKIE";

export interface ImportedCookie {
    name: string;
    ttl?: string;
    path?: string;
    attributes?: { name: string; value?: string }[];
}

/** An affinity in the stack config's shape (components/settings/schema.ts: affinitySchema). */
export interface ImportedAffinity {
    mode: AffinityMode;
    cookie?: ImportedCookie;
    headerName?: string;
    queryParameterName?: string;
    algorithm?: HashAlgorithm;
}

export interface AffinityContext {
    /**
     * The Ingress path of the location as written: ingress-nginx's $location_path, the
     * cookie's default path (sticky.lua: set_cookie; nginx.tmpl sets $location_path to the Ingress path).
     */
    locationPath: string;
    /** The location path is a regular expression (use-regex, or a rewrite on its host). */
    locationIsRegex: boolean;
    /** The app's path prefix on the gateway. */
    appPath: string;
    /** The stack serves HTTPS (some imported Ingress has TLS). */
    tls: boolean;
}

export interface AffinityMapping {
    affinity: ImportedAffinity;
    /** One finding per annotation (its name without the prefix) that has something to say. */
    findings: Map<string, Finding>;
}

/**
 * The hash algorithm for ingress-nginx's hash balancers. Both of its consistent hashes
 * (resty.chash: sticky_balanced for cookies, chash for upstream-hash-by) move about
 * (n-c)/n of the sessions when c pods become n (sticky_balanced.lua's header comment);
 * maglev moves about 1/N on Envoy, ring hash more (the mesh lab measures 21-30 % from 3 to
 * 4 pods with maglev, 30-41 % with ring hash: docs/lab.md).
 */
export const HASH_ALGORITHM = HashAlgorithm.Maglev;

/** The cookie settings, and the affinity mode that decides which of them apply. */
const COOKIE_KEYS = [...COOKIE_SETTING_KEYS, "affinity-mode"] as const;

const MISSING_KEY =
    "requests without the key: ingress-nginx hashed an empty key and sent them all to one pod (chash.lua), Envoy computes no hash and spreads them";

/** What upstream-hash-by's value hashes on, when Istio can hash on it too (chash.lua evaluates it as an nginx complex value). */
export function hashKeyOf(value: string): { affinity: ImportedAffinity; finding: Finding } | { refused: string } {
    const v = value.trim();
    const single = /^\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))$/.exec(v);
    const variable = single ? (single[1] ?? single[2]) : undefined;
    const refusedBase =
        "Istio hashes on one request header, one cookie, one query parameter or the client address (DestinationRule consistentHash); ";
    if (!variable) {
        return {
            refused:
                v === ""
                    ? "it is empty: ingress-nginx hashed every request to one pod"
                    : /\$/.test(v)
                      ? `${refusedBase}"${v}" combines variables or text, which it cannot`
                      : `${refusedBase}"${v}" is constant text: ingress-nginx sent every request to one pod`,
        };
    }
    const algorithm = HASH_ALGORITHM;
    if (variable === "remote_addr" || variable === "binary_remote_addr") {
        return {
            affinity: { mode: AffinityMode.SourceIp, algorithm },
            finding: approximate(
                `mode sourceIp (${algorithm}): ingress-nginx hashed the address it saw after its real-IP handling (use-forwarded-headers, use-proxy-protocol); ` +
                    "the gateway hashes the connection's source address, or X-Forwarded-For's with mesh.gateway.numTrustedProxies; behind a NodePort or " +
                    "LoadBalancer with externalTrafficPolicy Cluster it sees node addresses (set mesh.gateway.externalTrafficPolicy: Local)",
            ),
        };
    }
    if (variable.startsWith("http_")) {
        // nginx names header variables by the header lower-cased, with "-" as "_" (ngx_http_variable_unknown_header).
        const header = variable.slice("http_".length).replace(/_/g, "-").toLowerCase();
        if (header === "host") {
            return {
                refused: `${refusedBase}$http_host is the request's host, which Envoy keeps in the :authority pseudo-header that a header hash cannot name`,
            };
        }
        if (header === "" || !isLowercaseHeaderName(header)) return { refused: `"${v}" names no HTTP header` };
        return {
            affinity: { mode: AffinityMode.Header, headerName: header, algorithm },
            finding: approximate(`mode header on "${header}" (${algorithm}); ${MISSING_KEY}`),
        };
    }
    if (variable.startsWith("cookie_")) {
        const name = variable.slice("cookie_".length);
        if (!isCookieName(name)) return { refused: `"${v}" names no cookie` };
        return {
            affinity: { mode: AffinityMode.Cookie, cookie: { name }, algorithm },
            finding: approximate(
                `mode cookie on "${name}" without ttl (${algorithm}): your app sets the cookie, as under ingress-nginx, and Envoy only hashes it; ${MISSING_KEY}`,
            ),
        };
    }
    if (variable.startsWith("arg_")) {
        const name = variable.slice("arg_".length);
        if (!isQueryParameterName(name)) return { refused: `"${v}" names no query parameter` };
        return {
            affinity: { mode: AffinityMode.QueryParameter, queryParameterName: name, algorithm },
            finding: approximate(
                `mode queryParameter on "${name}" (${algorithm}): nginx matched the parameter's name in any case, Envoy matches it exactly; ${MISSING_KEY}`,
            ),
        };
    }
    const what: Record<string, string> = {
        request_uri: "the request URI",
        uri: "the request path",
        host: "the request's host",
        server_name: "the server name",
        args: "the whole query string",
        query_string: "the whole query string",
    };
    return { refused: `${refusedBase}$${variable}${what[variable] ? ` (${what[variable]})` : ""} is none of these` };
}

/** The cookie's lifetime from max-age and expires (sticky.lua sets Max-Age and Expires from them, in seconds). */
function ttlOf(a: NginxAnnotations, findings: Map<string, Finding>): string {
    const { maxAge, expires } = a.cookie;
    const seconds = maxAge ?? expires;
    if (seconds === undefined) return "0s";
    const from = maxAge !== undefined ? "session-cookie-max-age" : "session-cookie-expires";
    if (seconds <= 0) {
        findings.set(
            from,
            approximate(
                `ttl "0s" (a session cookie): ingress-nginx's ${seconds} made browsers drop the cookie at once, so no session stuck; Envoy keeps it for the browser session`,
            ),
        );
        return "0s";
    }
    if (maxAge !== undefined) {
        findings.set("session-cookie-max-age", exact(`cookie.ttl "${maxAge}s" (Envoy sends Max-Age=${maxAge})`));
        if (expires !== undefined) {
            findings.set(
                "session-cookie-expires",
                expires === maxAge
                    ? exact(
                          `the same lifetime as max-age; Envoy sends only Max-Age, which browsers use over Expires (RFC 6265 5.3)`,
                      )
                    : approximate(
                          `dropped: browsers used Max-Age (${maxAge}s) over Expires (${expires}s) already (RFC 6265 5.3), and Envoy sends only Max-Age`,
                      ),
            );
        }
    } else {
        findings.set(
            "session-cookie-expires",
            approximate(
                `cookie.ttl "${expires}s": Envoy sends Max-Age=${expires} instead of an Expires date; every current browser reads it the same way`,
            ),
        );
    }
    return `${seconds}s`;
}

/** The cookie's path: session-cookie-path, else the location's Ingress path (sticky.lua: set_cookie). */
function cookiePathOf(
    a: NginxAnnotations,
    ctx: AffinityContext,
    findings: Map<string, Finding>,
    notes: string[],
): string {
    const usable = (p: string) => p.startsWith("/") && !/\s|;/.test(p);
    if (a.cookie.path !== undefined) {
        if (usable(a.cookie.path)) {
            findings.set("session-cookie-path", exact(`cookie.path "${a.cookie.path}"`));
            return a.cookie.path;
        }
        findings.set(
            "session-cookie-path",
            notMapped(`"${a.cookie.path}" does not start with "/"; cookie.path is the app's path "${ctx.appPath}"`),
        );
        return ctx.appPath;
    }
    if (ctx.locationIsRegex) {
        // controller.go warns "session-cookie-path should be set when use-regex is true": the cookie got the regex as its path.
        notes.push(
            `cookie.path "${ctx.appPath}": the location path "${ctx.locationPath}" is a regular expression, which ingress-nginx used as the cookie's path ` +
                "(it warns that session-cookie-path should be set)",
        );
        return ctx.appPath;
    }
    return usable(ctx.locationPath) ? ctx.locationPath : ctx.appPath;
}

/** Attributes of an Envoy-set hash cookie: SameSite, Secure, Domain (Envoy adds HttpOnly itself, as sticky.lua does). */
function attributesOf(
    a: NginxAnnotations,
    ctx: AffinityContext,
    findings: Map<string, Finding>,
    notes: string[],
): { name: string; value?: string }[] {
    const out: { name: string; value?: string }[] = [];
    const c = a.cookie;
    if (c.sameSite !== undefined) {
        if (c.sameSite === "None" && !ctx.tls) {
            findings.set(
                "session-cookie-samesite",
                notMapped(
                    "browsers refuse a SameSite=None cookie without Secure, and the package sets Secure only with TLS on the gateway (no imported Ingress has TLS); " +
                        "left out, so browsers treat the cookie as Lax: cross-site requests (an embedding page's) are not sticky. Add istio-sticky:tls to keep None",
                ),
            );
        } else {
            out.push({ name: "SameSite", value: c.sameSite });
            findings.set("session-cookie-samesite", exact(`cookie attribute SameSite=${c.sameSite}`));
        }
    } else if (ctx.tls) {
        notes.push(
            "with TLS on, the package gives the cookie SameSite=Lax (and Secure, HttpOnly); ingress-nginx set no SameSite, which current browsers also read as Lax",
        );
    }
    if (c.conditionalSameSiteNone !== undefined) {
        findings.set(
            "session-cookie-conditional-samesite-none",
            !c.conditionalSameSiteNone
                ? exact("false: SameSite is sent to every browser")
                : c.sameSite === "None" && !ctx.tls
                  ? notMapped("SameSite=None is left out (see session-cookie-samesite)")
                  : c.sameSite === "None"
                    ? approximate(
                          "Envoy sends SameSite=None to every browser: ingress-nginx left it out for browsers that mishandle it (util/same_site.lua: old Chrome, " +
                              "Safari on macOS 10.14 and iOS 12), which may now refuse the cookie or treat it as Strict",
                      )
                    : exact("no effect: the cookie does not carry SameSite=None"),
        );
    }
    if (c.secure !== undefined) {
        if (c.secure && ctx.tls) {
            out.push({ name: "Secure" });
            findings.set("session-cookie-secure", exact("cookie attribute Secure"));
        } else if (c.secure) {
            findings.set(
                "session-cookie-secure",
                notMapped(
                    "the package refuses Secure without TLS on the gateway (a browser never sends a Secure cookie over plain HTTP); where TLS ends in front of the " +
                        "gateway, add istio-sticky:tls or set the attribute once the gateway serves HTTPS",
                ),
            );
        } else {
            findings.set(
                "session-cookie-secure",
                ctx.tls
                    ? approximate(
                          "ingress-nginx still marked the cookie Secure on HTTPS requests (sticky.lua); with TLS on, the package marks it Secure on every request",
                      )
                    : exact("no Secure attribute (ingress-nginx set it on HTTPS requests only, and there are none)"),
            );
        }
    }
    if (c.domain !== undefined) {
        if (c.domain === "" || /[^A-Za-z0-9.-]/.test(c.domain)) {
            findings.set(
                "session-cookie-domain",
                notMapped(`"${c.domain}" is no domain name; the cookie is host-only`),
            );
        } else {
            out.push({ name: "Domain", value: c.domain });
            findings.set(
                "session-cookie-domain",
                exact(`cookie attribute Domain=${c.domain} (Envoy copies attributes into the cookie it sets)`),
            );
        }
    }
    return out;
}

function changeOnFailure(a: NginxAnnotations, persistent: boolean, findings: Map<string, Finding>): void {
    if (a.cookie.changeOnFailure === undefined) return;
    if (!a.cookie.changeOnFailure) {
        findings.set(
            "session-cookie-change-on-failure",
            persistent
                ? approximate(
                      "Envoy keeps a session on its pod while the pod is a healthy endpoint, and moves it (rewriting the cookie) once it is not",
                  )
                : exact(
                      "after a failed attempt the request stays on the cookie's pod: Istio gives hashed routes retries without Envoy's previous_hosts predicate " +
                          "(pilot/pkg/networking/core/route/retry/retry.go: DefaultConsistentHashPolicy), and the cookie never changes",
                  ),
        );
        return;
    }
    findings.set(
        "session-cookie-change-on-failure",
        notMapped(
            persistent
                ? "Envoy moves a persistent session only when its pod is no longer a healthy endpoint, not after one failed request"
                : "Envoy never rewrites a hash cookie: after a failed attempt the next request goes to the same pod, and the session moves only when the pod " +
                      "leaves the endpoints (not ready, or removed)",
        ),
    );
}

function cookieAffinity(a: NginxAnnotations, ctx: AffinityContext): AffinityMapping {
    const findings = new Map<string, Finding>();
    const mode = a.affinityMode ?? "balanced";
    let name = a.cookie.name ?? NGINX_DEFAULT_COOKIE;
    if (a.cookie.name !== undefined) {
        if (isCookieName(a.cookie.name)) findings.set("session-cookie-name", exact(`cookie.name "${a.cookie.name}"`));
        else {
            findings.set(
                "session-cookie-name",
                notMapped(`"${a.cookie.name}" is not a cookie name (RFC 6265 token); ${NGINX_DEFAULT_COOKIE} is used`),
            );
            name = NGINX_DEFAULT_COOKIE;
        }
    }
    const persistentName = isLabelValue(name);
    if (mode === "persistent" && persistentName) {
        // sticky_persistent.lua keeps each session on its pod until that pod goes (no rebalancing on scale-up): Envoy's
        // stateful session does the same, with the pod's address in the cookie.
        findings.set(
            "affinity-mode",
            exact(
                "mode persistentCookie: Envoy writes the pod's address into the cookie and follows it while the pod exists, so scale-ups move no session, " +
                    "as sticky_persistent.lua kept them (istiod gets PILOT_ENABLE_PERSISTENT_SESSION_FILTER)",
            ),
        );
        const drop = (key: string, why: string) => findings.set(key, notMapped(why));
        const { maxAge, expires, sameSite, secure, domain } = a.cookie;
        if (maxAge !== undefined)
            drop(
                "session-cookie-max-age",
                "Istio's persistent-session cookie is a session cookie (no Max-Age) since Istio 1.22",
            );
        if (expires !== undefined)
            drop(
                "session-cookie-expires",
                "Istio's persistent-session cookie is a session cookie (no Expires) since Istio 1.22",
            );
        if (sameSite !== undefined)
            drop(
                "session-cookie-samesite",
                "Istio's persistent-session cookie carries no attributes; browsers read it as SameSite=Lax",
            );
        if (secure !== undefined)
            drop("session-cookie-secure", "Istio's persistent-session cookie carries no attributes (no Secure)");
        if (domain !== undefined)
            drop("session-cookie-domain", "Istio's persistent-session cookie carries no attributes: it is host-only");
        if (a.cookie.conditionalSameSiteNone !== undefined)
            drop("session-cookie-conditional-samesite-none", "the persistent-session cookie has no SameSite");
        const nginxPath = a.cookie.path ?? ctx.locationPath;
        const pathNote =
            `cookie path "/" instead of "${nginxPath}": Istio reads the persistent cookie from a Service label, whose value cannot hold a path; ` +
            "the browser sends the cookie on every path of the host";
        if (a.cookie.path !== undefined)
            findings.set("session-cookie-path", nginxPath === "/" ? exact('cookie path "/"') : approximate(pathNote));
        changeOnFailure(a, true, findings);
        const base = `mode persistentCookie, cookie "${name}"${a.cookie.name === undefined ? " (ingress-nginx's default name)" : ""}`;
        const cutover =
            "a session cookie ingress-nginx set names no pod Envoy knows, so each session is placed once more on its first request through the gateway";
        findings.set(
            "affinity",
            approximate(
                [base, cutover, ...(nginxPath !== "/" && a.cookie.path === undefined ? [pathNote] : [])].join("; "),
            ),
        );
        return { affinity: { mode: AffinityMode.PersistentCookie, cookie: { name } }, findings };
    }
    if (mode === "persistent") {
        findings.set(
            "affinity-mode",
            approximate(
                `mode cookie (a hash, ${HASH_ALGORITHM}) instead of persistentCookie: the cookie name "${name}" is not a Kubernetes label value, which Istio's ` +
                    "persistent-session label needs; a scale-up moves some sessions (about 1/N), which sticky_persistent.lua did not",
            ),
        );
    } else {
        findings.set(
            "affinity-mode",
            exact(
                `mode cookie (a hash, ${HASH_ALGORITHM}): sticky_balanced.lua hashes a random key kept in the cookie and moves about (n-c)/n of the sessions ` +
                    "when c pods become n; Envoy hashes the cookie it sets onto a maglev table, which moves about 1/N",
            ),
        );
    }
    if (a.affinityMode === undefined) findings.delete("affinity-mode");
    const notes: string[] = [];
    const ttl = ttlOf(a, findings);
    const path = cookiePathOf(a, ctx, findings, notes);
    const attributes = attributesOf(a, ctx, findings, notes);
    changeOnFailure(a, false, findings);
    const base = `mode cookie, cookie "${name}", ttl "${ttl}"${ttl === "0s" ? " (a session cookie, as ingress-nginx set it without max-age or expires)" : ""}, path "${path}"`;
    const connection =
        "Envoy derives the value of the cookie it sets from the client connection's addresses where ingress-nginx drew a random key, so clients " +
        "sharing one connection to the gateway (behind a proxy that pools connections) share a pod";
    const cutover =
        "a cookie ingress-nginx set keeps working as a key, but Envoy hashes it onto the pods anew: each session may move once, at the cut-over";
    findings.set("affinity", approximate([base, connection, ...notes, cutover].join("; ")));
    return {
        affinity: {
            mode: AffinityMode.Cookie,
            cookie: { name, ttl, path, ...(attributes.length ? { attributes } : {}) },
            algorithm: HASH_ALGORITHM,
        },
        findings,
    };
}

/** The affinity of one location of an Ingress, with one finding per annotation that takes part. */
export function mapAffinity(a: NginxAnnotations, ctx: AffinityContext): AffinityMapping {
    const findings = new Map<string, Finding>();
    let result: AffinityMapping;
    // balancer.lua: get_implementation: cookie affinity first, then upstream-hash-by (subset or not), then load-balance.
    if (a.affinity === "cookie") {
        result = cookieAffinity(a, ctx);
        for (const key of [
            "upstream-hash-by",
            "upstream-hash-by-subset",
            "upstream-hash-by-subset-size",
            "load-balance",
        ]) {
            if (a.raw[key] !== undefined) {
                result.findings.set(
                    key,
                    notMapped(
                        "ingress-nginx ignored it: cookie affinity takes precedence (balancer.lua: get_implementation)",
                    ),
                );
            }
        }
    } else {
        for (const key of COOKIE_KEYS) {
            if (a.raw[key] !== undefined)
                findings.set(key, notMapped("no effect without affinity: cookie, in ingress-nginx as here"));
        }
        if (a.hashBy !== undefined) {
            const key = hashKeyOf(a.hashBy);
            if ("refused" in key) {
                findings.set(
                    "upstream-hash-by",
                    notMapped(`${key.refused}; the app is imported with mode none (round robin)`),
                );
                result = { affinity: { mode: AffinityMode.None }, findings };
            } else {
                findings.set("upstream-hash-by", key.finding);
                result = { affinity: key.affinity, findings };
                if (a.hashBySubset) {
                    findings.set(
                        "upstream-hash-by-subset",
                        approximate(
                            "each key reaches one pod, not one of a subset of pods (chashsubset.lua picks a pod of the key's subset at random): stickier, " +
                                "with each key's load on one pod",
                        ),
                    );
                } else if (a.hashBySubset === false)
                    findings.set("upstream-hash-by-subset", exact("false: each key reaches one pod"));
                if (a.hashBySubsetSize !== undefined) {
                    findings.set(
                        "upstream-hash-by-subset-size",
                        a.hashBySubset
                            ? notMapped("Istio hashes each key to one pod; there are no subsets")
                            : notMapped("no effect without upstream-hash-by-subset"),
                    );
                }
            }
            if (a.raw["load-balance"] !== undefined) {
                findings.set(
                    "load-balance",
                    notMapped(
                        "ingress-nginx ignored it: upstream-hash-by takes precedence (balancer.lua: get_implementation)",
                    ),
                );
            }
        } else {
            if (a.hashBySubset !== undefined)
                findings.set("upstream-hash-by-subset", notMapped("no effect without upstream-hash-by"));
            if (a.hashBySubsetSize !== undefined)
                findings.set("upstream-hash-by-subset-size", notMapped("no effect without upstream-hash-by"));
            if (a.loadBalance === "round_robin") findings.set("load-balance", exact("mode none (round robin)"));
            else if (a.loadBalance === "ewma") {
                findings.set(
                    "load-balance",
                    approximate(
                        "mode none (round robin): the package has no latency-weighted balancing (ingress-nginx's ewma)",
                    ),
                );
            } else if (a.loadBalance !== undefined) {
                findings.set(
                    "load-balance",
                    notMapped(
                        `"${a.loadBalance}" hashes nothing without upstream-hash-by or affinity (balancer.lua); mode none (round robin)`,
                    ),
                );
            }
            result = { affinity: { mode: AffinityMode.None }, findings };
        }
    }
    if (a.canaryBehavior !== undefined) {
        result.findings.set(
            "affinity-canary-behavior",
            notMapped(
                "it only matters with a canary Ingress, and canary Ingresses are not imported (their traffic goes to the main backend)",
            ),
        );
    }
    return result;
}
