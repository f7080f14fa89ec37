/**
 * Which Ingress's annotations decide a Service's balancing when several Ingresses
 * name it. ingress-nginx keeps one upstream per Service port and fills it while it
 * walks the Ingresses in order (internal/ingress/controller/controller.go):
 *
 * - createUpstreams: the first Ingress that names the Service creates the upstream,
 *   with its upstream-hash-by (and -subset, -subset-size) and load-balance; later
 *   Ingresses change none of them;
 * - createServers: the affinity type is taken from the first Ingress that sets one,
 *   the affinity mode likewise (`if ups.SessionAffinity.AffinityType == ""`), while
 *   every Ingress with `affinity: cookie` overwrites the cookie's settings (name,
 *   expires, max-age, secure, path, domain, samesite, conditional-samesite-none,
 *   change-on-failure): the last one's hold.
 */
import type { CookieAnnotations, NginxAnnotations } from "./annotations";
import type { Ingress } from "./input";

export const HASH_KEYS = [
    "upstream-hash-by",
    "upstream-hash-by-subset",
    "upstream-hash-by-subset-size",
    "load-balance",
] as const;
export const COOKIE_SETTING_KEYS = [
    "session-cookie-name",
    "session-cookie-secure",
    "session-cookie-expires",
    "session-cookie-max-age",
    "session-cookie-path",
    "session-cookie-domain",
    "session-cookie-samesite",
    "session-cookie-conditional-samesite-none",
    "session-cookie-change-on-failure",
] as const;

export interface Naming {
    ing: Ingress;
    ann: NginxAnnotations;
}

export interface Upstream {
    /** The annotations ingress-nginx applied to the Service, assembled from the Ingresses that name it. */
    effective: NginxAnnotations;
    /** For each annotation in `effective.raw`, the Ingress it came from. */
    from: Map<string, Ingress>;
    /**
     * For an annotation an Ingress sets that did not take effect: which Ingress's did (none: the annotation has no
     * effect on this Service at all, such as cookie settings without affinity: cookie), and by which rule.
     */
    overriddenBy(key: string, ing: Ingress): { by: Ingress | undefined; rule: string } | undefined;
}

/** The upstream of one Service from the Ingresses that name it, in ingress-nginx's order. */
export function upstreamOf(namings: readonly Naming[]): Upstream {
    const creator = namings[0];
    const typeFrom = namings.find((n) => n.ann.affinity !== undefined);
    const modeFrom = namings.find((n) => n.ann.affinityMode !== undefined);
    const cookieFrom = [...namings].reverse().find((n) => n.ann.affinity === "cookie");
    const raw: Record<string, string> = {};
    const from = new Map<string, Ingress>();
    const take = (key: string, n: Naming | undefined) => {
        if (n && n.ann.raw[key] !== undefined) {
            raw[key] = n.ann.raw[key];
            from.set(key, n.ing);
        }
    };
    take("affinity", typeFrom);
    take("affinity-mode", modeFrom);
    for (const k of COOKIE_SETTING_KEYS) take(k, cookieFrom);
    for (const k of HASH_KEYS) take(k, creator);
    for (const n of namings) if (!from.has("affinity-canary-behavior")) take("affinity-canary-behavior", n);
    const cookie: CookieAnnotations = cookieFrom ? cookieFrom.ann.cookie : {};
    const c = creator.ann;
    const effective: NginxAnnotations = {
        raw,
        cookie,
        ...(typeFrom ? { affinity: typeFrom.ann.affinity } : {}),
        ...(modeFrom ? { affinityMode: modeFrom.ann.affinityMode } : {}),
        ...(c.hashBy !== undefined ? { hashBy: c.hashBy } : {}),
        ...(c.hashBySubset !== undefined ? { hashBySubset: c.hashBySubset } : {}),
        ...(c.hashBySubsetSize !== undefined ? { hashBySubsetSize: c.hashBySubsetSize } : {}),
        ...(c.loadBalance !== undefined ? { loadBalance: c.loadBalance } : {}),
        ...(raw["affinity-canary-behavior"] !== undefined
            ? { canaryBehavior: namings.find((n) => n.ann.canaryBehavior)!.ann.canaryBehavior }
            : {}),
    };
    const overriddenBy = (key: string, ing: Ingress) => {
        if (from.get(key) === ing) return undefined;
        if (key === "affinity")
            return {
                by: typeFrom?.ing,
                rule: "the first Ingress that sets an affinity type (controller.go: createServers)",
            };
        if (key === "affinity-mode")
            return {
                by: modeFrom?.ing,
                rule: "the first Ingress that sets an affinity mode (controller.go: createServers)",
            };
        if ((COOKIE_SETTING_KEYS as readonly string[]).includes(key)) {
            return {
                by: cookieFrom?.ing,
                rule: "the last Ingress with affinity: cookie, whose cookie settings overwrite the others' (controller.go: createServers)",
            };
        }
        if ((HASH_KEYS as readonly string[]).includes(key)) {
            return {
                by: creator.ing,
                rule: "the first Ingress that names the Service, which creates its upstream (controller.go: createUpstreams)",
            };
        }
        return undefined;
    };
    return { effective, from, overriddenBy };
}
