/**
 * An oracle for the rules Istio applies to the kinds this project generates:
 * istiod's validating webhook (which rejects an object the CRD schema accepts)
 * and its controllers (which ignore an object, or route it nowhere). Each rule
 * names where Istio implements it, at the 1.30 release. Paths are relative to
 * the istio/istio repository unless they name another.
 *
 * `checkPlan` runs every rule over every document of a plan, plus the Helm
 * release values that decide what the gateway pods and istiod look like.
 */
import type { K8sObject } from "../../components/manifests/types";

export type Severity = "error" | "warning";

const GATEWAY_API = "gateway.networking.k8s.io";

export interface Finding {
    rule: string;
    severity: Severity;
    object: string;
    message: string;
}

/** What the rules know beyond one object: every document, and what the charts make of the release values. */
export interface PlanContext {
    docs: readonly K8sObject[];
    /** Labels of the ingress gateway pods (from the gateway release, or what an existing mesh is required to have). */
    gatewayPodLabels: Record<string, string>;
    gatewayNamespace: string;
    /** The gateway's Service (the gateway release's name). */
    gatewayServiceName: string;
    /** The gateway Service's externalTrafficPolicy ("" when Kubernetes' default, Cluster, applies). */
    gatewayExternalTrafficPolicy: string;
    gatewayServiceType: string;
    gatewayTrustedProxies: number;
    /** istiod's values (meshConfig and env), when the plan installs istiod. */
    istiod?: { meshConfig: Record<string, any>; env: Record<string, string> };
    /** Istio's root namespace (meshConfig.rootNamespace, default istio-system). */
    rootNamespace: string;
    /** The Istio version the plan installs or runs on ("1.31.1"). */
    istioVersion: string;
}

export interface Rule {
    id: string;
    /** Where Istio (or Kubernetes) implements it. */
    source: string;
    kinds: readonly string[];
    check(obj: K8sObject, ctx: PlanContext, report: (severity: Severity, message: string) => void): void;
}

// ---- helpers mirroring Istio's own checks -------------------------------------------------------

/** labels.IsDNS1123Label (pkg/config/labels/instance.go). */
const isDns1123Label = (s: string) => s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
/** validHeaderNameRegex (pkg/config/validation/validation.go): RFC 7230 token, lower case. */
const isHeaderName = (s: string) => /^[-_A-Za-z0-9!#$%&'*+.^`|~]+$/.test(s) && s === s.toLowerCase();
/** Envoy's isPrime, copied into pkg/config/validation/validation.go. */
function envoyIsPrime(x: number): boolean {
    if (x !== 0 && x < 4) return true;
    if (x % 2 === 0) return false;
    for (let f = 3; f <= Math.floor(Math.sqrt(x)); f += 2) if (x % f === 0) return false;
    return true;
}
/** A CIDR or an address, as security.ValidateIPs accepts (IPv4 here). */
const isIpOrCidr = (s: string) =>
    /^(\d{1,3})(\.\d{1,3}){3}(\/(\d|[12]\d|3[0-2]))?$/.test(s) &&
    s
        .split("/")[0]
        .split(".")
        .every((o) => Number(o) <= 255);
const subsetOf = (sel: Record<string, string> | undefined, labels: Record<string, string>) => Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
const id = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** A Gateway API Gateway of the plan, by namespace and name. */
function gatewayApiGateway(ctx: PlanContext, namespace: string, name: string): K8sObject | undefined {
    return ctx.docs.find((d) => kindOf(d) === `${GATEWAY_API}/Gateway` && d.metadata.name === name && d.metadata.namespace === namespace);
}

/** Whether a listener admits routes from its Gateway's namespace only (allowedRoutes from Same, the default). */
const admitsOwnNamespaceOnly = (listener: any) => (listener.allowedRoutes?.namespaces?.from ?? "Same") === "Same";

/**
 * RE2 accepts a subset of JavaScript's syntax: it compiles here and uses no
 * lookaround or backreference (which RE2 rejects). pkg/config/validation/validation.go
 * validateStringRegexp compiles with Go's regexp (RE2 syntax) and caps the length at 1024.
 */
function re2Problem(re: string): string | undefined {
    if (re === "") return "regex string match should not be empty";
    if (re.length > 1024) return `regex is too large, max length allowed is 1024 (has ${re.length})`;
    if (/\(\?[=!<]|\\[1-9]/.test(re)) return "uses lookaround or a backreference, which RE2 does not support";
    try {
        new RegExp(re);
    } catch (e) {
        return `does not compile: ${(e as Error).message}`;
    }
    return undefined;
}

function stringMatchProblem(m: any): string | undefined {
    if (!m || typeof m !== "object") return "string match may not be null";
    const set = ["exact", "prefix", "regex"].filter((k) => m[k] !== undefined);
    if (set.length !== 1) return `exactly one of exact, prefix, regex (has ${set.join(", ") || "none"})`;
    if (m.prefix === "") return "prefix string match should not be empty";
    if (m.regex !== undefined) return re2Problem(m.regex);
    return undefined;
}

const destinationRules = (ctx: PlanContext) => ctx.docs.filter((d) => d.kind === "DestinationRule");
const services = (ctx: PlanContext) => ctx.docs.filter((d) => d.kind === "Service");
const fqdn = (svc: K8sObject) => `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;

// ---- the rules -----------------------------------------------------------------------------------

export const RULES: readonly Rule[] = [
    // DestinationRule ------------------------------------------------------------------------------
    {
        id: "destinationrule-traffic-policy-nonempty",
        source: "pkg/config/validation/validation.go: validateTrafficPolicy",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            const policies = [o.spec.trafficPolicy, ...(o.spec.subsets ?? []).map((s: any) => s.trafficPolicy)].filter((p) => p !== undefined);
            for (const p of policies) {
                if (
                    !["outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol"].some(
                        (k) => p[k] !== undefined,
                    )
                ) {
                    report("error", "traffic policy must have at least one field");
                }
            }
        },
    },
    {
        id: "destinationrule-load-balancer",
        source: "pkg/config/validation/validation.go: validateLoadBalancer (maglev tableSize set, prime, < 5000011; cookie name; MinimumRingSize not with an algorithm); lb_policy is a oneof in istio/api networking/v1alpha3/destination_rule.proto",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            const lbs = [o.spec.trafficPolicy?.loadBalancer, ...(o.spec.subsets ?? []).map((s: any) => s.trafficPolicy?.loadBalancer)].filter(Boolean);
            for (const lb of lbs) {
                if (lb.simple !== undefined && lb.consistentHash !== undefined) report("error", "simple and consistentHash are one of lb_policy: set one");
                const ch = lb.consistentHash;
                if (!ch) continue;
                const keys = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"].filter((k) => ch[k] !== undefined);
                if (keys.length !== 1) report("error", `consistentHash takes exactly one hash key (has ${keys.join(", ") || "none"})`);
                if (ch.httpCookie && !ch.httpCookie.name) report("error", "name required for HttpCookie");
                if (ch.minimumRingSize && (ch.ringHash || ch.maglev)) report("error", "only one of MinimumRingSize or Maglev/Ringhash can be specified");
                if (ch.minimumRingSize) report("warning", "consistent hash MinimumRingSize is deprecated");
                if (ch.ringHash && ch.maglev) report("error", "ringHash and maglev are one of hash_algorithm");
                if (ch.maglev) {
                    const size = ch.maglev.tableSize ?? 0;
                    if (size === 0) report("error", "tableSize must be set for maglev");
                    if (size >= 5000011) report("error", "tableSize must be less than 5000011 for maglev");
                    if (!envoyIsPrime(size)) report("error", "tableSize must be a prime number for maglev");
                }
                if (ch.httpHeaderName !== undefined && !isHeaderName(ch.httpHeaderName))
                    report("error", `hash header ${ch.httpHeaderName} is not a valid header name`);
            }
        },
    },
    {
        id: "destinationrule-subsets",
        source: "pkg/config/validation/validation.go: ValidateDestinationRule (duplicate subset names), validateSubsetName (DNS-1123 label)",
        kinds: ["DestinationRule"],
        check(o, _ctx, report) {
            const names = (o.spec.subsets ?? []).map((s: any) => s.name);
            if (new Set(names).size !== names.length) report("error", `duplicate subset names: ${names.join(", ")}`);
            for (const n of names) if (!n || !isDns1123Label(n)) report("error", `subset name is invalid: ${n}`);
        },
    },
    {
        id: "destinationrule-host-has-service",
        source: "pilot/pkg/model/push_context.go: SetDestinationRules (a rule applies to the Service whose hostname equals its host)",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!services(ctx).some((s) => fqdn(s) === o.spec.host))
                report("error", `host ${o.spec.host} names no Service of the plan: the rule applies to nothing`);
        },
    },

    // VirtualService -------------------------------------------------------------------------------
    {
        id: "virtualservice-hosts-and-gateways",
        source: 'pkg/config/validation/validation.go: ValidateVirtualService (hosts; "*" not for the mesh gateway; http, tcp or tls required), validateGatewayNames (namespace/name, DNS labels)',
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            const gateways: string[] = o.spec.gateways ?? [];
            const mesh = gateways.length === 0 || gateways.includes("mesh");
            if (!(o.spec.hosts ?? []).length) report("error", "a VirtualService that is not a delegate needs hosts");
            if (mesh && (o.spec.hosts ?? []).includes("*")) report("error", "wildcard host * is not allowed for virtual services bound to the mesh gateway");
            if (!(o.spec.http ?? []).length) report("error", "http, tcp or tls must be provided in virtual service");
            for (const g of gateways) {
                if (g === "mesh") continue;
                const [ns, name] = g.split("/");
                if (name === undefined || !isDns1123Label(ns) || !isDns1123Label(name)) report("error", `gateway ${g} is not namespace/name with DNS labels`);
            }
        },
    },
    {
        id: "virtualservice-route-conflict",
        source: "pkg/config/validation/virtualservice.go: validateHTTPRouteConflict (one of route, redirect, direct_response; no rewrite or fault with direct_response)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                const has = { route: (r.route ?? []).length > 0, redirect: r.redirect !== undefined, directResponse: r.directResponse !== undefined };
                const n = Object.values(has).filter(Boolean).length;
                if (n === 0) report("error", `route ${r.name}: HTTP route, redirect or direct_response is required`);
                if (n > 1) report("error", `route ${r.name}: only one of route, redirect, direct_response`);
                if (has.directResponse && r.rewrite) report("error", `route ${r.name}: HTTP route rule cannot contain both rewrite and direct_response`);
                if (has.directResponse && r.fault) report("error", `route ${r.name}: HTTP route cannot contain both fault and direct_response`);
            }
        },
    },
    {
        id: "virtualservice-matches",
        source: "pkg/config/validation/virtualservice.go: validateHTTPRouteMatchRequest (ValidateHTTPHeaderNameOrJwtClaimRoute, validateStringMatch); validation.go: validateStringRegexp (RE2, at most 1024 characters)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                for (const m of r.match ?? []) {
                    for (const [name, sm] of Object.entries<any>(m.headers ?? {})) {
                        if (!isHeaderName(name)) report("error", `route ${r.name}: header name ${name} is not a valid header name`);
                        const p = stringMatchProblem(sm);
                        if (p) report("error", `route ${r.name}: header ${name}: ${p}`);
                    }
                    if (m.uri !== undefined) {
                        const p =
                            m.uri.regex !== undefined
                                ? re2Problem(m.uri.regex)
                                : ["exact", "prefix", "regex"].filter((k) => m.uri[k] !== undefined).length === 1
                                  ? undefined
                                  : "uri takes one of exact, prefix, regex";
                        if (p) report("error", `route ${r.name}: uri: ${p}`);
                    }
                }
            }
        },
    },
    {
        id: "virtualservice-direct-response",
        source: "pkg/config/validation/validation.go: validateHTTPDirectResponse (status 200-599 via validateHTTPStatus, body under 1 MB; a warning past 100 kB)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                const d = r.directResponse;
                if (!d) continue;
                if (!(d.status >= 200 && d.status <= 600)) report("error", `route ${r.name}: HTTP status ${d.status} is not in range 200-599`);
                const size = Buffer.byteLength(d.body?.string ?? "");
                if (size > 1024 * 1024) report("error", `route ${r.name}: direct response body must be less than 1MB`);
                else if (size > 100 * 1024) report("warning", `route ${r.name}: large direct_responses may impact control plane performance`);
            }
        },
    },
    {
        id: "virtualservice-rewrite-and-headers",
        source: 'pkg/config/validation/validation.go: validateHTTPRewrite (URI, regex rewrite or authority), ValidateHTTPHeaderOperationName (no Host, no ":" headers removed); validateDestination (host not "*", subset a DNS label, port 1-65535)',
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            for (const r of o.spec.http ?? []) {
                if (r.rewrite && !r.rewrite.uri && !r.rewrite.uriRegexRewrite && !r.rewrite.authority)
                    report("error", `route ${r.name}: rewrite must specify at least one of URI, UriRegexRewrite, or authority`);
                for (const h of r.headers?.request?.remove ?? []) {
                    if (h.toLowerCase() === "host" || h.startsWith(":")) report("error", `route ${r.name}: invalid header ${h} to remove`);
                }
                for (const { destination: d } of r.route ?? []) {
                    if (!d?.host || d.host === "*") report("error", `route ${r.name}: invalid destination host ${d?.host}`);
                    if (d?.subset !== undefined && !isDns1123Label(d.subset)) report("error", `route ${r.name}: subset name is invalid: ${d.subset}`);
                    if (d?.port && !(d.port.number >= 1 && d.port.number <= 65535)) report("error", `route ${r.name}: port ${d.port.number} out of range`);
                }
            }
        },
    },
    {
        id: "virtualservice-unreachable-routes",
        source: "pkg/config/validation/validation.go: analyzeUnreachableHTTPRules (a route after one without matches, or whose matches all repeat earlier ones, is never used)",
        kinds: ["VirtualService"],
        check(o, _ctx, report) {
            const seen = new Set<string>();
            let catchAll = false;
            for (const r of o.spec.http ?? []) {
                if (catchAll) report("warning", `route ${r.name} not used (route without matches defined before)`);
                if (!(r.match ?? []).length) {
                    catchAll = true;
                    continue;
                }
                const keys = r.match.map((m: any) => JSON.stringify({ ...m, name: undefined }));
                if (keys.every((k: string) => seen.has(k))) report("warning", `route ${r.name} not used (all matches used by prior rules)`);
                keys.forEach((k: string) => seen.add(k));
            }
        },
    },
    {
        id: "virtualservice-destinations-exist",
        source: "pkg/config/analysis/analyzers/virtualservice/destinationhosts.go and destinationrules.go (IST0101: the host is a Service, the subset is in its DestinationRule; else Envoy has no cluster and answers 503)",
        kinds: ["VirtualService"],
        check(o, ctx, report) {
            for (const r of o.spec.http ?? []) {
                for (const { destination: d } of r.route ?? []) {
                    if (!d) continue;
                    const svc = services(ctx).find((s) => fqdn(s) === d.host);
                    if (!svc) {
                        report("error", `route ${r.name}: destination ${d.host} is no Service of the plan`);
                        continue;
                    }
                    if (d.port && !svc.spec.ports.some((p: any) => p.port === d.port.number))
                        report("error", `route ${r.name}: ${d.host} has no port ${d.port.number}`);
                    if (
                        d.subset &&
                        !destinationRules(ctx).some((dr) => dr.spec.host === d.host && (dr.spec.subsets ?? []).some((s: any) => s.name === d.subset))
                    ) {
                        report("error", `route ${r.name}: subset ${d.subset} of ${d.host} is defined by no DestinationRule`);
                    }
                }
            }
        },
    },
    {
        id: "virtualservice-bound-gateway-serves-hosts",
        source: "pkg/config/analysis/analyzers/virtualservice/gateways.go (IST0132: a gateway-bound VirtualService whose hosts no server of the Gateway serves is ignored)",
        kinds: ["VirtualService"],
        check(o, ctx, report) {
            for (const g of o.spec.gateways ?? []) {
                if (g === "mesh") continue;
                const [ns, name] = g.split("/");
                const gw = ctx.docs.find((d) => d.kind === "Gateway" && d.metadata.name === name && d.metadata.namespace === ns);
                if (!gw) {
                    report("error", `gateway ${g} is not in the plan`);
                    continue;
                }
                const served: string[] = gw.spec.servers.flatMap((s: any) => s.hosts);
                for (const h of o.spec.hosts) {
                    const ok = served.some((p) => p === "*" || p === h || (p.startsWith("*.") && h.endsWith(p.slice(1))) || (h.startsWith("*.") && h === p));
                    if (!ok) report("error", `host ${h} is served by no server of ${g}`);
                }
            }
        },
    },

    // Gateway --------------------------------------------------------------------------------------
    {
        id: "gateway-servers",
        source: "pkg/config/validation/validation.go: ValidateGateway, validateServer, validateServerPort (name set and unique, protocol known), validateTLSOptions (TLS settings for HTTPS; only httpsRedirect on HTTP)",
        kinds: ["Gateway"],
        check(o, _ctx, report) {
            if (!isDns1123Label(o.metadata.name)) report("error", `invalid gateway name: ${o.metadata.name}`);
            const servers: any[] = o.spec.servers ?? [];
            if (!servers.length) report("error", "gateway must have at least one server");
            const names = servers.map((s) => s.port?.name);
            if (new Set(names).size !== names.length) report("error", `port names in servers must be unique: ${names.join(", ")}`);
            for (const s of servers) {
                if (!(s.hosts ?? []).length) report("error", "server config must contain at least one host");
                if (!s.port?.name) report("error", "port name must be set");
                const proto = String(s.port?.protocol ?? "").toUpperCase();
                if (!["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP", "MONGO", "REDIS", "MYSQL", "GRPC-WEB"].includes(proto))
                    report("error", `invalid protocol ${proto}`);
                const tlsProto = proto === "HTTPS" || proto === "TLS";
                if (tlsProto && !s.tls) report("error", "server must have TLS settings for HTTPS/TLS protocols");
                if (!tlsProto && s.tls && Object.keys(s.tls).some((k) => k !== "httpsRedirect"))
                    report("error", "server cannot have TLS settings for plain text HTTP ports");
                if (s.tls?.mode === "SIMPLE" && !s.tls.credentialName && !(s.tls.serverCertificate && s.tls.privateKey))
                    report("error", "SIMPLE TLS requires a server certificate");
            }
        },
    },
    {
        id: "gateway-selects-gateway-pods",
        source: "pilot/pkg/model/push_context.go: mergeGateways / gatewayWithInstances (a Gateway applies to the proxies whose labels its selector is a subset of)",
        kinds: ["Gateway"],
        check(o, ctx, report) {
            if (!subsetOf(o.spec.selector, ctx.gatewayPodLabels))
                report("error", `selector ${JSON.stringify(o.spec.selector)} matches no gateway pod (labels ${JSON.stringify(ctx.gatewayPodLabels)})`);
            if (!Object.keys(o.spec.selector ?? {}).length) report("error", "an empty selector selects every gateway proxy in the mesh");
        },
    },

    // EnvoyFilter ----------------------------------------------------------------------------------
    {
        id: "envoyfilter-patches",
        source: "pkg/config/validation/envoyfilter/envoyfilter.go: validateEnvoyFilter (applyTo, operation and value set; a CLUSTER patch matches a cluster; the value builds as the xDS type); validation.go: ValidateAlphaWorkloadSelector",
        kinds: ["EnvoyFilter"],
        check(o, _ctx, report) {
            report("warning", "EnvoyFilter exposes internal implementation details that may change at any time");
            const sel = o.spec.workloadSelector;
            if (sel) {
                const labels = sel.labels ?? {};
                if (!Object.keys(labels).length) report("warning", "workload selector without labels: applies to all services in the namespace");
                for (const [k, v] of Object.entries<string>(labels))
                    if (!k || k.includes("*") || v.includes("*")) report("error", `wildcard or empty key in selector: ${k}=${v}`);
            }
            for (const cp of o.spec.configPatches ?? []) {
                if (!cp.applyTo) report("error", "missing applyTo");
                if (!cp.patch?.operation) report("error", "missing patch operation");
                if (cp.patch?.operation !== "REMOVE" && cp.patch?.value === undefined) report("error", "missing patch value for non-remove operation");
                if (cp.applyTo === "CLUSTER" && cp.match && !cp.match.cluster)
                    report("error", "applyTo for cluster class objects cannot have non cluster match");
                if (cp.applyTo === "CLUSTER") {
                    // The fields of envoy.config.cluster.v3.Cluster this project patches, and those of its OriginalDstLbConfig.
                    const clusterFields = ["original_dst_lb_config", "originalDstLbConfig"];
                    const odFields = ["use_http_header", "http_header_name", "upstream_port_override", "metadata_key", "useHttpHeader", "httpHeaderName"];
                    for (const k of Object.keys(cp.patch?.value ?? {}))
                        if (!clusterFields.includes(k))
                            report("error", `patch value field ${k} is not one this oracle knows on envoy.config.cluster.v3.Cluster`);
                    const od = cp.patch?.value?.original_dst_lb_config ?? {};
                    for (const k of Object.keys(od)) if (!odFields.includes(k)) report("error", `unknown OriginalDstLbConfig field ${k}`);
                    if (od.use_http_header !== undefined && typeof od.use_http_header !== "boolean") report("error", "use_http_header must be a boolean");
                }
            }
        },
    },
    {
        id: "envoyfilter-reaches-its-cluster",
        source: "pilot/pkg/networking/core/envoyfilter/cluster_patch.go: clusterMatch (service, subset and portNumber against model.ParseSubsetKey of outbound|<port>|<subset>|<host>); pilot/pkg/model/push_context.go: initEnvoyFilters/EnvoyFilters (a filter reaches proxies of its own namespace, or every proxy from the root namespace); the cluster is ORIGINAL_DST only for a PASSTHROUGH subset (pilot/pkg/networking/core/cluster_builder.go)",
        kinds: ["EnvoyFilter"],
        check(o, ctx, report) {
            for (const cp of o.spec.configPatches ?? []) {
                const c = cp.match?.cluster;
                if (cp.applyTo !== "CLUSTER" || !c) continue;
                const svc = services(ctx).find((s) => fqdn(s) === c.service);
                if (!svc) report("error", `cluster match service ${c.service} is no Service of the plan: the patch matches nothing`);
                else if (c.portNumber && !svc.spec.ports.some((p: any) => p.port === c.portNumber)) report("error", `${c.service} has no port ${c.portNumber}`);
                const subset = destinationRules(ctx)
                    .flatMap((dr) => (dr.spec.host === c.service ? (dr.spec.subsets ?? []) : []))
                    .find((s: any) => s.name === c.subset);
                if (c.subset && !subset) report("error", `subset ${c.subset} of ${c.service} is defined by no DestinationRule: no such cluster`);
                if (cp.patch?.value?.original_dst_lb_config && subset?.trafficPolicy?.loadBalancer?.simple !== "PASSTHROUGH") {
                    report("error", `original_dst_lb_config needs an ORIGINAL_DST cluster: subset ${c.subset} must be PASSTHROUGH`);
                }
                const context = cp.match?.context;
                if (context === "GATEWAY") {
                    if (o.metadata.namespace !== ctx.gatewayNamespace && o.metadata.namespace !== ctx.rootNamespace)
                        report("error", `a GATEWAY patch in ${o.metadata.namespace} reaches no gateway pod (they run in ${ctx.gatewayNamespace})`);
                    if (!o.spec.workloadSelector) report("error", "a GATEWAY patch without a workloadSelector reaches every gateway of its namespace");
                    else if (!subsetOf(o.spec.workloadSelector.labels, ctx.gatewayPodLabels)) report("error", "workloadSelector matches no gateway pod");
                } else if (context === "SIDECAR_OUTBOUND" && o.metadata.namespace !== ctx.rootNamespace) {
                    report("error", `a filter for every sidecar must live in the root namespace ${ctx.rootNamespace}`);
                }
            }
        },
    },

    // AuthorizationPolicy --------------------------------------------------------------------------
    {
        id: "authorizationpolicy-shape",
        source: "pkg/config/validation/validation.go: ValidateAuthorizationPolicy (DENY needs rules; from/to/source/operation not empty; security.ValidateIPs; when keys with values; the TCP warning for HTTP-only DENY rules)",
        kinds: ["AuthorizationPolicy"],
        check(o, _ctx, report) {
            const rules: any[] | undefined = o.spec.rules;
            if (o.spec.action === "DENY" && rules === undefined) report("error", "DENY action without `rules` is meaningless");
            for (const [i, r] of (rules ?? []).entries()) {
                if (r.from !== undefined && !r.from.length) report("error", `\`from\` must not be empty, found at rule ${i}`);
                let tcpFrom = false;
                let tcpTo = false;
                for (const f of r.from ?? []) {
                    const src = f.source ?? {};
                    const lists = [
                        "principals",
                        "requestPrincipals",
                        "namespaces",
                        "ipBlocks",
                        "remoteIpBlocks",
                        "notPrincipals",
                        "notRequestPrincipals",
                        "notNamespaces",
                        "notIpBlocks",
                        "notRemoteIpBlocks",
                        "serviceAccounts",
                        "notServiceAccounts",
                    ];
                    if (!lists.some((k) => (src[k] ?? []).length)) report("error", `\`from.source\` must not be empty, found at rule ${i}`);
                    for (const k of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"])
                        for (const ip of src[k] ?? []) if (!isIpOrCidr(ip)) report("error", `invalid IP or CIDR ${ip}`);
                    // As tcpRulesInFrom: every source field but (not)requestPrincipals is a TCP attribute.
                    tcpFrom ||= lists.filter((k) => !/equestPrincipals$/.test(k)).some((k) => src[k] !== undefined);
                }
                for (const t of r.to ?? []) {
                    const op = t.operation ?? {};
                    if (!["ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts"].some((k) => (op[k] ?? []).length))
                        report("error", `\`to.operation\` must not be empty, found at rule ${i}`);
                    tcpTo ||= op.ports !== undefined || op.notPorts !== undefined;
                }
                for (const w of r.when ?? []) {
                    if (!w.key) report("error", "`key` must not be empty");
                    if (!(w.values ?? []).length && !(w.notValues ?? []).length)
                        report("error", `at least one of \`values\` or \`notValues\` must be set for key ${w.key}`);
                    if (/^request\.headers\[/.test(w.key) && !/^request\.headers\[[^\]]+\]$/.test(w.key)) report("error", `invalid key ${w.key}`);
                }
                const fromExists = (r.from ?? []).length > 0;
                const toExists = (r.to ?? []).length > 0;
                if (o.spec.action === "DENY" && ((fromExists && !toExists && !tcpFrom) || (toExists && !tcpTo))) {
                    report(
                        "warning",
                        "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule",
                    );
                }
            }
        },
    },
    {
        id: "authorizationpolicy-client-address",
        source: "pilot/pkg/security/authz/model/generator.go: srcIPGenerator (ipBlocks: the connection's peer, Envoy direct_remote_ip) and remoteIPGenerator (remoteIpBlocks: the client, Envoy remote_ip, from X-Forwarded-For past numTrustedProxies); Kubernetes SNATs NodePort/LoadBalancer traffic to a node address unless externalTrafficPolicy is Local",
        kinds: ["AuthorizationPolicy"],
        check(o, ctx, report) {
            if (o.metadata.namespace !== ctx.gatewayNamespace) return;
            const external = ctx.gatewayServiceType === "NodePort" || ctx.gatewayServiceType === "LoadBalancer";
            for (const r of o.spec.rules ?? []) {
                for (const f of r.from ?? []) {
                    const src = f.source ?? {};
                    if (src.ipBlocks || src.notIpBlocks) {
                        if (external)
                            report(
                                "error",
                                "ipBlocks/notIpBlocks on the gateway see the peer address, which a NodePort or LoadBalancer Service may SNAT to a node: use remoteIpBlocks",
                            );
                    }
                    if (
                        (src.remoteIpBlocks || src.notRemoteIpBlocks) &&
                        external &&
                        ctx.gatewayExternalTrafficPolicy !== "Local" &&
                        ctx.gatewayTrustedProxies === 0
                    ) {
                        report(
                            "error",
                            "the gateway Service SNATs clients to node addresses (externalTrafficPolicy Cluster) and trusts no proxy: remoteIpBlocks would see a node",
                        );
                    }
                }
            }
        },
    },
    {
        id: "authorizationpolicy-selects-gateway",
        source: "pilot/pkg/model/authorization.go: ListAuthorizationPolicies (policies of the workload's namespace and the root namespace, whose selector is a subset of the workload's labels); validation.go: validateWorkloadSelector",
        kinds: ["AuthorizationPolicy"],
        check(o, ctx, report) {
            const sel = o.spec.selector?.matchLabels;
            if (sel && Object.entries<string>(sel).some(([k, v]) => !k || k.includes("*") || v.includes("*")))
                report("error", "wildcard or empty key in selector");
            if (o.metadata.namespace === ctx.gatewayNamespace && !subsetOf(sel, ctx.gatewayPodLabels)) report("error", "selector matches no gateway pod");
        },
    },

    // PeerAuthentication ---------------------------------------------------------------------------
    {
        id: "peerauthentication-shape",
        source: "pkg/config/validation/validation.go: ValidatePeerAuthentication (no port-level mTLS without a selector, ports 1-65535), validateWorkloadSelector",
        kinds: ["PeerAuthentication"],
        check(o, ctx, report) {
            const sel = o.spec.selector?.matchLabels ?? {};
            const empty = Object.keys(sel).length === 0;
            if (empty && o.spec.portLevelMtls) report("error", "mesh/namespace peer authentication cannot have port level mTLS");
            for (const p of Object.keys(o.spec.portLevelMtls ?? {}))
                if (!(Number(p) >= 1 && Number(p) <= 65535)) report("error", "port must be in range 1..65535");
            if (!["UNSET", "DISABLE", "PERMISSIVE", "STRICT", undefined].includes(o.spec.mtls?.mode)) report("error", `unknown mTLS mode ${o.spec.mtls?.mode}`);
            const pods = ctx.docs.filter((d) => d.kind === "Deployment" && d.metadata.namespace === o.metadata.namespace);
            if (!empty && !pods.some((d) => subsetOf(sel, d.spec.template.metadata.labels)))
                report("error", `selector ${JSON.stringify(sel)} matches no pod of the plan in ${o.metadata.namespace}`);
        },
    },

    // Ingress through Istio (cert-manager's HTTP-01 solver) ----------------------------------------
    {
        id: "acme-solver-ingress-served-by-istio",
        source: "pilot/pkg/config/kube/ingress/conversion.go: shouldProcessIngressWithClass (annotation == meshConfig.ingressClass unless mode OFF; else an IngressClass with controller istio.io/ingress-controller; else only mode DEFAULT) and getIngressGatewaySelector (istio=<ingressSelector>); pilot/pkg/features: K8S_INGRESS_NS holds meshConfig.ingressService",
        kinds: ["ClusterIssuer"],
        check(o, ctx, report) {
            for (const s of o.spec.acme?.solvers ?? []) {
                const ing = s.http01?.ingress;
                if (!ing) continue;
                if (!ctx.istiod) {
                    report("warning", "istiod is not installed by this plan: its meshConfig decides whether the challenge Ingress is served");
                    continue;
                }
                const mc = ctx.istiod.meshConfig;
                const mode = mc.ingressControllerMode ?? "DEFAULT";
                // cert-manager: `class` sets the kubernetes.io/ingress.class annotation, `ingressClassName` sets spec.ingressClassName.
                let served: boolean;
                if (ing.class !== undefined) served = mode !== "OFF" && ing.class === (mc.ingressClass ?? "istio");
                else if (ing.ingressClassName !== undefined)
                    served = ctx.docs.some(
                        (d) => d.kind === "IngressClass" && d.metadata.name === ing.ingressClassName && d.spec?.controller === "istio.io/ingress-controller",
                    );
                else served = mode === "DEFAULT";
                if (!served)
                    report(
                        "error",
                        `istiod ignores the challenge Ingress (${JSON.stringify(ing)}; mode ${mode}, ingressClass ${mc.ingressClass}): the certificate is never issued`,
                    );
                const selector = {
                    istio: mc.ingressSelector ?? (mc.ingressService && mc.ingressService !== "istio-ingressgateway" ? mc.ingressService : "ingressgateway"),
                };
                if (!subsetOf(selector, ctx.gatewayPodLabels))
                    report("error", `the Ingress gateway selector ${JSON.stringify(selector)} matches no gateway pod`);
                if (mc.ingressService && (ctx.istiod.env.K8S_INGRESS_NS ?? "istio-system") !== ctx.gatewayNamespace) {
                    report(
                        "error",
                        `ingressService ${mc.ingressService} is looked up in ${ctx.istiod.env.K8S_INGRESS_NS ?? "istio-system"}, not the gateway's namespace ${ctx.gatewayNamespace}`,
                    );
                }
            }
        },
    },

    // The Kubernetes Gateway API, as Istio's gateway controller reads it -------------------------------
    {
        id: "gatewayapi-gateway-bound-to-helm-gateway",
        source:
            "pilot/pkg/config/kube/gatewaycommon/gateway_utils.go: IsManaged (one address of type Hostname: a manual deployment, nothing deployed); " +
            "pilot/pkg/config/kube/gateway/conversion.go: extractGatewayServices (a name without a dot is the Service in the Gateway's namespace); " +
            "class istio is served by istio.io/gateway-controller",
        kinds: [`${GATEWAY_API}/Gateway`],
        check(o, ctx, report) {
            if (o.spec.gatewayClassName === "istio-waypoint") return; // a waypoint: Istio deploys it (ambient-waypoint)
            if (o.spec.gatewayClassName !== "istio")
                report("error", `class ${o.spec.gatewayClassName} is not Istio's ("istio"): no Istio controller serves it`);
            const addrs = o.spec.addresses ?? [];
            if (addrs.length !== 1 || (addrs[0].type ?? "IPAddress") !== "Hostname") {
                report("error", "without exactly one Hostname address Istio deploys a gateway of its own instead of using the Helm-installed one");
                return;
            }
            const value: string = addrs[0].value;
            const fqdn = value.includes(".") ? value : `${value}.${o.metadata.namespace}.svc.cluster.local`;
            const want = `${ctx.gatewayServiceName}.${ctx.gatewayNamespace}.svc.cluster.local`;
            if (fqdn !== want) report("error", `its address names ${fqdn}, not the gateway's Service ${want}: no pod serves its listeners`);
            const names = (o.spec.listeners ?? []).map((l: any) => l.name);
            if (new Set(names).size !== names.length) report("error", `listener names must be unique (${names})`);
        },
    },
    {
        id: "gatewayapi-listener-certificate",
        source: "pilot/pkg/config/kube/gateway/conversion.go: buildListener (TLS Terminate needs certificateRefs; a Secret in another namespace needs a ReferenceGrant)",
        kinds: [`${GATEWAY_API}/Gateway`],
        check(o, ctx, report) {
            for (const l of o.spec.listeners ?? []) {
                if (l.protocol !== "HTTPS") continue;
                const refs = l.tls?.certificateRefs ?? [];
                if ((l.tls?.mode ?? "Terminate") !== "Terminate" || refs.length === 0) {
                    report("error", `listener ${l.name}: HTTPS needs tls.mode Terminate and a certificateRef`);
                    continue;
                }
                for (const ref of refs) {
                    const ns = ref.namespace ?? o.metadata.namespace;
                    if ((ref.kind ?? "Secret") !== "Secret" || ns !== o.metadata.namespace)
                        report("error", `listener ${l.name}: certificateRef ${JSON.stringify(ref)} is not a Secret beside the Gateway`);
                    const written = ctx.docs.some((d) => d.kind === "Certificate" && d.metadata.namespace === ns && d.spec.secretName === ref.name);
                    if (!written) report("error", `listener ${l.name}: no Certificate of the plan writes Secret ${ns}/${ref.name}`);
                }
            }
        },
    },
    {
        id: "gatewayapi-route-parents",
        source:
            "pilot/pkg/config/kube/gateway/conversion.go: extractParentReferenceInfo (a parentRef names a Gateway and, with sectionName, one of its listeners) " +
            "and namespacesFromSelector (allowedRoutes: Same admits only the Gateway's namespace)",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, ctx, report) {
            for (const p of o.spec.parentRefs ?? []) {
                const ns = p.namespace ?? o.metadata.namespace;
                const gw = gatewayApiGateway(ctx, ns, p.name);
                if (!gw) {
                    report("error", `parentRef ${ns}/${p.name} names no Gateway of the plan: the route attaches nowhere`);
                    continue;
                }
                const listeners = (gw.spec.listeners ?? []).filter((l: any) => p.sectionName === undefined || l.name === p.sectionName);
                if (listeners.length === 0) report("error", `parentRef ${ns}/${p.name} names listener ${p.sectionName}, which the Gateway does not have`);
                for (const l of listeners) {
                    if (admitsOwnNamespaceOnly(l) && o.metadata.namespace !== gw.metadata.namespace)
                        report("error", `listener ${l.name} admits routes from ${gw.metadata.namespace} only; this route is in ${o.metadata.namespace}`);
                }
            }
        },
    },
    {
        id: "gatewayapi-route-backends",
        source:
            "pilot/pkg/config/kube/gateway/conversion.go: buildDestination (a backendRef is a Service by name, not a hostname; one in another namespace " +
            "needs a ReferenceGrant there, gatewaycommon ReferenceGrants.BackendAllowed; a missing Service is an invalid backend)",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, ctx, report) {
            for (const rule of o.spec.rules ?? []) {
                for (const b of rule.backendRefs ?? []) {
                    const ns = b.namespace ?? o.metadata.namespace;
                    if ((b.kind ?? "Service") !== "Service" || (b.group ?? "") !== "") continue;
                    if (String(b.name).includes(".")) report("error", `backendRef ${b.name}: the name of the Service must be used, not the hostname`);
                    const svc = ctx.docs.find((d) => d.kind === "Service" && d.metadata.name === b.name && d.metadata.namespace === ns);
                    if (!svc) report("error", `backendRef ${ns}/${b.name}: no Service of the plan`);
                    else if (!(svc.spec.ports ?? []).some((p: any) => p.port === b.port))
                        report("error", `backendRef ${ns}/${b.name}: the Service has no port ${b.port}`);
                    if (ns !== o.metadata.namespace) {
                        const granted = ctx.docs.some(
                            (d) =>
                                d.kind === "ReferenceGrant" &&
                                d.metadata.namespace === ns &&
                                (d.spec.from ?? []).some(
                                    (f: any) => f.group === GATEWAY_API && f.kind === "HTTPRoute" && f.namespace === o.metadata.namespace,
                                ) &&
                                (d.spec.to ?? []).some(
                                    (t: any) => (t.group ?? "") === "" && t.kind === "Service" && (t.name === undefined || t.name === b.name),
                                ),
                        );
                        if (!granted)
                            report("error", `backendRef ${ns}/${b.name} is in another namespace and no ReferenceGrant there allows it: the backend is refused`);
                    }
                }
            }
        },
    },
    {
        id: "gatewayapi-route-filters",
        source:
            "gateway-api apis/v1/httproute_types.go: ReplacePrefixMatch is only compatible with a PathPrefix match (a CEL rule of the HTTPRoute CRD); " +
            "RequestRedirect and URLRewrite together, or a redirect with backends, are refused; pilot/pkg/config/kube/gateway/conversion.go: convertHTTPRoute",
        kinds: [`${GATEWAY_API}/HTTPRoute`],
        check(o, _ctx, report) {
            (o.spec.rules ?? []).forEach((rule: any, i: number) => {
                const types = (rule.filters ?? []).map((f: any) => f.type);
                if (types.includes("RequestRedirect") && types.includes("URLRewrite")) report("error", `rule ${i}: RequestRedirect and URLRewrite together`);
                if (types.includes("RequestRedirect") && (rule.backendRefs ?? []).length) report("error", `rule ${i}: a redirect takes no backendRefs`);
                if (!types.includes("RequestRedirect") && !(rule.backendRefs ?? []).length)
                    report("error", `rule ${i}: no backendRefs: every request it matches fails`);
                const prefixRewrite = (rule.filters ?? []).some((f: any) => f.urlRewrite?.path?.type === "ReplacePrefixMatch");
                if (prefixRewrite && !(rule.matches ?? []).every((m: any) => m.path?.type === "PathPrefix"))
                    report("error", `rule ${i}: ReplacePrefixMatch needs a PathPrefix path match in every match`);
            });
        },
    },
    {
        id: "acme-solver-gateway-route",
        source:
            "cert-manager pkg/issuer/acme/http/httproute.go: createHTTPRoute (the solver's HTTPRoute is made in the Challenge's, i.e. the Certificate's, " +
            "namespace with the parentRefs given; the controller watches Gateway API kinds only with enableGatewayAPI); Istio then treats it as any HTTPRoute",
        kinds: ["ClusterIssuer"],
        check(o, ctx, report) {
            for (const s of o.spec.acme?.solvers ?? []) {
                const route = s.http01?.gatewayHTTPRoute;
                if (!route) continue;
                const cert = ctx.docs.find((d) => d.kind === "Certificate" && d.spec.issuerRef?.name === o.metadata.name);
                for (const p of route.parentRefs ?? []) {
                    const gw = gatewayApiGateway(ctx, p.namespace, p.name);
                    const l = gw?.spec.listeners?.find((x: any) => x.name === p.sectionName);
                    if (!l) report("error", `solver parentRef ${p.namespace}/${p.name}#${p.sectionName} names no listener of the plan`);
                    else if (l.protocol !== "HTTP") report("error", `solver listener ${p.sectionName} is ${l.protocol}: HTTP-01 answers on plain HTTP`);
                    else if (admitsOwnNamespaceOnly(l) && cert && cert.metadata.namespace !== gw!.metadata.namespace)
                        report("error", `the challenge HTTPRoute (in ${cert.metadata.namespace}) is not admitted by listener ${l.name}`);
                }
                const cm = ctx.docs.find((d) => d.kind === "CertManager");
                if (cm && cm.spec.helmOptions.values.config?.enableGatewayAPI !== true)
                    report("error", "cert-manager runs without enableGatewayAPI: the Gateway solver never creates its HTTPRoute");
            }
        },
    },

    // Ambient -------------------------------------------------------------------------------------
    {
        id: "ambient-namespace-enrolment",
        source: "cni/pkg/util/podutil.go: podHasSidecar (a pod with a sidecar is never enrolled in ambient), so an ambient namespace must not also ask for injection",
        kinds: ["Namespace"],
        check(o, _ctx, report) {
            const l = o.metadata.labels ?? {};
            if (l["istio.io/dataplane-mode"] === "ambient" && (l["istio-injection"] === "enabled" || l["istio.io/rev"] !== undefined))
                report("error", "labelled for ambient and for sidecar injection: its pods get sidecars and ztunnel skips them");
        },
    },
    {
        id: "ambient-waypoint",
        source:
            "istioctl/pkg/waypoint/waypoint.go (a waypoint is a Gateway of class istio-waypoint, pkg/config/constants WaypointGatewayClassName, with one HBONE listener on 15008); " +
            "a Service's istio.io/use-waypoint names a waypoint in its namespace",
        kinds: ["Service"],
        check(o, ctx, report) {
            const name = o.metadata.labels?.["istio.io/use-waypoint"];
            if (name === undefined) return;
            const wp = gatewayApiGateway(ctx, o.metadata.namespace!, name);
            if (!wp) {
                report("error", `uses waypoint ${name}, which the plan does not have in ${o.metadata.namespace}: in-mesh traffic to it fails`);
                return;
            }
            const hbone = (wp.spec.listeners ?? []).some((l: any) => l.protocol === "HBONE" && l.port === 15008);
            if (wp.spec.gatewayClassName !== "istio-waypoint" || !hbone)
                report("error", `waypoint ${name} is not of class istio-waypoint with an HBONE listener on 15008`);
            const ns = ctx.docs.find((d) => d.kind === "Namespace" && d.metadata.name === o.metadata.namespace);
            if (ns && ns.metadata.labels?.["istio.io/dataplane-mode"] !== "ambient")
                report("error", `namespace ${o.metadata.namespace} is not in ambient: no waypoint is used`);
        },
    },
    {
        id: "ambient-hash-needs-waypoint",
        source:
            "pilot/pkg/networking/core/cluster_waypoint.go: buildWaypointInboundVIPCluster applies the DestinationRule's load balancer (applyLoadBalancer); " +
            "ztunnel is L4 and applies none, so without a waypoint in-mesh callers of an ambient app are not sticky",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!o.spec.trafficPolicy?.loadBalancer?.consistentHash) return;
            const ns = ctx.docs.find((d) => d.kind === "Namespace" && d.metadata.name === o.metadata.namespace);
            if (ns?.metadata.labels?.["istio.io/dataplane-mode"] !== "ambient") return;
            const [svcName, svcNs] = String(o.spec.host).split(".");
            const svc = ctx.docs.find((d) => d.kind === "Service" && d.metadata.name === svcName && d.metadata.namespace === svcNs);
            if (!svc?.metadata.labels?.["istio.io/use-waypoint"])
                report("error", `consistent hashing for ${o.spec.host} in ambient without a waypoint: only the gateway would hash`);
        },
    },
    {
        id: "ambient-waypoint-hash-needs-virtualservice-1.30",
        source:
            "pilot/pkg/networking/core/listener_waypoint.go: buildWaypointInboundHTTPRouteConfig (1.30.3) builds routes from the VirtualServices for the Service " +
            "(getVirtualServiceForWaypoint: in the Service's or the waypoint's namespace, bound to the mesh, with http routes) and takes their hash_policy from the " +
            "DestinationRule (route.go: HashForHTTPDestination); without one it falls back to httproute.go: buildSidecarInboundHTTPRouteConfig, a default route " +
            "with no hash_policy. 1.31 adds the DestinationRule's top-level hash to that route (istio/istio#61045, PR #61048, not backported)",
        kinds: ["DestinationRule"],
        check(o, ctx, report) {
            if (!o.spec.trafficPolicy?.loadBalancer?.consistentHash || !/^1\.30\./.test(ctx.istioVersion)) return;
            const host = String(o.spec.host);
            const [svcName, svcNs] = host.split(".");
            const svc = ctx.docs.find((d) => d.kind === "Service" && d.metadata.name === svcName && d.metadata.namespace === svcNs);
            const waypoint = svc?.metadata.labels?.["istio.io/use-waypoint"];
            if (!waypoint) return;
            const routes = ctx.docs.some(
                (d) =>
                    d.kind === "VirtualService" &&
                    d.metadata.namespace === svcNs &&
                    (d.spec.hosts ?? []).includes(host) &&
                    (d.spec.gateways === undefined || d.spec.gateways.includes("mesh")) &&
                    (d.spec.http ?? []).some((r: any) => (r.route ?? []).some((dst: any) => dst.destination?.host === host)),
            );
            if (!routes)
                report(
                    "error",
                    `Istio ${ctx.istioVersion}'s waypoint ${waypoint} hashes ${host} only on a mesh VirtualService's routes, and the plan has none: in-mesh callers are not sticky`,
                );
        },
    },
    {
        id: "ambient-no-persistent-session",
        source:
            "pilot/pkg/networking/core/httproute.go: MaybeBuildStatefulSessionFilterConfig (also in gateway.go) adds the stateful-session filter; " +
            "listener_waypoint.go never does, so a waypoint ignores istio.io/persistent-session labels",
        kinds: ["Service"],
        check(o, _ctx, report) {
            const l = o.metadata.labels ?? {};
            if (l["istio.io/use-waypoint"] && (l["istio.io/persistent-session"] || l["istio.io/persistent-session-header"]))
                report("error", "a persistent-session label on a Service behind a waypoint: the waypoint does not honour it");
        },
    },

    // The gateway Service ------------------------------------------------------------------------
    {
        id: "gateway-service-traffic-policy",
        source: "kubernetes/kubernetes pkg/apis/core/validation/validation.go: validateServiceExternalTrafficPolicy (only NodePort and LoadBalancer Services take externalTrafficPolicy)",
        kinds: ["HelmRelease"],
        check(o, _ctx, report) {
            if (o.spec.chart !== "gateway") return;
            const svc = o.spec.values.service ?? {};
            if (svc.externalTrafficPolicy && !["NodePort", "LoadBalancer"].includes(svc.type ?? "LoadBalancer"))
                report("error", "externalTrafficPolicy may only be set for externally-accessible services");
        },
    },
];

/** The gateway chart's pod labels for a release (gateway/templates/_helpers.tpl: app and istio default from the name). */
export function chartGatewayPodLabels(values: Record<string, any>, releaseName: string): Record<string, string> {
    const name = values.name || releaseName;
    const labels = { "istio.io/dataplane-mode": "none", ...(values.labels ?? {}) };
    return { ...labels, app: labels.app ?? name, istio: labels.istio ?? name.replace(/^istio-/, "") };
}

/** The gateway an existing Istio is required to have (the plan's meshRequirements), for plans that do not install one. */
export interface ExistingGateway {
    labels: Record<string, string>;
    namespace: string;
    /** The gateway's Service name. */
    serviceName: string;
    serviceType: string;
    externalTrafficPolicy?: string;
    numTrustedProxies: number;
    /** istiod's meshConfig and env as the plan requires them, if it requires any. */
    istiod?: { meshConfig?: Record<string, any>; env?: Record<string, string> };
    /** The Istio version it runs. */
    istioVersion: string;
}

/** Builds the context from a plan's documents; `existing` stands in for an Istio the plan does not install. */
export function contextOf(docs: readonly K8sObject[], existing: ExistingGateway): PlanContext {
    const release = (chart: string) => docs.find((d) => d.kind === "HelmRelease" && d.spec.chart === chart);
    const gw = release("gateway");
    const istiod = release("istiod");
    const values = gw?.spec.values ?? {};
    const proxyConfig = values.podAnnotations?.["proxy.istio.io/config"];
    return {
        docs,
        gatewayPodLabels: gw ? chartGatewayPodLabels(values, gw.metadata.name) : existing.labels,
        gatewayNamespace: gw?.metadata.namespace ?? existing.namespace,
        gatewayServiceName: gw ? values.name || gw.metadata.name : existing.serviceName,
        gatewayServiceType: values.service?.type ?? (gw ? "LoadBalancer" : existing.serviceType),
        gatewayExternalTrafficPolicy: gw ? (values.service?.externalTrafficPolicy ?? "") : (existing.externalTrafficPolicy ?? ""),
        gatewayTrustedProxies: gw ? (proxyConfig ? (JSON.parse(proxyConfig).gatewayTopology?.numTrustedProxies ?? 0) : 0) : existing.numTrustedProxies,
        istiod: istiod
            ? { meshConfig: istiod.spec.values.meshConfig ?? {}, env: istiod.spec.values.env ?? {} }
            : existing.istiod && { meshConfig: existing.istiod.meshConfig ?? {}, env: existing.istiod.env ?? {} },
        rootNamespace: istiod?.spec.values.meshConfig?.rootNamespace ?? "istio-system",
        istioVersion: istiod?.spec.version ?? existing.istioVersion,
    };
}

/** A rule's name for a kind: Gateway API kinds carry their group ("gateway.networking.k8s.io/Gateway" is not Istio's Gateway). */
export function kindOf(o: K8sObject): string {
    return o.apiVersion.startsWith(`${GATEWAY_API}/`) ? `${GATEWAY_API}/${o.kind}` : o.kind;
}

/** Every finding of every rule over every document. */
export function checkPlan(ctx: PlanContext, rules: readonly Rule[] = RULES): Finding[] {
    const out: Finding[] = [];
    for (const obj of ctx.docs) {
        for (const rule of rules) {
            if (!rule.kinds.includes(kindOf(obj))) continue;
            rule.check(obj, ctx, (severity, message) => out.push({ rule: rule.id, severity, object: id(obj), message }));
        }
    }
    return out;
}
