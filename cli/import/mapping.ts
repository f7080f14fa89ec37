/**
 * ingress-nginx Ingresses → this package's apps (existing Services), gateway hosts
 * and TLS, with the report. How the two models differ, and what the import does:
 *
 * - ingress-nginx routes by host, then path; so does the package's gateway for an app with
 *   `hosts` (each among mesh.gateway.hosts), while an app without them is served on every
 *   host. An app's hosts are those of the rules its path came from; a rule without host
 *   gives an app without hosts. So the same path on two hosts may go to two Services, but
 *   on one host (or beside a rule without host, whose app is on every host) to one only.
 * - An app is one Service with one path prefix, and two apps may not name the same
 *   Service. The first path in ingress-nginx's order wins; the others are reported as not
 *   mapped. Paths may nest ("/" and "/api"): the gateway tries the longest first, as
 *   ingress-nginx does.
 * - What the package's validation still refuses of an app's host (components/settings/
 *   validate.ts: a host istiod would mix a wildcard's routes into) is reported as not
 *   mapped for that Service on that host, with the package's reason, and the rest imported.
 * - ingress-nginx orders Ingresses by creation time, oldest first, and those created in
 *   the same second (or without a creationTimestamp, as in files) by namespace/name in
 *   reverse (internal/ingress/controller/store/store.go: sortIngressSlice). A Service's
 *   upstream takes its affinity type and mode, and its upstream-hash-by, from the first
 *   Ingress that names it (controller.go: createUpstreams, createServers): so does the import.
 */
import { AffinityMode } from "../../components/settings/enums";
import { isLabelValue } from "../../components/settings/rules";
import { DEFAULT_GATEWAY_NAMESPACE } from "../../components/settings/schema";
import { hostCoverage, reservedNamespace } from "../../components/settings/validate";
import { mapAffinity } from "./affinity";
import { NginxAnnotations, PREFIX, readAnnotations } from "./annotations";
import { ClassOptions, CLASS_ANNOTATION, decideClass, nginxClassNames } from "./classes";
import type { ImportInput, Ingress, IngressBackend, Service, ServicePort } from "./input";
import { mapPath } from "./paths";
import type { AppProtocol, ImportedApp, ImportedTls, ImportResult } from "./result";
import { COOKIE_SETTING_KEYS, HASH_KEYS, Naming, Upstream, upstreamOf } from "./upstreams";
import { approximate, exact, Finding, notMapped, ReportEntry, summarize } from "./report";

export interface ImportOptions extends ClassOptions {
    /** Issue the certificate from Let's Encrypt (ACME HTTP-01) with this account email, instead of self-signed. */
    acmeEmail?: string;
}

/** Annotation values ingress-nginx would have refused: nothing is imported until they are fixed. */
export class ImportError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`cannot import:\n  - ${problems.join("\n  - ")}`);
        this.name = "ImportError";
    }
}

/** store.go: sortIngressSlice (oldest first; equal times, including none, by "namespace/name" descending). */
export function nginxOrder(ingresses: readonly Ingress[]): Ingress[] {
    const keyed = ingresses.map((ing) => ({
        ing,
        time: ing.creationTimestamp ? Date.parse(ing.creationTimestamp) || 0 : 0,
        key: `${ing.namespace}/${ing.name}`,
    }));
    keyed.sort((a, b) => {
        const d = a.time - b.time;
        if (d !== 0) return d;
        return a.key === b.key ? 0 : a.key > b.key ? -1 : 1;
    });
    return keyed.map((k) => k.ing);
}

/** A gateway host as the package takes it (lower case), "*" for a rule without host. */
const hostOf = (h: string | undefined) => (h ? h.toLowerCase() : "*");
const GATEWAY_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TLS_HOST = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** One path (or default backend) of an imported Ingress, in ingress-nginx's order. */
interface Candidate {
    ing: Ingress;
    ann: NginxAnnotations;
    hosts: string[];
    path: string;
    pathType: string;
    backend: IngressBackend;
    subject: string;
    defaultBackend: boolean;
}

interface AppState {
    app: ImportedApp;
    hosts: Set<string>;
    /** Its place among the apps. */
    index: number;
    serviceKey: string;
    /** The annotations ingress-nginx applied to the Service, and where each came from. */
    upstream: Upstream;
    /** What became of each of them. */
    findings: Map<string, Finding>;
}

/** What Istio is told the port speaks: backend-protocol first (what ingress-nginx spoke), then what the Service says. */
function protocolOf(
    ann: NginxAnnotations,
    port: ServicePort | undefined,
): { protocol: AppProtocol; finding?: Finding } | { refused: string } {
    const bp = ann.backendProtocol?.toUpperCase();
    if (bp === "HTTPS" || bp === "GRPCS") {
        return {
            refused:
                `backend-protocol ${bp}: the Service speaks TLS, and the gateway would send it plain text (the package has no DestinationRule TLS origination); ` +
                "serve plain HTTP on a port of it, or route it yourself",
        };
    }
    if (bp === "FCGI") return { refused: "backend-protocol FCGI: Istio does not speak FastCGI" };
    if (bp === "GRPC") return { protocol: "grpc", finding: exact('appProtocol "grpc" on the Service port') };
    if (bp === "AUTO_HTTP") {
        return {
            protocol: "http",
            finding: approximate(
                'appProtocol "http": ingress-nginx spoke the client\'s scheme to the Service (AUTO_HTTP), the gateway speaks HTTP',
            ),
        };
    }
    if (bp === "HTTP") return { protocol: "http", finding: exact('appProtocol "http"') };
    const app = port?.appProtocol?.toLowerCase();
    if (app === "http2" || app === "kubernetes.io/h2c") return { protocol: "http2" };
    if (app === "grpc") return { protocol: "grpc" };
    const name = port?.name?.toLowerCase() ?? "";
    if (!app && (name === "http2" || name.startsWith("http2-"))) return { protocol: "http2" };
    if (!app && (name === "grpc" || name.startsWith("grpc-"))) return { protocol: "grpc" };
    return { protocol: "http" };
}

/** A name for the app: the Service's, or "<service>-<namespace>" when another app has it already. */
function appName(svc: string, ns: string, taken: ReadonlySet<string>): string {
    if (!taken.has(svc)) return svc;
    const base = `${svc}-${ns}`.slice(0, 60).replace(/-+$/, "");
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** Annotations that decide a Service's balancing: each is reported through the Service's upstream (upstreams.ts). */
const AFFINITY_ANNOTATIONS = new Set<string>([
    "affinity",
    "affinity-mode",
    "affinity-canary-behavior",
    ...COOKIE_SETTING_KEYS,
    ...HASH_KEYS,
]);

/** A Service on a host, as refused hosts are keyed. */
export const hostKey = (serviceKey: string, host: string) => `${serviceKey} ${host}`;

/** An Ingress that ingress-nginx serves, with its annotations read. */
interface Selected {
    ing: Ingress;
    ann: NginxAnnotations;
}

/** The Ingresses in ingress-nginx's order: those it serves, and the report lines of each. */
interface Selection {
    ordered: Ingress[];
    /** The Ingresses left out (another class, a canary), with their report entry. */
    skipped: Map<Ingress, ReportEntry>;
    /** The report lines of each imported Ingress, its class first; the later phases add theirs. */
    lines: Map<Ingress, ReportEntry[]>;
    imported: Selected[];
}

/** What the apps phase tells the report about each Ingress. */
interface Tally {
    /** The app an Ingress's annotations are reported against: that of its first imported path. */
    firstApp: Map<Ingress, AppState>;
    protocolFindings: Map<Ingress, Finding>;
    mappedPaths: Map<Ingress, number>;
}

/** The gateway's hosts, and the named hosts left out of them because an app's wildcard covers them. */
interface GatewayHosts {
    gatewayHosts: string[];
    leftOut: string[];
    /** The app's wildcard host that covers a named host, if any. */
    coveredBy: (h: string) => string | undefined;
}

/**
 * The mapping of one pass, as a table of contents: select the Ingresses, find the regex hosts and the
 * TLS hosts, list the paths, make the apps, rename clashing persistent cookies, pick the gateway's
 * hosts and TLS, and write the report.
 */
export function mapIngresses(
    input: ImportInput,
    opts: ImportOptions,
    refusedHosts: ReadonlyMap<string, string>,
): ImportResult {
    const selection = selectIngresses(input, opts);
    const regexHosts = regexHostsOf(selection.imported);
    const tlsHosts = mapTlsHosts(selection, opts);
    const tlsOn = tlsHosts.length > 0;
    const index = new AppIndex(input.services, refusedHosts);
    const tally = mapApps(selection, candidatesOf(selection.imported), index, { regexHosts, tlsOn });
    const apps = index.apps;
    const appNotes = renamePersistentCookies(apps);
    const hosts = gatewayHostsOf(apps, tlsHosts);
    const certified = hostCoverage(tlsHosts);
    const tls = tlsOn ? tlsOf(selection.imported, tlsHosts, hosts.gatewayHosts, certified, opts) : undefined;
    const report: ReportEntry[] = [
        ORDER_ENTRY,
        ...ingressEntries(selection, tally, tlsOn),
        ...(tls ? [tls.entry] : []),
        ...gatewayHostsEntries(hosts),
        ...appEntries(apps, appNotes, tls !== undefined, certified),
    ];
    return {
        apps: apps.map((s) => (s.hosts.has("*") ? s.app : { ...s.app, hosts: [...s.hosts] })),
        gatewayHosts: hosts.gatewayHosts,
        ...(tls ? { tls: tls.settings } : {}),
        report,
    };
}

/** Select: the Ingresses ingress-nginx serves (by class), canaries left out; annotation values it would refuse stop the import. */
function selectIngresses(input: ImportInput, opts: ImportOptions): Selection {
    const names = nginxClassNames(opts, input.ingressClasses);
    const selection: Selection = {
        ordered: nginxOrder(input.ingresses),
        skipped: new Map(),
        lines: new Map(),
        imported: [],
    };
    const problems: string[] = [];
    for (const ing of selection.ordered) {
        const subject = `Ingress ${ing.namespace}/${ing.name}`;
        const cls = decideClass(ing, names, opts);
        if (!cls.nginx) {
            selection.skipped.set(ing, { subject, ...cls.finding });
            continue;
        }
        const ann = readAnnotations(ing, problems);
        if (ann.canary) {
            selection.skipped.set(ing, {
                subject,
                ...notMapped(
                    'a canary Ingress (canary: "true"): its traffic split has no counterpart here, so the import leaves it out and its requests go to the main ' +
                        "Ingress's Service",
                ),
            });
            continue;
        }
        selection.imported.push({ ing, ann });
        selection.lines.set(ing, [{ subject: "class", ...cls.finding }]);
    }
    if (problems.length) throw new ImportError(problems);
    return selection;
}

/** Whether an Ingress's location matches as a regex: use-regex, or a rewrite-target that differs from the path. */
const ownRegex = (ann: NginxAnnotations, path: string) =>
    ann.useRegex === true ||
    (ann.rewriteTarget !== undefined && ann.rewriteTarget !== "" && ann.rewriteTarget !== (path || "/"));

/** Regex hosts (enforceRegexModifier): a host where any location uses use-regex or a rewrite-target that differs from its path. */
function regexHostsOf(imported: readonly Selected[]): Set<string> {
    const regexHosts = new Set<string>();
    for (const { ing, ann } of imported) {
        for (const rule of ing.rules) {
            if (ann.useRegex || rule.paths.some((p) => ownRegex(ann, p.path))) regexHosts.add(hostOf(rule.host));
        }
    }
    return regexHosts;
}

/** TLS: the hosts of every imported Ingress's tls entries that the package can issue a certificate for, in order. */
function mapTlsHosts(selection: Selection, opts: ImportOptions): string[] {
    const tlsHosts: string[] = [];
    const tlsHostSet = new Set<string>();
    for (const { ing } of selection.imported) {
        const lines = selection.lines.get(ing)!;
        for (const t of ing.tls) {
            const subject = `TLS ${t.hosts.length ? t.hosts.join(", ") : "(no hosts)"}${t.secretName ? ` (Secret ${ing.namespace}/${t.secretName})` : ""}`;
            if (t.hosts.length === 0) {
                lines.push({
                    subject,
                    ...notMapped(
                        "it names no host: ingress-nginx served it as the default certificate; the gateway's certificate names the hosts in istio-sticky:tls.hosts",
                    ),
                });
                continue;
            }
            const took: string[] = [];
            const refused: string[] = [];
            for (const raw of t.hosts) {
                const h = raw.toLowerCase();
                if (!TLS_HOST.test(h)) refused.push(`"${raw}" is not a DNS name a certificate can name`);
                else if (opts.acmeEmail && h.startsWith("*."))
                    refused.push(`"${raw}" is a wildcard, which ACME HTTP-01 cannot issue (it needs DNS-01)`);
                else {
                    took.push(h);
                    if (!tlsHostSet.has(h)) {
                        tlsHostSet.add(h);
                        tlsHosts.push(h);
                    }
                }
            }
            const secret = t.secretName
                ? `the Secret ${ing.namespace}/${t.secretName} is not used (the gateway reads certificates from its own namespace, ${DEFAULT_GATEWAY_NAMESPACE}) and stays as it is`
                : "";
            const issuer = opts.acmeEmail
                ? `cert-manager issues a new certificate from Let's Encrypt (ACME HTTP-01 through the gateway) into the Secret sticky-gateway-tls in ${DEFAULT_GATEWAY_NAMESPACE}`
                : `cert-manager issues a new self-signed certificate into the Secret sticky-gateway-tls in ${DEFAULT_GATEWAY_NAMESPACE} ` +
                  "(pass --acme-email for Let's Encrypt, or set istio-sticky:tls.issuer yourself)";
            const parts = [
                `istio-sticky:tls.hosts ${took.join(", ")}`,
                issuer,
                ...(secret ? [secret] : []),
                ...refused.map((r) => `not mapped: ${r}`),
            ];
            lines.push({ subject, ...(took.length ? approximate(parts.join("; ")) : notMapped(refused.join("; "))) });
        }
    }
    return tlsHosts;
}

/** Paths: every path of the imported Ingresses, then their default backends, in ingress-nginx's order. */
function candidatesOf(imported: readonly Selected[]): Candidate[] {
    const candidates: Candidate[] = [];
    for (const { ing, ann } of imported) {
        for (const rule of ing.rules) {
            for (const p of rule.paths) {
                candidates.push({
                    ing,
                    ann,
                    hosts: [hostOf(rule.host)],
                    path: p.path,
                    pathType: p.pathType,
                    backend: p.backend,
                    subject: `path ${rule.host ?? "(any host)"} ${p.path || "(empty)"} (${p.pathType})`,
                    defaultBackend: false,
                });
            }
        }
    }
    for (const { ing, ann } of imported) {
        if (!ing.defaultBackend) continue;
        const hosts = ing.rules.length ? [...new Set(ing.rules.map((r) => hostOf(r.host)))] : ["*"];
        candidates.push({
            ing,
            ann,
            hosts,
            path: "/",
            pathType: "Prefix",
            backend: ing.defaultBackend,
            subject: "default backend",
            defaultBackend: true,
        });
    }
    return candidates;
}

/** How an app is named in the report: its name, hosts and path. */
const describeApp = (s: AppState) => `app ${s.app.name} (${[...s.hosts].join(", ")} ${s.app.path})`;

/** The apps made so far, with the lookups the apps phase makes: by Service, by path and host, by name; and the input's Services. */
class AppIndex {
    readonly apps: AppState[] = [];
    private readonly byService = new Map<string, AppState>();
    /** The apps on each path: all of them in order, those on every host, and those of each host. */
    private readonly onPath = new Map<
        string,
        { all: AppState[]; everywhere: AppState[]; byHost: Map<string, AppState[]> }
    >();
    private readonly names = new Set<string>();
    /** The first Service of each namespace and name. */
    private readonly services = new Map<string, Map<string, Service>>();

    constructor(
        services: readonly Service[],
        private readonly refusedHosts: ReadonlyMap<string, string>,
    ) {
        for (const svc of services) {
            const inNamespace =
                this.services.get(svc.namespace) ?? this.services.set(svc.namespace, new Map()).get(svc.namespace)!;
            if (!inNamespace.has(svc.name)) inNamespace.set(svc.name, svc);
        }
    }

    service(ns: string, name: string): Service | undefined {
        return this.services.get(ns)?.get(name);
    }

    ofService(serviceKey: string): AppState | undefined {
        return this.byService.get(serviceKey);
    }

    /** A name for a new app of this Service (appName). */
    nameFor(svc: string, ns: string): string {
        return appName(svc, ns, this.names);
    }

    add(state: AppState, hosts: readonly string[]): void {
        this.apps.push(state);
        this.names.add(state.app.name);
        this.pathOf(state.app.path).all.push(state);
        this.byService.set(state.serviceKey, state);
        hosts.forEach((h) => this.addHost(state, h));
    }

    addHost(s: AppState, h: string): void {
        if (s.hosts.has(h)) return;
        s.hosts.add(h);
        const p = this.pathOf(s.app.path);
        if (h === "*") p.everywhere.push(s);
        else (p.byHost.get(h) ?? p.byHost.set(h, []).get(h)!).push(s);
    }

    /** Why a Service's path cannot be served on a host: a name the gateway cannot take, the package refused it, or the path there is another Service's. */
    hostRefusal(h: string, serviceKey: string, path: string): string | undefined {
        if (h !== "*" && !GATEWAY_HOST.test(h)) return `"${h}" is no host name the gateway can take`;
        const refused = this.refusedHosts.get(hostKey(serviceKey, h));
        if (refused) return `the package's validation refuses the Service's app on ${h}: ${refused}`;
        const other = this.otherOnPath(h, serviceKey, path);
        if (!other) return undefined;
        const to = `the path "${path}" already goes to ${describeApp(other)}, Service ${other.serviceKey}`;
        if (other.hosts.has("*"))
            return `${to}, a path for any host, which the gateway serves on every host${h === "*" ? "" : `, ${h} included`}`;
        if (h === "*")
            return `${to}, and this is a path for any host, which the gateway would serve on every host, ${[...other.hosts].join(", ")} included`;
        return `on ${h}, ${to}, and a host's path goes to one Service`;
    }

    private pathOf(path: string) {
        return (
            this.onPath.get(path) ?? this.onPath.set(path, { all: [], everywhere: [], byHost: new Map() }).get(path)!
        );
    }

    /** The first app (in the order apps were made) of another Service with this path on host h ("*": on any host). */
    private otherOnPath(h: string, serviceKey: string, path: string): AppState | undefined {
        const p = this.onPath.get(path);
        if (!p) return undefined;
        if (h === "*") return p.all.find((s) => s.serviceKey !== serviceKey);
        let first: AppState | undefined;
        for (const list of [p.everywhere, p.byHost.get(h) ?? []]) {
            for (const s of list) if (s.serviceKey !== serviceKey && (!first || s.index < first.index)) first = s;
        }
        return first;
    }
}

/** The Service port a path's backend names, resolved against the input's Services where it holds them. */
type Backend =
    { name: string; svcLabel: string; port: number; svcPort?: ServicePort; portName?: string } | { refused: string };

function resolveBackend(c: Candidate, index: AppIndex): Backend {
    const ns = c.ing.namespace;
    if (!c.backend.service) {
        return {
            refused: `its backend is a ${c.backend.resource?.kind ?? "resource"}${c.backend.resource?.name ? ` (${c.backend.resource.name})` : ""}, not a Service`,
        };
    }
    const sb = c.backend.service;
    const svc = index.service(ns, sb.name);
    const svcLabel = `Service ${ns}/${sb.name}`;
    const resolved = { name: sb.name, svcLabel, ...(sb.port.name ? { portName: sb.port.name } : {}) };
    if (svc?.type === "ExternalName")
        return { refused: `${svcLabel} is an ExternalName Service: it has no pods for Istio to balance across` };
    const port = sb.port.number;
    if (port === undefined) {
        if (!svc) {
            return {
                refused:
                    `its backend names the port "${sb.port.name}" of ${svcLabel}, which is not in the input; include the Services ` +
                    "(kubectl get ingress,service -A -o yaml) so the import can resolve it",
            };
        }
        const svcPort = svc.ports.find((p) => p.name === sb.port.name);
        if (!svcPort)
            return {
                refused: `${svcLabel} has no port named "${sb.port.name}" (it has ${svc.ports.map((p) => p.name ?? p.port).join(", ") || "none"})`,
            };
        return { ...resolved, port: svcPort.port, svcPort };
    }
    if (!svc) return { ...resolved, port };
    const svcPort = svc.ports.find((p) => p.port === port);
    if (!svcPort)
        return {
            refused: `${svcLabel} has no port ${port} (it has ${svc.ports.map((p) => p.port).join(", ") || "none"})`,
        };
    return { ...resolved, port, svcPort };
}

/** Why an app may not live in a namespace (the import leaves namespaces as they are: enrolNamespace false). */
function namespaceRefusal(ns: string, tlsOn: boolean): string | undefined {
    const reserved = reservedNamespace(ns, { enrolNamespace: false });
    if (reserved) return `its namespace "${ns}" is one the package refuses for an app (${reserved})`;
    if (ns === DEFAULT_GATEWAY_NAMESPACE) return `its namespace "${ns}" is the gateway's (mesh.gateway.namespace)`;
    if (tlsOn && ns === "cert-manager")
        return `its namespace "cert-manager" is where the stack installs cert-manager for TLS`;
    return undefined;
}

/** Every Ingress that names a Service, by "namespace/name", in ingress-nginx's order (its default backend first: createUpstreams). */
function namingsOf(imported: readonly Selected[]): Map<string, Naming[]> {
    const namings = new Map<string, Naming[]>();
    for (const n of imported) {
        const services = [n.ing.defaultBackend, ...n.ing.rules.flatMap((r) => r.paths.map((p) => p.backend))].flatMap(
            (b) => (b?.service ? [b.service.name] : []),
        );
        for (const svc of new Set(services)) {
            const key = `${n.ing.namespace}/${svc}`;
            const list = namings.get(key);
            if (list) list.push(n);
            else namings.set(key, [n]);
        }
    }
    return namings;
}

/**
 * Apps: each path becomes an app of its Service, joins the Service's app when it has the same port and
 * path, or is reported as not mapped with why. Each host's path goes to one Service.
 */
function mapApps(
    selection: Selection,
    candidates: readonly Candidate[],
    index: AppIndex,
    ctx: { regexHosts: ReadonlySet<string>; tlsOn: boolean },
): Tally {
    const tally: Tally = { firstApp: new Map(), protocolFindings: new Map(), mappedPaths: new Map() };
    const countMapped = (ing: Ingress, s: AppState, protocol: Finding | undefined) => {
        tally.mappedPaths.set(ing, (tally.mappedPaths.get(ing) ?? 0) + 1);
        if (!tally.firstApp.has(ing)) tally.firstApp.set(ing, s);
        if (protocol && !tally.protocolFindings.has(ing)) tally.protocolFindings.set(ing, protocol);
    };
    const namings = namingsOf(selection.imported);

    for (const c of candidates) {
        const lines = selection.lines.get(c.ing)!;
        const refuse = (why: string) => lines.push({ subject: c.subject, ...notMapped(why) });
        const ns = c.ing.namespace;
        const backend = resolveBackend(c, index);
        if ("refused" in backend) {
            refuse(backend.refused);
            continue;
        }
        const { port, svcPort, svcLabel } = backend;
        const badNamespace = namespaceRefusal(ns, ctx.tlsOn);
        if (badNamespace) {
            refuse(badNamespace);
            continue;
        }
        const mapped = mapPath(
            { path: c.path, pathType: c.pathType },
            {
                hostRegex: !c.defaultBackend && ctx.regexHosts.has(c.hosts[0]),
                ownRegex: ownRegex(c.ann, c.path),
                ...(c.defaultBackend ? {} : { rewriteTarget: c.ann.rewriteTarget }),
            },
        );
        if ("refused" in mapped) {
            refuse(mapped.refused);
            continue;
        }
        const protocol = protocolOf(c.ann, svcPort);
        if ("refused" in protocol) {
            refuse(protocol.refused);
            continue;
        }
        const serviceKey = `${ns}/${backend.name}`;
        const existing = index.ofService(serviceKey);
        if (existing) {
            if (existing.app.service.port !== port) {
                refuse(
                    `${svcLabel} is already ${describeApp(existing)} on port ${existing.app.service.port}; an app is one Service port`,
                );
                continue;
            }
            if (existing.app.path !== mapped.path || existing.app.stripPath !== mapped.stripPath) {
                refuse(
                    `${svcLabel} is already ${describeApp(existing)}${existing.app.stripPath !== mapped.stripPath && existing.app.path === mapped.path ? " with another rewrite" : ""}, ` +
                        `and an app has one path: requests to "${mapped.path}" no longer reach the Service; give the Service this path alone, or route ` +
                        "the extra path yourself",
                );
                continue;
            }
        }
        // The hosts this candidate can take (a default backend may lose some of its Ingress's hosts).
        const lost: string[] = [];
        const hosts = c.hosts.filter((h) => {
            const why = index.hostRefusal(h, serviceKey, mapped.path);
            if (why) lost.push(c.hosts.length > 1 ? `not on ${h}: ${why}` : why);
            return !why;
        });
        if (hosts.length === 0) {
            refuse(lost.join("; "));
            continue;
        }
        if (existing) {
            hosts.forEach((h) => index.addHost(existing, h));
            lines.push({
                subject: c.subject,
                verdict: lost.length ? "approximate" : mapped.finding.verdict,
                detail: [
                    ...(mapped.finding.detail ? [mapped.finding.detail] : []),
                    `the same app as before: ${existing.app.name}`,
                    ...lost,
                ].join("; "),
            });
            countMapped(c.ing, existing, protocol.finding);
            continue;
        }
        const upstream = upstreamOf(namings.get(serviceKey)!);
        const affinity = mapAffinity(upstream.effective, {
            locationPath: c.path || "/",
            locationIsRegex: mapped.regex,
            appPath: mapped.path,
            tls: ctx.tlsOn,
        });
        const name = index.nameFor(backend.name, ns);
        const targetPort = typeof svcPort?.targetPort === "number" ? svcPort.targetPort : undefined;
        const state: AppState = {
            app: {
                name,
                namespace: ns,
                path: mapped.path,
                stripPath: mapped.stripPath,
                affinity: affinity.affinity,
                service: {
                    name: backend.name,
                    port,
                    ...(targetPort !== undefined && targetPort !== port ? { targetPort } : {}),
                    ...(protocol.protocol !== "http" ? { appProtocol: protocol.protocol } : {}),
                    enrolNamespace: false,
                },
            },
            hosts: new Set(),
            index: index.apps.length,
            serviceKey,
            upstream,
            findings: affinity.findings,
        };
        index.add(state, hosts);
        const portNotes = [
            `app ${name}: Service ${serviceKey} port ${port}${backend.portName ? ` (named "${backend.portName}" in the Ingress, resolved from the Service)` : ""}`,
            ...(svcPort === undefined ? ["the Service is not in the input, so targetPort is left to its default"] : []),
            ...(typeof svcPort?.targetPort === "string"
                ? [
                      `targetPort "${svcPort.targetPort}" is a name, which only the pods resolve; left out (direct routing alone uses it)`,
                  ]
                : []),
            ...(c.defaultBackend
                ? [
                      `a default backend becomes the path "/" ${hosts.includes("*") ? "on every host" : `on ${hosts.join(", ")}`}, which takes every request ` +
                          "no other app's path takes there",
                  ]
                : []),
            ...lost,
        ];
        lines.push({
            subject: c.subject,
            verdict: mapped.finding.verdict === "exact" && !c.defaultBackend ? "exact" : "approximate",
            detail: [...(mapped.finding.detail ? [mapped.finding.detail] : []), ...portNotes].join("; "),
        });
        countMapped(c.ing, state, protocol.finding);
    }
    return tally;
}

/** Persistent cookies all live on path "/": two apps with one cookie name would overwrite each other's, so the later is renamed. */
function renamePersistentCookies(apps: readonly AppState[]): Map<AppState, string[]> {
    const cookieOwners = new Map<string, string>();
    const appNotes = new Map<AppState, string[]>();
    for (const s of apps) {
        const c = s.app.affinity.cookie;
        if (s.app.affinity.mode !== AffinityMode.PersistentCookie || !c) continue;
        const owner = cookieOwners.get(c.name);
        if (owner !== undefined) {
            const renamed = `${c.name}-${s.app.name}`.slice(0, 63).replace(/[-_.]+$/, "");
            appNotes.set(s, [
                ...(appNotes.get(s) ?? []),
                `persistent cookie renamed "${renamed}": app ${owner} has "${c.name}" on path "/" too, and each would overwrite the other's (ingress-nginx's ` +
                    "cookie named no pod Envoy knows, so nothing is lost)",
            ]);
            if (isLabelValue(renamed)) c.name = renamed;
        } else cookieOwners.set(c.name, s.app.name);
    }
    return appNotes;
}

/**
 * Gateway hosts: every mapped path's, and the TLS hosts (which must be among them). A host that an app's wildcard host
 * covers is left out, as the package asks: istiod would mix the wildcard's routes into a host listed beside it
 * (components/settings/validate.ts: checkHostMerges), and the wildcard serves it all the same.
 */
function gatewayHostsOf(apps: readonly AppState[], tlsHosts: readonly string[]): GatewayHosts {
    const hostSet = new Set<string>();
    for (const s of apps) for (const h of s.hosts) hostSet.add(h);
    for (const h of tlsHosts) hostSet.add(h);
    const hostList = [...hostSet];
    const underWildcard = hostCoverage(apps.flatMap((s) => [...s.hosts].filter((h) => h.startsWith("*."))));
    const coveredBy = (h: string): string | undefined =>
        !h.startsWith("*") && underWildcard(h) ? `*${h.slice(h.indexOf("."))}` : undefined;
    const gatewayHosts =
        hostSet.has("*") || hostList.length === 0
            ? ["*"]
            : hostList.filter((h) => GATEWAY_HOST.test(h) && !coveredBy(h));
    const leftOut = gatewayHosts.includes("*") ? [] : hostList.filter((h) => coveredBy(h));
    return { gatewayHosts, leftOut, coveredBy };
}

/** TLS: the stack's tls settings (issuer, redirect) and the report line that says why. */
function tlsOf(
    imported: readonly Selected[],
    tlsHosts: string[],
    gatewayHosts: readonly string[],
    certified: (h: string) => boolean,
    opts: ImportOptions,
): { settings: ImportedTls; entry: ReportEntry } {
    const coveredAll = gatewayHosts.every((h) => h !== "*" && certified(h));
    const noRedirect = imported.some(({ ing, ann }) => ing.tls.length > 0 && ann.sslRedirect === false);
    const settings: ImportedTls = { enabled: true, hosts: tlsHosts };
    const notes: string[] = [];
    if (opts.acmeEmail) {
        settings.issuer = "acme";
        settings.acme = { email: opts.acmeEmail };
        notes.push(
            "HTTP is not redirected to HTTPS: ACME answers HTTP-01 over plain HTTP on port 80 (ingress-nginx redirected the TLS hosts)",
        );
    } else if (!coveredAll || noRedirect) {
        settings.httpsRedirect = false;
        const uncertified = gatewayHosts.filter((h) => h === "*" || !certified(h));
        notes.push(
            noRedirect
                ? 'httpsRedirect false: an Ingress with TLS sets ssl-redirect "false"'
                : `httpsRedirect false: ingress-nginx redirected only its TLS hosts, and the gateway redirects all of its hosts or none (${uncertified.join(
                      ", ",
                  )} ${uncertified.length > 1 ? "have" : "has"} no certificate)`,
        );
    } else
        notes.push(
            "HTTP is redirected to HTTPS on every host, as ingress-nginx redirected its TLS hosts (ssl-redirect's default)",
        );
    return {
        settings,
        entry: {
            subject: "TLS",
            verdict: "note",
            detail: [`istio-sticky:tls for ${tlsHosts.join(", ")}`, ...notes].join("; "),
        },
    };
}

/** The report's first line: the order paths were taken in. */
const ORDER_ENTRY: ReportEntry = {
    subject: "order",
    verdict: "note",
    detail:
        "Ingresses are read in ingress-nginx's order (oldest first; same or no creationTimestamp: namespace/name descending), and where two paths " +
        "cannot both be imported, the first wins",
};

/** One report entry per Ingress, in ingress-nginx's order: those left out, and each imported one with its lines and annotations. */
function ingressEntries(selection: Selection, tally: Tally, tlsOn: boolean): ReportEntry[] {
    return selection.ordered.map((ing) => {
        const skipped = selection.skipped.get(ing);
        if (skipped) return skipped;
        const app = tally.firstApp.get(ing);
        const inherited = app
            ? [
                  ...new Set(
                      [...app.upstream.from.entries()]
                          .filter(([k, from]) => from !== ing && ing.annotations[PREFIX + k] === undefined)
                          .map(([, from]) => from),
                  ),
              ]
            : [];
        const notes: ReportEntry[] = inherited.map((from) => ({
            subject: "affinity",
            verdict: "note",
            detail:
                `ingress-nginx applied annotations of Ingress ${from.namespace}/${from.name} to Service ${app!.serviceKey} as well (an upstream's balancing ` +
                "is per Service, whichever Ingress names it); see that Ingress",
        }));
        const all = [
            ...selection.lines.get(ing)!,
            ...annotationEntries(ing, app, tally.protocolFindings.get(ing), tlsOn),
            ...notes,
        ];
        return {
            subject: `Ingress ${ing.namespace}/${ing.name}`,
            ...summarize(all, tally.mappedPaths.get(ing) ?? 0),
            children: all,
        };
    });
}

/** The gateway hosts line, when hosts a wildcard covers were left out. */
function gatewayHostsEntries({ gatewayHosts, leftOut, coveredBy }: GatewayHosts): ReportEntry[] {
    if (!leftOut.length) return [];
    const byWildcard = new Map<string, string[]>();
    for (const h of leftOut) {
        const w = coveredBy(h)!;
        const list = byWildcard.get(w);
        if (list) list.push(h);
        else byWildcard.set(w, [h]);
    }
    return [
        {
            subject: "gateway hosts",
            verdict: "note",
            detail: [
                `istio-sticky:mesh.gateway.hosts ${gatewayHosts.join(", ")}`,
                ...[...byWildcard].map(
                    ([w, hs]) =>
                        `${hs.join(", ")} left out: the wildcard ${w} covers ${hs.length > 1 ? "them" : "it"}, and istiod would mix its routes into a host ` +
                        "listed beside it; the apps on such a host keep it in their hosts, and the gateway routes it apart from the wildcard",
                ),
            ].join("; "),
        },
    ];
}

/** One line per app: what it is, and what differs from ingress-nginx for it. */
function appEntries(
    apps: readonly AppState[],
    appNotes: ReadonlyMap<AppState, string[]>,
    tlsOn: boolean,
    certified: (h: string) => boolean,
): ReportEntry[] {
    /** The hosts apps name: a rule without host gives an app on these too. */
    const named = [...new Set(apps.flatMap((s) => (s.hosts.has("*") ? [] : [...s.hosts])))].join(", ");
    return apps.map((s) => {
        const everywhere = s.hosts.has("*");
        const notes = [
            `Service ${s.serviceKey} port ${s.app.service.port}, path ${s.app.path}${s.app.stripPath ? " (stripped)" : ""}, ` +
                `${everywhere ? "every host" : `hosts ${[...s.hosts].join(", ")}`}, affinity ${s.app.affinity.mode}`,
            ...(appNotes.get(s) ?? []),
            `enrolNamespace false: the gateway applies the affinity without sidecars in "${s.app.namespace}", so nothing there changes; set it true to label ` +
                "the namespace for the mesh (which restarts nothing by itself: pods get a sidecar when they next restart)",
        ];
        if (everywhere && named !== "") {
            notes.push(
                `on every host, as a path for any host: ingress-nginx sent it only the requests for hosts no rule names, and here it also takes ` +
                    `those for ${named} that no path of their apps takes`,
            );
        }
        // Only a cookie Envoy sets (one with a ttl) gets the attributes; one the app sets is only hashed.
        if (tlsOn && s.app.affinity.mode === AffinityMode.Cookie && s.app.affinity.cookie?.ttl !== undefined) {
            const plain = [...s.hosts].filter((h) => h === "*" || !certified(h));
            if (plain.length) {
                notes.push(
                    `with TLS on, the package marks the cookie Secure, and browsers do not keep it from plain-HTTP responses on ${plain.join(", ")}: ` +
                        "requests there are not sticky unless they use HTTPS",
                );
            }
        }
        return { subject: `app ${s.app.name}`, verdict: "note" as const, detail: notes.join("; ") };
    });
}

/** One line per annotation of an imported Ingress. */
function annotationEntries(
    ing: Ingress,
    app: AppState | undefined,
    protocol: Finding | undefined,
    tlsOn: boolean,
): ReportEntry[] {
    const out: ReportEntry[] = [];
    for (const [key, value] of Object.entries(ing.annotations)) {
        if (key === "kubectl.kubernetes.io/last-applied-configuration") continue;
        const subject = `annotation ${key}: ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
        if (key === CLASS_ANNOTATION) {
            out.push({ subject, ...exact("selects ingress-nginx (see the Ingress line)") });
            continue;
        }
        if (!key.startsWith(PREFIX)) {
            out.push({
                subject,
                ...notMapped(
                    key.startsWith("cert-manager.io/")
                        ? "the gateway's certificate comes from istio-sticky:tls (issuer selfSigned, or acme with --acme-email); this Ingress's issuer is not used"
                        : "not an ingress-nginx annotation; nothing here reads it",
                ),
            });
            continue;
        }
        const name = key.slice(PREFIX.length);
        if (AFFINITY_ANNOTATIONS.has(name)) {
            out.push({ subject, ...affinityAnnotation(name, ing, app) });
            continue;
        }
        if (name === "backend-protocol" && protocol) {
            out.push({ subject, ...protocol });
            continue;
        }
        out.push({ subject, ...otherAnnotation(name, value, tlsOn) });
    }
    return out;
}

/** What became of an affinity annotation: its finding, or which Ingress's value ingress-nginx used for the Service instead. */
function affinityAnnotation(name: string, ing: Ingress, app: AppState | undefined): Finding {
    if (!app) return notMapped("no path of this Ingress was imported");
    const over = app.upstream.overriddenBy(name, ing);
    if (over?.by)
        return notMapped(
            `ingress-nginx used Ingress ${over.by.namespace}/${over.by.name}'s value for Service ${app.serviceKey}: ${over.rule}`,
        );
    if (over)
        return notMapped(
            "no effect without affinity: cookie on an Ingress that names the Service, in ingress-nginx as here",
        );
    return app.findings.get(name) ?? exact();
}

/** Routing annotations the import reads outside the affinity, and the rest of ingress-nginx's. */
function otherAnnotation(name: string, value: string, tlsOn: boolean): Finding {
    switch (name) {
        case "use-regex":
            return value.trim().toLowerCase() === "false" || value.trim() === "0"
                ? exact("paths are prefixes")
                : approximate(
                      "its paths were matched as case-insensitive regular expressions; each becomes its literal prefix (see its paths)",
                  );
        case "rewrite-target":
            return approximate("see its paths: the gateway can only strip the path prefix (stripPath)");
        case "backend-protocol":
            return exact("see its paths");
        case "ssl-redirect":
            return tlsOn
                ? approximate("see the TLS line: the gateway redirects all of its hosts or none")
                : exact("no effect without TLS, in ingress-nginx as here");
        case "force-ssl-redirect":
            return notMapped("the gateway redirects to HTTPS only with istio-sticky:tls on (tls.httpsRedirect)");
        case "canary":
            return exact("not a canary");
        case "app-root":
            return notMapped(
                "the gateway does not redirect / to another path; route it yourself if clients rely on it",
            );
        default:
            return notMapped(
                `the import maps session affinity and routing only; ${PREFIX}${name} has no counterpart in the stack config (configure it on Istio if you rely on it)`,
            );
    }
}
