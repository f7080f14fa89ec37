import { podPort, type AppSettings } from "../settings/schema";
import { pathsOverlap } from "../settings/rules";
import { ORIGINAL_DST_HEADER, POD_HEADER } from "../settings/wellKnown";
import { DIRECT_SUBSET, directRefusal, NORMAL_SUBSET, podAddressRegex } from "../policy/direct";
import { isHashMode } from "../settings/enums";
import { createHash } from "crypto";
import { serviceHost } from "./names";
import { COMMON_LABELS, K8sObject } from "./types";

export interface RouteContext {
    /** "namespace/name" of the Istio Gateway the routes bind to. */
    gateway: string;
    hosts: string[];
    /** Where the routes live: the gateway's namespace, which outlives any one app. */
    namespace: string;
}

/**
 * The name of a path's VirtualService, decided by the path alone, so adding,
 * removing or reordering apps renames (replaces) no route. Paths whose
 * segments are lower-case words joined by single hyphens read as they are,
 * segments joined by "--" ("/shop-api" → "path-shop-api", "/shop/api" →
 * "path-shop--api"); any other path gets a digest of itself instead.
 */
export function routeName(path: string): string {
    if (path === "/") return "path-root";
    const segments = path.slice(1).split("/");
    if (segments.every((s) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s))) return `path-${segments.join("--")}`;
    const slug = path
        .slice(1)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 200);
    return `path-${slug}-${createHash("sha256").update(path).digest("hex").slice(0, 8)}`;
}

/**
 * The pod header's value: Envoy's formatter for the address of the upstream host that answered
 * (a custom response header is formatted per request: Envoy's "Custom request/response headers").
 */
export const POD_HEADER_VALUE = "%UPSTREAM_REMOTE_ADDRESS%";

/** Whether the app's responses name the pod that answered (existing Services, unless turned off). */
export function podHeader(app: Pick<AppSettings, "service">): boolean {
    return app.service?.podHeader === true;
}

type StringMatch = { exact?: string; prefix?: string; regex?: string };
type MatchRequest = { uri?: StringMatch; headers?: Record<string, StringMatch> };

/**
 * The retries of a hash-mode app's route: Istio's defaults (two attempts on connect failures, refused
 * streams, unavailable, cancelled and retriable codes: pilot/pkg/networking/core/route/retry/retry.go)
 * with each retry on another pod. With a consistent hash istiod leaves out Envoy's previous_hosts
 * predicate (DefaultConsistentHashPolicy: "we don't want to use other hosts during retries"), so a
 * retry hashes to the same pod: a pod whose process is gone fails every request of its sessions
 * until istiod's push marks it unhealthy. `retryIgnorePreviousHosts` puts the predicate back (Envoy's
 * ring and maglev then take the next host). The live gateway measured 30–63 failed requests per app
 * while a killed pod's endpoint was still healthy, and none with the predicate (docs/live.md).
 */
export const HASH_RETRIES = {
    attempts: 2,
    retryOn: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
    retryIgnorePreviousHosts: true,
};

function destination(app: AppSettings, subset?: string) {
    return { host: serviceHost(app), ...(subset ? { subset } : {}), port: { number: app.port } };
}

/**
 * The routes of one app: with direct routing, first the guarded direct route,
 * then a route that refuses every other direct request, then the app's normal
 * route (which drops any original-destination header it was sent).
 * `base` are the request matches the app's routes share (path, headers).
 */
export function guardedRoutes(
    app: AppSettings,
    base: MatchRequest[],
    rewrite?: { uri: string },
): Record<string, unknown>[] {
    const withHeaders = (extra: Record<string, StringMatch>) =>
        (base.length ? base : [{}]).map((m) => ({ ...m, headers: { ...(m.headers ?? {}), ...extra } }));
    const r = rewrite ? { rewrite } : {};
    const response = podHeader(app) ? { response: { set: { [POD_HEADER]: POD_HEADER_VALUE } } } : undefined;
    const request = app.direct.enabled ? { request: { remove: [ORIGINAL_DST_HEADER] } } : undefined;
    const normal = {
        name: app.name,
        ...(base.length ? { match: base } : {}),
        ...r,
        route: [{ destination: destination(app, app.direct.enabled ? NORMAL_SUBSET : undefined) }],
        ...(request || response ? { headers: { ...request, ...response } } : {}),
        ...(isHashMode(app.affinity.mode) ? { retries: HASH_RETRIES } : {}),
    };
    if (!app.direct.enabled) return [normal];
    return [
        {
            name: `${app.name}-direct`,
            match: withHeaders({
                [app.direct.header]: { exact: "true" },
                [ORIGINAL_DST_HEADER]: { regex: podAddressRegex(app.direct.podCidr!, podPort(app)) },
            }),
            ...r,
            route: [{ destination: destination(app, DIRECT_SUBSET) }],
            ...(response ? { headers: response } : {}),
        },
        {
            name: `${app.name}-direct-refused`,
            match: withHeaders({ [app.direct.header]: { regex: ".*" } }),
            directResponse: { status: 403, body: { string: directRefusal(app) } },
        },
        normal,
    ];
}

function pathMatches(path: string): { matches: MatchRequest[]; rewrite?: { uri: string } } {
    // "/shop" and "/shop/..." reach the app as "/" and "/..."; a bare prefix "/shop"
    // would also catch "/shopping" and rewrite "/shop/x" to "//x".
    return path === "/"
        ? { matches: [{ uri: { prefix: "/" } }] }
        : { matches: [{ uri: { exact: path } }, { uri: { prefix: `${path}/` } }], rewrite: { uri: "/" } };
}

function appGatewayRoutes(app: AppSettings): Record<string, unknown>[] {
    const { matches, rewrite } = pathMatches(app.path);
    const headers = app.match
        ? Object.fromEntries(Object.entries(app.match.headers).map(([k, v]) => [k, { exact: v }]))
        : undefined;
    return guardedRoutes(
        app,
        matches.map((m) => (headers ? { ...m, headers } : m)),
        app.stripPath ? rewrite : undefined,
    );
}

/**
 * The routes of one path: its header-matched apps in config order, then its app without a match, or a 404
 * (named by the path when it shares its VirtualService with other paths).
 */
function pathRoutes(group: readonly AppSettings[], nested: boolean): Record<string, unknown>[] {
    const matched = group.filter((a) => a.match);
    const fallback = group.find((a) => !a.match);
    const keys = [...new Set(matched.flatMap((a) => Object.keys(a.match!.headers)))];
    const notFound = {
        name: nested ? `unmatched-${routeName(group[0].path)}` : "unmatched",
        match: pathMatches(group[0].path).matches,
        directResponse: {
            status: 404,
            body: {
                string: `no backend matches this request: route it with ${keys.map((k) => `header ${k}`).join(" or ")}`,
            },
        },
    };
    return [...matched.flatMap(appGatewayRoutes), ...(fallback ? appGatewayRoutes(fallback) : [notFound])];
}

/**
 * The paths on the gateway, as nests: paths that nest ("/shop" and "/shop/api", or "/" and any
 * other) share a nest, whose outermost path names it; any other path is a nest of its own.
 */
export function pathNests(paths: readonly string[]): string[][] {
    const nests: string[][] = [];
    // Each nest's place by its outermost path. Paths come shortest first, so an outermost path is never
    // longer than a later path p, and overlaps it (pathsOverlap) only when it is p, "/", or p cut before
    // one of its "/" (or, p being "/", any path no longer); only those are looked up. Nests do not
    // overlap one another, so one matches at most; the earliest is taken all the same.
    const byHead = new Map<string, number>();
    for (const p of [...new Set(paths)].sort((a, b) => a.length - b.length)) {
        let found: number | undefined;
        const consider = (head: string) => {
            const n = byHead.get(head);
            if (n !== undefined && (found === undefined || n < found) && pathsOverlap(head, p)) found = n;
        };
        if (p === "/") {
            for (const head of byHead.keys()) if (head.length <= p.length) consider(head);
        } else {
            consider(p);
            consider("/");
            for (let k = p.indexOf("/"); k >= 0; k = p.indexOf("/", k + 1)) consider(p.slice(0, k));
        }
        if (found !== undefined) nests[found].push(p);
        else {
            byHead.set(p, nests.length);
            nests.push([p]);
        }
    }
    return nests;
}

/**
 * One VirtualService per nest of paths on the gateway, named by its outermost path (routeName),
 * in the gateway's namespace. Within it the longest path comes first, so "/shop/api" is matched
 * before the "/shop/" prefix would take it. Apps that share a path are told apart by their header
 * match, in config order; the path's app without a match takes what no match took, and without one
 * such app the path answers 404. One VirtualService per nest keeps that order deterministic
 * (Istio merges several VirtualServices of one host in no set order); a path on its own keeps a
 * VirtualService of its own, so adding an app renames only the routes of the nest it joins.
 */
export function buildRoutes(apps: readonly AppSettings[], ctx: RouteContext): K8sObject[] {
    return hostRouting(apps, ctx.hosts).flatMap(({ hosts, apps: served, suffix }) => {
        const groups = groupByPath(served);
        return pathNests([...groups.keys()]).map((nest) => ({
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: {
                name: `${routeName(nest[0])}${suffix}`,
                namespace: ctx.namespace,
                labels: { ...COMMON_LABELS },
            },
            spec: {
                hosts: [...hosts],
                gateways: [ctx.gateway],
                http: [...nest].reverse().flatMap((path) => pathRoutes(groups.get(path)!, nest.length > 1)),
            },
        }));
    });
}

/** The apps by path, in config order within each path; the paths in the order they first appear. */
export function groupByPath(apps: readonly AppSettings[]): Map<string, AppSettings[]> {
    const groups = new Map<string, AppSettings[]>();
    for (const app of apps) {
        const group = groups.get(app.path);
        if (group) group.push(app);
        else groups.set(app.path, [app]);
    }
    return groups;
}

/** The suffix of the routes served on one host only: "-on-<host>", a wildcard's "*" spelled "wildcard". */
export function hostSuffix(host: string): string {
    return `-on-${host.replace(/^\*/, "wildcard")}`;
}

/**
 * Which apps each set of routes serves, by host. Apps without hosts of their own are served on
 * every gateway host; an app with hosts only on those. A host some app names gets routes of its
 * own (suffix "-on-<host>") holding its apps and every app served everywhere: the gateway answers a
 * host from the one set of routes whose host is the most specific match (Envoy's virtual hosts,
 * exact names before wildcards before "*"), so each set carries every app that host serves. The
 * other gateway hosts keep the routes of the apps served everywhere, named as before.
 */
export function hostRouting(
    apps: readonly AppSettings[],
    gatewayHosts: readonly string[],
): { hosts: string[]; apps: AppSettings[]; suffix: string }[] {
    // Each named host's apps, by their place in `apps`: those naming it (once each), merged in order with those served everywhere.
    const naming = new Map<string, number[]>();
    const everywhereAt: number[] = [];
    apps.forEach((a, i) => {
        if (!a.hosts) everywhereAt.push(i);
        for (const h of a.hosts ?? []) {
            const at = naming.get(h);
            if (!at) naming.set(h, [i]);
            else if (at[at.length - 1] !== i) at.push(i);
        }
    });
    const everywhere = everywhereAt.map((i) => apps[i]);
    const rest = gatewayHosts.filter((h) => !naming.has(h));
    const servedOn = (own: readonly number[]): AppSettings[] => {
        const out: AppSettings[] = [];
        let e = 0;
        for (const i of own) {
            while (e < everywhereAt.length && everywhereAt[e] < i) out.push(apps[everywhereAt[e++]]);
            out.push(apps[i]);
        }
        while (e < everywhereAt.length) out.push(apps[everywhereAt[e++]]);
        return out;
    };
    return [
        ...(everywhere.length && rest.length ? [{ hosts: [...rest], apps: everywhere, suffix: "" }] : []),
        ...[...naming].map(([h, own]) => ({ hosts: [h], apps: servedOn(own), suffix: hostSuffix(h) })),
    ];
}
