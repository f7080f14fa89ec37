/**
 * What the stack asked for, held against the Envoy configuration istiod
 * generated (lab/xds.ts). Expectations come from the validated settings, never
 * from the rendered objects, so a broken object shows up as a difference.
 *
 * Istio's defaults named here are cited where Istio sets them (istio/istio at the
 * lab's commit, paths relative to the repository).
 */
import { type Plan, type AppSettings, AffinityMode, Dataplane, DirectContext, HashAlgorithm } from "istio-sticky";
import { podPort, serviceName, isHashMode, isPersistentMode, ORIGINAL_DST_HEADER, POD_HEADER } from "istio-sticky/plan";
import type { ProxyConfig, XdsResult } from "./xds";

/** istiod's ring size when a DestinationRule sets none (pilot/pkg/networking/core/cluster_traffic_policy.go, applyRingHashLoadBalancer). */
export const ISTIO_DEFAULT_MIN_RING_SIZE = 1024;
const HCM = "envoy.filters.network.http_connection_manager";
const STATEFUL_SESSION = "envoy.filters.http.stateful_session";

/**
 * Warnings istiod's validation gives on objects the package renders on purpose, with the reason.
 * Any other warning is a problem.
 */
export const EXPECTED_WARNINGS: readonly { kind: string; pattern: RegExp; why: string }[] = [
    {
        kind: "EnvoyFilter",
        pattern: /^EnvoyFilter exposes internal implementation details/,
        why: "given on every EnvoyFilter; direct routing needs one (ORIGINAL_DST use_http_header has no API of its own)",
    },
    {
        kind: "AuthorizationPolicy",
        pattern:
            /will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule/,
        why:
            "the direct-routing guard denies on every port of the gateway on purpose: naming ports would leave the guard off wherever the " +
            "gateway's listener ports differ from them (an existing gateway that maps 80 to 8080), while the gateway serves HTTP only",
    },
];

export interface AppXds {
    name: string;
    mode: AffinityMode;
    ok: boolean;
    problems: string[];
    /** What Envoy got, in a line per proxy (for the report). */
    seen: string[];
}

export interface StackXds {
    ok: boolean;
    /** Problems of the stack as a whole: istiod's validation errors, TLS, the direct-routing guard. */
    problems: string[];
    /** istiod's validation warnings (reported, not failures). */
    warnings: string[];
    apps: AppXds[];
}

interface RouteAt {
    config: string;
    vhost: any;
    route: any;
    index: number;
}

/** Every HTTP connection manager of a proxy's listeners, inner (internal listener) ones too. */
export function connectionManagers(p: ProxyConfig): { listener: string; hcm: any }[] {
    return p.listeners.flatMap((l) =>
        (l.filter_chains ?? []).flatMap((fc: any) =>
            (fc.filters ?? [])
                .filter((f: any) => f.name === HCM)
                .map((f: any) => ({ listener: l.name, hcm: f.typed_config })),
        ),
    );
}

/** Every route configuration a proxy uses: those sent by RDS and those inline in its listeners (waypoints). */
export function routeConfigs(p: ProxyConfig): any[] {
    const inline = connectionManagers(p)
        .map((m) => m.hcm.route_config)
        .filter(Boolean);
    return [...p.routes, ...inline];
}

function routesTo(p: ProxyConfig, matches: (cluster: string) => boolean): RouteAt[] {
    return routeConfigs(p).flatMap((rc) =>
        (rc.virtual_hosts ?? []).flatMap((vh: any) =>
            (vh.routes ?? [])
                .map((route: any, index: number) => ({ config: rc.name, vhost: vh, route, index }))
                .filter((r: RouteAt) => matches(r.route.route?.cluster ?? "")),
        ),
    );
}

/** Seconds of an Envoy Duration ("60s", "0.500s"), or of a setting ("1h30m", "500ms"). */
export function durationSeconds(d: string): number {
    let total = 0;
    for (const m of d.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
        const n = Number(m[1]);
        total += { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 }[m[2] as "h"] * n;
    }
    return total;
}

/** The route `hash_policy` the app's affinity calls for (undefined: none). */
export function expectedHashPolicy(a: AppSettings): any[] | undefined {
    const f = a.affinity;
    switch (f.mode) {
        case AffinityMode.Header:
            return [{ header: { header_name: f.headerName } }];
        case AffinityMode.QueryParameter:
            return [{ query_parameter: { name: f.queryParameterName } }];
        case AffinityMode.SourceIp:
            return [{ connection_properties: { source_ip: true } }];
        case AffinityMode.Cookie: {
            const c = f.cookie!;
            return [
                {
                    cookie: {
                        name: c.name,
                        ...(c.ttl !== undefined ? { ttl: c.ttl } : {}),
                        path: c.path,
                        ...(c.attributes.length
                            ? {
                                  attributes: c.attributes.map((x) => ({
                                      name: x.name,
                                      ...(x.value ? { value: x.value } : {}),
                                  })),
                              }
                            : {}),
                    },
                },
            ];
        }
        default:
            return undefined;
    }
}

function sameHashPolicy(got: any[] | undefined, want: any[] | undefined): string | undefined {
    if (!want) return got?.length ? `has hash_policy ${JSON.stringify(got)}; the stack asked for none` : undefined;
    if (!got?.length) return `has no hash_policy; want ${JSON.stringify(want)}`;
    if (got.length !== want.length) return `hash_policy ${JSON.stringify(got)}; want ${JSON.stringify(want)}`;
    for (let i = 0; i < want.length; i++) {
        const [g, w] = [got[i], want[i]];
        if (w.cookie) {
            const c = g.cookie;
            if (!c) return `hash_policy ${JSON.stringify(got)} is not on cookie ${w.cookie.name}`;
            const problems = [
                c.name !== w.cookie.name && `cookie name ${c.name} (want ${w.cookie.name})`,
                (c.ttl === undefined) !== (w.cookie.ttl === undefined) &&
                    `cookie ttl ${c.ttl ?? "unset"} (want ${w.cookie.ttl ?? "unset"})`,
                c.ttl !== undefined &&
                    w.cookie.ttl !== undefined &&
                    durationSeconds(c.ttl) !== durationSeconds(w.cookie.ttl) &&
                    `cookie ttl ${c.ttl} (want ${w.cookie.ttl})`,
                (c.path ?? "") !== w.cookie.path && `cookie path ${c.path ?? "unset"} (want ${w.cookie.path})`,
                JSON.stringify(c.attributes ?? []) !== JSON.stringify(w.cookie.attributes ?? []) &&
                    `cookie attributes ${JSON.stringify(c.attributes ?? [])} (want ${JSON.stringify(w.cookie.attributes ?? [])})`,
            ].filter(Boolean);
            if (problems.length) return problems.join(", ");
        } else if (JSON.stringify(g) !== JSON.stringify(w)) {
            return `hash_policy ${JSON.stringify(got)}; want ${JSON.stringify(want)}`;
        }
    }
    return undefined;
}

/** The cluster's load balancer against the app's affinity. */
function checkCluster(c: any, a: AppSettings): string[] {
    const f = a.affinity;
    const out: string[] = [];
    if (isHashMode(f.mode)) {
        if (f.algorithm === HashAlgorithm.Maglev) {
            if (c.lb_policy !== "MAGLEV")
                out.push(`cluster ${c.name} lb_policy ${c.lb_policy ?? "ROUND_ROBIN"} (want MAGLEV)`);
            else if (Number(c.maglev_lb_config?.table_size) !== f.maglevTableSize)
                out.push(
                    `cluster ${c.name} maglev table_size ${c.maglev_lb_config?.table_size} (want ${f.maglevTableSize})`,
                );
        } else {
            const want = f.minimumRingSize ?? ISTIO_DEFAULT_MIN_RING_SIZE;
            if (c.lb_policy !== "RING_HASH")
                out.push(`cluster ${c.name} lb_policy ${c.lb_policy ?? "ROUND_ROBIN"} (want RING_HASH)`);
            else if (Number(c.ring_hash_lb_config?.minimum_ring_size) !== want)
                out.push(
                    `cluster ${c.name} minimum_ring_size ${c.ring_hash_lb_config?.minimum_ring_size} (want ${want})`,
                );
        }
    } else if (c.lb_policy !== undefined && c.lb_policy !== "ROUND_ROBIN") {
        out.push(`cluster ${c.name} lb_policy ${c.lb_policy} (want ROUND_ROBIN)`);
    }
    return out;
}

/**
 * A sidecar speaks the app's declared protocol to it: HTTP/1.1 for "http", HTTP/2 for "http2" and
 * "grpc". A port Istio does not know the protocol of is sniffed, and its cluster forwards with
 * whatever protocol the caller used (use_downstream_protocol_config): an HTTP/1.1 app would get h2.
 */
function checkUpstreamProtocol(c: any, a: AppSettings, label: string): string[] {
    const options = c.typed_extension_protocol_options?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    const declared = a.service?.appProtocol ?? "http";
    if (options?.use_downstream_protocol_config)
        return [`${label}: cluster ${c.name} forwards with the caller's protocol (the port's protocol is undeclared)`];
    const h2 = options?.explicit_http_config?.http2_protocol_options !== undefined;
    if (h2 !== (declared !== "http"))
        return [`${label}: cluster ${c.name} speaks ${h2 ? "HTTP/2" : "HTTP/1.1"} to a port declared ${declared}`];
    return [];
}

/** The per-route stateful-session config persistent modes need, and its filter in the connection manager. */
function checkStatefulSession(p: ProxyConfig, r: RouteAt, a: AppSettings): string[] {
    // On a route (gateways, pilot/pkg/networking/core/route/route.go) or its virtual host (sidecars, httproute.go).
    const per =
        r.route.typed_per_filter_config?.[STATEFUL_SESSION] ?? r.vhost.typed_per_filter_config?.[STATEFUL_SESSION];
    const persistent = isPersistentMode(a.affinity.mode);
    if (!persistent)
        return per ? [`route ${r.route.name} in ${r.config} has a stateful_session the stack did not ask for`] : [];
    const cookie = a.affinity.mode === AffinityMode.PersistentCookie;
    const state = per?.stateful_session?.session_state;
    const out: string[] = [];
    if (!state) out.push(`route ${r.route.name} in ${r.config} has no stateful_session`);
    else {
        const wantExt = cookie ? "envoy.http.stateful_session.cookie" : "envoy.http.stateful_session.header";
        const name = cookie ? state.typed_config?.cookie?.name : state.typed_config?.name;
        const want = cookie ? a.affinity.cookie!.name : a.affinity.headerName;
        if (state.name !== wantExt) out.push(`route ${r.route.name} session state ${state.name} (want ${wantExt})`);
        if (name !== want)
            out.push(`route ${r.route.name} session ${cookie ? "cookie" : "header"} ${name} (want ${want})`);
    }
    const filtered = connectionManagers(p).some((m) =>
        (m.hcm.http_filters ?? []).some((f: any) => f.name === STATEFUL_SESSION),
    );
    if (!filtered) out.push(`no connection manager has the ${STATEFUL_SESSION} filter`);
    return out;
}

const ipv4ToInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const intToIpv4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** Addresses inside and just outside a CIDR, to try a guard's regex with. */
function probes(cidr: string): { inside: string[]; outside: string[] } {
    const [ip, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    const base = ipv4ToInt(ip) - (ipv4ToInt(ip) % size);
    const outside = [base - 1, base + size].filter((n) => n >= 0 && n < 2 ** 32);
    return {
        inside: [base + 1, base + size - 2].filter((n, i, all) => n >= base && all.indexOf(n) === i).map(intToIpv4),
        outside: outside.map(intToIpv4),
    };
}

/** RE2 as Envoy runs it: the whole value must match. */
const fullMatch = (regex: string, value: string) => new RegExp(`^(?:${regex})$`).test(value);

function checkDirect(gw: ProxyConfig, a: AppSettings, host: string): string[] {
    const out: string[] = [];
    const name = `outbound|${a.port}|direct|${host}`;
    const cluster = gw.clusters.find((c) => c.name === name);
    if (!cluster) return [`no cluster ${name} for direct routing`];
    if (cluster.type !== "ORIGINAL_DST") out.push(`cluster ${name} type ${cluster.type} (want ORIGINAL_DST)`);
    if (cluster.original_dst_lb_config?.use_http_header !== true)
        out.push(`cluster ${name} lacks original_dst_lb_config.use_http_header: true`);
    const direct = routesTo(gw, (c) => c === name);
    if (!direct.length) out.push(`no route reaches ${name}`);
    for (const r of direct) {
        const headers: any[] = r.route.match?.headers ?? [];
        const flag = headers.find((h) => h.name === a.direct.header);
        const target = headers.find((h) => h.name === ORIGINAL_DST_HEADER);
        if (flag?.string_match?.exact !== "true")
            out.push(`direct route in ${r.config} does not require ${a.direct.header}: true`);
        const regex = target?.string_match?.safe_regex?.regex;
        if (!regex) out.push(`direct route in ${r.config} does not check ${ORIGINAL_DST_HEADER}`);
        else {
            // A direct request names the pod's own port (an existing Service's targetPort).
            const port = podPort(a);
            const p = probes(a.direct.podCidr!);
            for (const ip of p.inside)
                if (!fullMatch(regex, `${ip}:${port}`))
                    out.push(`direct route refuses pod address ${ip}:${port} inside ${a.direct.podCidr}`);
            for (const ip of p.outside)
                if (fullMatch(regex, `${ip}:${port}`))
                    out.push(`direct route accepts ${ip}:${port}, outside ${a.direct.podCidr}`);
            if (fullMatch(regex, `${p.inside[0]}:${port + 1}`))
                out.push(`direct route accepts another port than ${port}`);
        }
    }
    const refusals = routeConfigs(gw).flatMap((rc) =>
        (rc.virtual_hosts ?? []).flatMap((vh: any) =>
            (vh.routes ?? []).filter(
                (rt: any) =>
                    rt.direct_response?.status === 403 &&
                    (rt.match?.headers ?? []).some((h: any) => h.name === a.direct.header),
            ),
        ),
    );
    if (!refusals.length) out.push(`no route answers 403 to a ${a.direct.header} request that fails the guard`);
    return out;
}

/** The RBAC filter that refuses direct requests from clients outside allowedClients. */
function checkGuard(gw: ProxyConfig, a: AppSettings): string[] {
    const want = new Set(a.direct.allowedClients.map((c) => (c.includes("/") ? c : `${c}/32`)));
    const denies = connectionManagers(gw).flatMap((m) =>
        (m.hcm.http_filters ?? [])
            .filter((f: any) => f.name === "envoy.filters.http.rbac" && f.typed_config?.rules?.action === "DENY")
            .map((f: any) => f.typed_config.rules),
    );
    const guarded = denies.some((rules) =>
        Object.values<any>(rules.policies ?? {}).some((policy) => {
            const text = JSON.stringify(policy);
            const ranges = [...text.matchAll(/"remote_ip":\{"address_prefix":"([\d.]+)","prefix_len":(\d+)\}/g)].map(
                (m) => `${m[1]}/${m[2]}`,
            );
            const path = text.includes(`"prefix":"${a.path}"`) || text.includes(`"exact":"${a.path}"`);
            return path && ranges.length === want.size && ranges.every((r) => want.has(r)) && text.includes('"not_id"');
        }),
    );
    return guarded ? [] : [`no RBAC DENY policy on ${a.path} for clients outside ${[...want].join(", ")}`];
}

/** The app sees the path as its settings say (the prefix removed, or kept), and an existing Service's responses name the pod. */
function checkPathAndPodHeader(r: { config: string; route: any }, a: AppSettings): string[] {
    const out: string[] = [];
    const rewrites = r.route.route.prefix_rewrite !== undefined || r.route.route.regex_rewrite !== undefined;
    const strips = a.stripPath && a.path !== "/";
    if (strips && !rewrites)
        out.push(`gateway route ${r.route.name} in ${r.config} keeps the path prefix ${a.path} (stripPath is on)`);
    if (!strips && rewrites)
        out.push(`gateway route ${r.route.name} in ${r.config} rewrites the path (stripPath is off)`);
    const added = (r.route.response_headers_to_add ?? []).find((h: any) => h.header?.key === POD_HEADER);
    const wanted = a.service?.podHeader === true;
    if (wanted && added?.header?.value !== "%UPSTREAM_REMOTE_ADDRESS%")
        out.push(
            `gateway route ${r.route.name} in ${r.config} does not answer with ${POD_HEADER}: %UPSTREAM_REMOTE_ADDRESS% (${JSON.stringify(added ?? null)})`,
        );
    if (!wanted && added) out.push(`gateway route ${r.route.name} in ${r.config} reveals the pod in ${POD_HEADER}`);
    return out;
}

function checkGatewayApp(gw: ProxyConfig, a: AppSettings, host: string): { problems: string[]; seen: string } {
    const problems: string[] = [];
    const isApp = (c: string) =>
        c.startsWith(`outbound|${a.port}|`) && c.endsWith(`|${host}`) && !c.includes("|direct|");
    const routes = routesTo(gw, isApp).filter((r) => r.vhost.require_tls !== "ALL");
    if (!routes.length) problems.push(`the gateway has no route to ${host}:${a.port}`);
    const want = expectedHashPolicy(a);
    for (const r of routes) {
        const hp = sameHashPolicy(r.route.route.hash_policy, want);
        if (hp) problems.push(`gateway route ${r.route.name} in ${r.config}: ${hp}`);
        problems.push(...checkStatefulSession(gw, r, a).map((p) => `gateway: ${p}`));
        const m = r.route.match ?? {};
        const prefix = m.path ?? m.prefix ?? m.path_separated_prefix;
        if (prefix !== a.path && prefix !== `${a.path}/`)
            problems.push(`gateway route ${r.route.name} in ${r.config} matches ${JSON.stringify(m)}, not ${a.path}`);
        for (const [name, value] of Object.entries(a.match?.headers ?? {})) {
            const h = (m.headers ?? []).find((x: any) => x.name === name);
            if (h?.string_match?.exact !== value)
                problems.push(`gateway route ${r.route.name} in ${r.config} does not match header ${name}: ${value}`);
        }
        if (
            a.direct.enabled &&
            a.direct.contexts.includes(DirectContext.Gateway) &&
            !(r.route.request_headers_to_remove ?? []).includes(ORIGINAL_DST_HEADER)
        )
            problems.push(`gateway route ${r.route.name} in ${r.config} passes ${ORIGINAL_DST_HEADER} on to the app`);
        problems.push(...checkPathAndPodHeader(r, a));
    }
    const clusters = [...new Set(routes.map((r) => r.route.route.cluster))];
    for (const name of clusters) {
        const c = gw.clusters.find((x) => x.name === name);
        if (!c) problems.push(`the gateway routes to ${name}, which it was not sent`);
        else problems.push(...checkCluster(c, a));
    }
    if (a.direct.enabled && a.direct.contexts.includes(DirectContext.Gateway))
        problems.push(...checkDirect(gw, a, host), ...checkGuard(gw, a));
    const c0 = gw.clusters.find((x) => x.name === clusters[0]);
    const seen = `gateway: ${routes.length} routes, hash_policy ${JSON.stringify(routes[0]?.route.route.hash_policy ?? null)}, ${c0?.lb_policy ?? "ROUND_ROBIN"}${
        routes[0]?.route.typed_per_filter_config?.[STATEFUL_SESSION] ? ", stateful_session" : ""
    }${a.direct.enabled ? ", ORIGINAL_DST passthrough" : ""}`;
    return { problems, seen };
}

function checkMeshProxy(
    label: string,
    p: ProxyConfig,
    a: AppSettings,
    host: string,
    prefix: "outbound" | "inbound-vip",
): { problems: string[]; seen: string } {
    const problems: string[] = [];
    const isApp = (c: string) =>
        c.startsWith(`${prefix}|${a.port}|`) && c.endsWith(`|${host}`) && !c.includes("|direct|");
    // A sidecar's routes for the Service's port (a mesh VirtualService also lands in other ports' route configurations, which no request to the Service reaches).
    const routes = routesTo(p, isApp).filter((r) => prefix !== "outbound" || r.config === String(a.port));
    if (!routes.length) return { problems: [`${label} has no route to ${host}:${a.port}`], seen: `${label}: no route` };
    const want = expectedHashPolicy(a);
    for (const r of routes) {
        const hp = sameHashPolicy(r.route.route.hash_policy, want);
        if (hp) problems.push(`${label} route ${r.route.name} in ${r.config}: ${hp}`);
        problems.push(...checkStatefulSession(p, r, a).map((x) => `${label}: ${x}`));
    }
    for (const name of new Set(routes.map((r) => r.route.route.cluster))) {
        const c = p.clusters.find((x) => x.name === name);
        if (!c) problems.push(`${label} routes to ${name}, which it was not sent`);
        else
            problems.push(
                ...checkCluster(c, a).map((x) => `${label}: ${x}`),
                ...(prefix === "outbound" ? checkUpstreamProtocol(c, a, label) : []),
            );
    }
    if (prefix === "outbound" && a.direct.enabled && a.direct.contexts.includes(DirectContext.Sidecar)) {
        const name = `outbound|${a.port}|direct|${host}`;
        const c = p.clusters.find((x) => x.name === name);
        if (c?.type !== "ORIGINAL_DST" || c.original_dst_lb_config?.use_http_header !== true)
            problems.push(`${label} has no ORIGINAL_DST cluster ${name} reading ${ORIGINAL_DST_HEADER}`);
    }
    const c0 = p.clusters.find((x) => x.name === routes[0].route.route.cluster);
    return {
        problems,
        seen: `${label}: hash_policy ${JSON.stringify(routes[0].route.route.hash_policy ?? null)}, ${c0?.lb_policy ?? "ROUND_ROBIN"}`,
    };
}

/** TLS at the gateway: the HTTPS listener with the certificate's secret, and the redirect from HTTP. */
function checkTls(gw: ProxyConfig, plan: Plan, httpsPort: number, httpPort: number): string[] {
    const tls = plan.settings.tls;
    if (!tls.enabled) return [];
    const out: string[] = [];
    const cert = plan.objects.find((o) => o.object.kind === "Certificate")?.object.spec as
        { secretName: string } | undefined;
    // Istio's API names the Secret kubernetes://<name>; the Gateway API kubernetes-gateway://<namespace>/<name> (pilot/pkg/model/credentials).
    const secrets = [
        `kubernetes://${cert?.secretName}`,
        `kubernetes-gateway://${plan.settings.mesh.gateway.namespace}/${cert?.secretName}`,
    ];
    const listener = gw.listeners.find((l) => l.address?.socket_address?.port_value === httpsPort);
    if (!listener) return [`the gateway has no listener on ${httpsPort} for HTTPS`];
    const chains = (listener.filter_chains ?? []).filter((fc: any) =>
        (fc.transport_socket?.typed_config?.common_tls_context?.tls_certificate_sds_secret_configs ?? []).some(
            (s: any) => secrets.includes(s.name),
        ),
    );
    if (!chains.length) out.push(`the HTTPS listener has no filter chain serving ${secrets.join(" or ")}`);
    const names = new Set(chains.flatMap((fc: any) => fc.filter_chain_match?.server_names ?? []));
    // Only the certificate's hosts: a chain without server_names would answer every SNI with this certificate.
    for (const h of tls.hosts) if (!names.has(h)) out.push(`the HTTPS listener does not serve SNI ${h}`);
    if (chains.some((fc: any) => !fc.filter_chain_match?.server_names?.length))
        out.push(`the HTTPS listener serves ${secrets[0]} for any SNI, not only ${tls.hosts.join(", ")}`);
    const http = gw.routes.find((rc) => rc.name === `http.${httpPort}`);
    const hostsRedirected = (h: string) =>
        (http?.virtual_hosts ?? [])
            .filter((vh: any) => vh.domains.some((d: string) => d === h || d === `${h}:${httpPort}` || d === "*"))
            .every(
                (vh: any) =>
                    vh.require_tls === "ALL" ||
                    (vh.routes ?? []).every(
                        (r: any) => r.redirect?.scheme_redirect === "https" || r.redirect?.https_redirect,
                    ),
            );
    for (const h of tls.hosts) {
        if (tls.httpsRedirect && !hostsRedirected(h)) out.push(`HTTP requests for ${h} are not redirected to HTTPS`);
        if (!tls.httpsRedirect && http && hostsRedirected(h))
            out.push(`HTTP requests for ${h} are redirected, but the stack keeps HTTP (ACME's HTTP-01 needs it)`);
    }
    return out;
}

/** Every check for one stack's xDS. `gatewayPorts` maps the gateway Service's ports to the pod's (80 → 80 with the chart's defaults). */
export function checkXds(plan: Plan, result: XdsResult, gatewayPorts: Record<number, number>): StackXds {
    const problems: string[] = [];
    // What the webhook refuses: the object never reaches istiod, which generates from the rest.
    for (const v of result.validation ?? [])
        if (v.error) problems.push(`istiod rejects ${v.kind} ${v.namespace}/${v.name}: ${v.error}`);
    const warnings = (result.validation ?? [])
        .filter((v) => v.warning)
        .map((v) => `istiod warns on ${v.kind} ${v.namespace}/${v.name}: ${v.warning}`);
    for (const v of (result.validation ?? []).filter((x) => x.warning)) {
        if (!EXPECTED_WARNINGS.some((e) => e.kind === v.kind && e.pattern.test(v.warning!)))
            problems.push(`istiod warns on ${v.kind} ${v.namespace}/${v.name}: ${v.warning}`);
    }
    if (result.error)
        return { ok: false, problems: [...problems, `istiod failed: ${result.error}`], warnings, apps: [] };
    const gw = result.proxies.gateway;
    if (!gw) return { ok: false, problems: [...problems, "no configuration for the gateway"], warnings, apps: [] };
    problems.push(...checkTls(gw, plan, gatewayPorts[443] ?? 443, gatewayPorts[80] ?? 80));
    const ambient = plan.settings.mesh.dataplane === Dataplane.Ambient;
    const apps = plan.settings.apps.map((a) => {
        const host = `${serviceName(a)}.${a.namespace}.svc.cluster.local`;
        const g = checkGatewayApp(gw, a, host);
        const ps = [...g.problems];
        const seen = [g.seen];
        const client = result.proxies[`client/${a.namespace}`];
        if (!ambient && client) {
            const c = checkMeshProxy("client sidecar", client, a, host, "outbound");
            ps.push(...c.problems);
            seen.push(c.seen);
        }
        if (ambient && isHashMode(a.affinity.mode)) {
            const name = Object.keys(result.proxies).find((k) => k.startsWith(`waypoint/${a.namespace}/`));
            if (!name) ps.push(`no waypoint in namespace ${a.namespace} for a hash-mode app`);
            else {
                const w = checkMeshProxy(`waypoint ${a.namespace}`, result.proxies[name], a, host, "inbound-vip");
                ps.push(...w.problems);
                seen.push(w.seen);
            }
        }
        return { name: a.name, mode: a.affinity.mode, ok: ps.length === 0, problems: ps, seen };
    });
    problems.push(
        ...headerRoutingOrder(gw, plan.settings.apps),
        ...nestedPathOrder(gw, plan.settings.apps),
        ...hostPlacement(gw, plan.settings.apps),
    );
    return { ok: problems.length === 0 && apps.every((a) => a.ok), problems, warnings, apps };
}

/**
 * Apps with hosts of their own: the gateway routes to them from the virtual hosts of those hosts
 * only, and every app served on all hosts is reachable from those virtual hosts too (a request for
 * a host takes the most specific virtual host, so one that lacked an app would answer 404 for it).
 */
function hostPlacement(gw: ProxyConfig, apps: readonly AppSettings[]): string[] {
    const out: string[] = [];
    const named = [...new Set(apps.flatMap((a) => a.hosts ?? []))];
    if (!named.length) return out;
    const hostOf = (a: AppSettings) => `${serviceName(a)}.${a.namespace}.svc.cluster.local`;
    const vhosts = routeConfigs(gw).flatMap((rc) =>
        (rc.virtual_hosts ?? []).map((vh: any) => ({ rc: rc.name as string, vh })),
    );
    const reaches = (vh: any, a: AppSettings) =>
        (vh.routes ?? []).some((r: any) => (r.route?.cluster ?? "").endsWith(`|${hostOf(a)}`));
    const serves = (vh: any, h: string) => (vh.domains ?? []).some((d: string) => d === h || d === `${h}:*`);
    for (const a of apps) {
        for (const { rc, vh } of vhosts) {
            if (!reaches(vh, a)) continue;
            if (a.hosts && !a.hosts.some((h) => serves(vh, h)))
                out.push(
                    `${a.name} is routed from virtual host ${vh.name} in ${rc}, not one of its hosts ${a.hosts.join(", ")}`,
                );
        }
        for (const h of a.hosts ?? named) {
            const vh = vhosts.filter((x) => x.rc.startsWith("http") && serves(x.vh, h));
            if (vh.length && !vh.some((x) => reaches(x.vh, a)))
                out.push(
                    `${a.name} is not routed from the virtual host of ${h} (${vh.map((x) => x.vh.name).join(", ")})`,
                );
            if (!vh.length) out.push(`no virtual host serves ${h}, a host of ${a.hosts ? a.name : "another app"}`);
        }
    }
    return out;
}

/** The path prefixes a route matches ("/shop" exactly, "/shop/" as a prefix, "/" for the root). */
const routePaths = (r: any): string[] =>
    [r.match?.path, r.match?.prefix, r.match?.path_separated_prefix].filter((x): x is string => typeof x === "string");

/**
 * Nested paths ("/shop" and "/shop/api", or "/" and any other): in every virtual host, each
 * route of the inner path comes before the first route whose prefix would take its requests
 * (the outer path's "/shop/", or "/"), so a request to the inner path reaches the inner app.
 */
function nestedPathOrder(gw: ProxyConfig, apps: readonly AppSettings[]): string[] {
    const out: string[] = [];
    const paths = [...new Set(apps.map((a) => a.path))];
    for (const outer of paths) {
        const outerPrefix = outer === "/" ? "/" : `${outer}/`;
        for (const inner of paths.filter((p) => p !== outer && p.startsWith(outerPrefix))) {
            for (const rc of gw.routes) {
                for (const vh of rc.virtual_hosts ?? []) {
                    const routes: any[] = vh.routes ?? [];
                    const catches = routes.findIndex((r) => routePaths(r).includes(outerPrefix));
                    const late = routes.findIndex(
                        (r, i) => i > catches && routePaths(r).some((x) => x === inner || x === `${inner}/`),
                    );
                    if (catches >= 0 && late >= 0)
                        out.push(
                            `route ${routes[catches].name} (prefix ${outerPrefix}) in ${rc.name} takes ${inner} before its route ${routes[late].name}`,
                        );
                }
            }
        }
    }
    return out;
}

/**
 * Apps sharing a path, told apart by headers: in every route configuration their
 * routes come in the stack's order, and an app without header matches (the
 * fallback) comes after them; so does any route on the path that takes every
 * request (the 404 for requests no header matches), which would shadow them.
 */
function headerRoutingOrder(gw: ProxyConfig, apps: readonly AppSettings[]): string[] {
    const out: string[] = [];
    const byPath = new Map<string, AppSettings[]>();
    for (const a of apps) byPath.set(a.path, [...(byPath.get(a.path) ?? []), a]);
    for (const [p, group] of byPath) {
        if (group.length < 2) continue;
        const matched = group.filter((a) => a.match?.headers);
        const fallback = group.filter((a) => !a.match?.headers);
        const expected = [...matched, ...fallback].map((a) => `${serviceName(a)}.${a.namespace}.svc.cluster.local`);
        const matchedHosts = matched.map((a) => `${serviceName(a)}.${a.namespace}.svc.cluster.local`);
        for (const rc of gw.routes) {
            for (const vh of rc.virtual_hosts ?? []) {
                const order = (vh.routes ?? [])
                    .map((r: any) => /\|([^|]+)$/.exec(r.route?.cluster ?? "")?.[1])
                    .filter(
                        (h: string | undefined): h is string => !!h && expected.includes(h) && !h.includes("|direct|"),
                    );
                const firsts = order.filter((h: string, i: number) => order.indexOf(h) === i);
                if (
                    firsts.length &&
                    JSON.stringify(firsts) !== JSON.stringify(expected.filter((h) => firsts.includes(h)))
                )
                    out.push(
                        `routes on ${p} in ${rc.name} reach ${firsts.join(", ")}; want the order ${expected.join(", ")}`,
                    );
                const routes: any[] = vh.routes ?? [];
                const onPath = (r: any) =>
                    [r.match?.path, r.match?.prefix, r.match?.path_separated_prefix].some(
                        (x) => x === p || x === `${p}/`,
                    );
                const catchAll = routes.findIndex((r) => onPath(r) && !(r.match?.headers ?? []).length);
                const shadowed = routes
                    .slice(catchAll + 1)
                    .find((r) => matchedHosts.includes(/\|([^|]+)$/.exec(r.route?.cluster ?? "")?.[1] ?? ""));
                if (catchAll >= 0 && shadowed)
                    out.push(
                        `route ${routes[catchAll].name} on ${p} in ${rc.name} takes every request before the route to ${shadowed.route.cluster}`,
                    );
            }
        }
    }
    return out;
}
