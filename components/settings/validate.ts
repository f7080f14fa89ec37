import { z } from "zod";
import { distance } from "fastest-levenshtein";
import {
    AffinityMode,
    Dataplane,
    DirectContext,
    ExternalTrafficPolicy,
    GatewayServiceType,
    IngressApi,
    isHashMode,
    isPersistentMode,
    TlsIssuer,
} from "./enums";
import {
    appSchema,
    AppSettings,
    directSchema,
    meshSchema,
    MeshSettings,
    runsDemoApp,
    serviceName,
    tlsSchema,
    TlsSettings,
    valueAt,
} from "./schema";
import { headerMatchesOverlap, pathsOverlap } from "./rules";
import { istioAdvisoryWarnings, istioEndOfLifeWarning } from "./versions";
import { DEMO_SESSION_COOKIE } from "./wellKnown";

/** The Pulumi config namespace of this project. */
export const CONFIG_NAMESPACE = "istio-sticky";
export const MESH_KEY = `${CONFIG_NAMESPACE}:mesh`;
export const APPS_KEY = `${CONFIG_NAMESPACE}:apps`;
export const TLS_KEY = `${CONFIG_NAMESPACE}:tls`;
const KNOWN_KEYS = [MESH_KEY, APPS_KEY, TLS_KEY];

/**
 * Namespaces an app may not take: labelling them for injection or creating them
 * again would disturb Istio, Kubernetes or the workloads already there.
 */
export function reservedNamespace(ns: string, existing?: { enrolNamespace: boolean }): string | undefined {
    if (ns === "istio-system") return "it is Istio's own";
    // An existing Service in "default" is fine as long as the namespace is left as it is.
    if (ns === "default" && existing?.enrolNamespace !== false) {
        return existing
            ? "labelling it for the mesh would change every workload already in it; leave service.enrolNamespace false"
            : "labelling it for sidecar injection would change every workload already in it";
    }
    if (ns.startsWith("kube-")) return "the kube-* namespaces belong to Kubernetes";
    return undefined;
}

/** Config keys that look like this project's, misspelled: "istio-stiky:mesh", "istiosticky:apps", "myproj:tls". */
function misspelledKeys(config: Readonly<Record<string, unknown>>): string[] {
    const names = KNOWN_KEYS.map((k) => k.slice(CONFIG_NAMESPACE.length + 1));
    return Object.keys(config).flatMap((key) => {
        const colon = key.indexOf(":");
        if (colon < 0) return [];
        const [ns, name] = [key.slice(0, colon), key.slice(colon + 1)];
        if (ns === CONFIG_NAMESPACE) return [];
        const likeOurs =
            distance(ns, CONFIG_NAMESPACE) <= 2 ||
            ns.replace(/[^a-z]/g, "") === CONFIG_NAMESPACE.replace(/[^a-z]/g, "");
        if (!likeOurs && !names.includes(name)) return [];
        const guess = names.includes(name) ? name : (names.find((n) => distance(n, name) <= 2) ?? name);
        return [
            `${key}: not read: its namespace is "${ns}", not "${CONFIG_NAMESPACE}" (did you mean ${CONFIG_NAMESPACE}:${guess}?); defaults would apply instead`,
        ];
    });
}

/** Every problem found in the settings, each naming its field. */
export class SettingsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid settings:\n  - ${problems.join("\n  - ")}`);
        this.name = "SettingsError";
    }
}

export interface StackSettings {
    mesh: MeshSettings;
    apps: AppSettings[];
    tls: TlsSettings;
}

/** Where each part of the settings came from, for messages. */
export interface SettingsPlaces {
    mesh: string;
    apps: string;
    tls: string;
}

export interface Checked<T> {
    value: T;
    /** Things that are allowed but probably not what the user wants. */
    warnings: string[];
}

export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>(
        (out, seg) => (typeof seg === "number" ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)),
        prefix,
    );
}

/** The value at a path of the raw settings, or undefined. */
function rawAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>(
        (v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
        raw,
    );
}

/** A refused value as a message quotes it: JSON, cut short when long. */
export function quoted(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * Each issue as "<field>: <why> (got <the value refused>)". Messages that quote the value already
 * keep their own words; a missing value, or a key refused by name, has nothing more to quote.
 */
function issuesToProblems(prefix: string, error: z.ZodError, raw: unknown): string[] {
    return error.issues.map((issue) => {
        const value = rawAt(raw, issue.path);
        // A text the message quotes already ("x-user"); a number or true is always quoted again: "from 1 to 10" is no quote of 1.
        const quotes =
            value === undefined ||
            issue.code === "unrecognized_keys" ||
            issue.message.includes("(got ") ||
            (typeof value === "string" && issue.message.includes(quoted(value)));
        return `${fieldPath(prefix, issue.path)}: ${issue.message}${quotes ? "" : ` (got ${quoted(value)})`}`;
    });
}

function parseWith<S extends z.ZodType>(
    schema: S,
    raw: unknown,
    prefix: string,
    problems: string[],
): z.output<S> | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(...issuesToProblems(prefix, result.error, raw));
    return undefined;
}

/** Pulumi hands structured config values over as JSON text; files hand over objects. */
function decodeConfigValue(key: string, value: unknown, problems: string[]): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        problems.push(`${key}: must be a structured value (a YAML map or list), got the text ${JSON.stringify(value)}`);
        return undefined;
    }
}

/**
 * Validates a stack's whole config map (keys like "istio-sticky:apps"), as
 * `pulumi.runtime.allConfig()` or a `Pulumi.<stack>.yaml` gives it.
 * Keys of other namespaces (kubernetes:context, …) are left alone.
 */
export function parseStackConfig(config: Readonly<Record<string, unknown>>): Checked<StackSettings> {
    const problems: string[] = misspelledKeys(config);
    for (const key of Object.keys(config)) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`) && !KNOWN_KEYS.includes(key)) {
            problems.push(`${key}: unknown config key (allowed: ${KNOWN_KEYS.join(", ")})`);
        }
    }
    const rawMesh = decodeConfigValue(MESH_KEY, config[MESH_KEY] ?? {}, problems);
    const rawTls = decodeConfigValue(TLS_KEY, config[TLS_KEY] ?? {}, problems);
    const rawApps = decodeConfigValue(APPS_KEY, config[APPS_KEY], problems);
    if (rawApps === undefined && !(APPS_KEY in config)) {
        problems.push(`${APPS_KEY}: is required (a list of apps, each with at least a name)`);
    }
    return parseStackParts(
        { mesh: rawMesh, apps: rawApps, tls: rawTls },
        { mesh: MESH_KEY, apps: APPS_KEY, tls: TLS_KEY },
        problems,
    );
}

/**
 * Validates a whole stack given as component args (StickySessions): names,
 * paths and policies against each other and against the mesh, before any
 * resource is registered.
 */
export function parseStack(
    raw: { mesh?: unknown; apps: readonly unknown[]; tls?: unknown },
    where: string,
): Checked<StackSettings> {
    return parseStackParts(raw, { mesh: `${where} mesh`, apps: `${where} apps`, tls: `${where} tls` }, []);
}

const appsSchema = z
    .array(appSchema, { error: "must be a list of apps" })
    .min(1, { message: "must list at least one app" });

/** Parses the three parts, then checks them together; throws every problem found (with those already in `problems`). */
function parseStackParts(
    raw: { mesh?: unknown; apps: unknown; tls?: unknown },
    places: SettingsPlaces,
    problems: string[],
): Checked<StackSettings> {
    const mesh = parseWith(meshSchema, raw.mesh ?? {}, places.mesh, problems);
    const tls = parseWith(tlsSchema, raw.tls ?? {}, places.tls, problems);
    const apps = raw.apps === undefined ? undefined : parseWith(appsSchema, raw.apps, places.apps, problems);
    if (mesh && apps && tls) {
        const stack = { mesh, apps, tls };
        const checked = checkStack(stack, places);
        problems.push(...checked.problems);
        if (problems.length === 0) return { value: applyTlsDefaults(stack), warnings: checked.warnings };
    }
    throw new SettingsError(problems);
}

/** Validates one mesh's settings (component args). */
export function parseMesh(raw: unknown, where: string): MeshSettings {
    const problems: string[] = [];
    const mesh = parseWith(meshSchema, raw ?? {}, where, problems);
    if (!mesh) throw new SettingsError(problems);
    return mesh;
}

/** Validates a gateway certificate's settings (component args); TLS is on. */
export function parseTls(raw: unknown, where: string): TlsSettings {
    const problems: string[] = [];
    const tls = parseWith(tlsSchema, { ...(raw as object), enabled: true }, where, problems);
    if (!tls) throw new SettingsError(problems);
    return tls;
}

/** Validates direct-routing settings on their own (they decide which objects an app has). */
export function parseDirect(raw: unknown, where: string): AppSettings["direct"] {
    const problems: string[] = [];
    const direct = parseWith(directSchema, raw ?? {}, `${where}.direct`, problems);
    if (!direct) throw new SettingsError(problems);
    return direct;
}

/** Validates one app's settings (component args). */
export function parseApp(raw: unknown, where: string): Checked<AppSettings> {
    const problems: string[] = [];
    const app = parseWith(appSchema, raw, where, problems);
    if (!app) throw new SettingsError(problems);
    const checked = checkApp(app, where, undefined);
    if (checked.problems.length) throw new SettingsError(checked.problems);
    return { value: app, warnings: checked.warnings };
}

interface Findings {
    problems: string[];
    warnings: string[];
}

function checkApp(app: AppSettings, where: string, mesh: MeshSettings | undefined, meshWhere = "mesh"): Findings {
    const problems: string[] = [];
    const warnings: string[] = [];
    const a = app.affinity;
    const reserved = reservedNamespace(app.namespace, app.service);
    if (reserved) {
        problems.push(
            `${where}.namespace: "${app.namespace}" is reserved (${reserved}); give the app a namespace of its own`,
        );
    }
    if (a.mode === AffinityMode.PersistentCookie && runsDemoApp(app) && a.cookie?.name === DEMO_SESSION_COOKIE) {
        problems.push(
            `${where}.affinity.cookie.name: "${DEMO_SESSION_COOKIE}" is the demo app's own session cookie; choose another name`,
        );
    }
    if (mesh && app.namespace === mesh.gateway.namespace) {
        problems.push(
            `${where}.namespace: "${app.namespace}" is the gateway's namespace (${meshWhere}.gateway.namespace); give the app a namespace of its own`,
        );
    }
    if (a.mode === AffinityMode.Cookie && a.cookie && a.cookie.ttl === undefined) {
        warnings.push(
            `${where}.affinity.cookie.ttl is not set: Envoy only hashes a "${a.cookie.name}" cookie the client already has, ` +
                `so new clients are not sticky until the app sets it (set a ttl, "0s" for a session cookie, to have Envoy set it)`,
        );
    }
    if (app.autoscaling && isHashMode(a.mode)) {
        warnings.push(
            `${where}.autoscaling: with hash mode "${a.mode}" each scale event moves sessions to other pods (measured from 3 to 4 pods: ` +
                `about 1/N with maglev, 30–42 % with ring hash); mode persistentCookie or persistentHeader keeps them`,
        );
    }
    if (app.autoscaling?.minReplicas === 1) {
        warnings.push(
            `${where}.autoscaling.minReplicas is 1: the PodDisruptionBudget (minAvailable 1) then blocks node drains while a single pod runs; use 2 or more`,
        );
    }
    if (mesh && a.mode === AffinityMode.Cookie && a.cookie?.ttl !== undefined && mesh.gateway.numTrustedProxies > 0) {
        // Envoy's router hashes the connection's remote and local addresses into the cookie it sets (addDownstreamSetCookie).
        warnings.push(
            `${where}.affinity.cookie.ttl: Envoy derives the "${a.cookie.name}" cookie it sets from the client connection, and behind the proxy ` +
                `in front of the gateway (${meshWhere}.gateway.numTrustedProxies) many clients share pooled connections: they get the same cookie ` +
                `and the same pod; let the app set the cookie (leave out ttl) or use mode persistentCookie`,
        );
    }
    warnings.push(...existingServiceWarnings(app, where, mesh));
    if (
        mesh &&
        a.mode === AffinityMode.SourceIp &&
        mesh.gateway.serviceType !== GatewayServiceType.ClusterIP &&
        mesh.gateway.externalTrafficPolicy !== ExternalTrafficPolicy.Local
    ) {
        warnings.push(
            `${where}.affinity.mode "sourceIp": behind a ${mesh.gateway.serviceType} Service the gateway may see a node or load-balancer address ` +
                `instead of the client's; set ${meshWhere}.gateway.externalTrafficPolicy to "Local" to keep client addresses`,
        );
    }
    return { problems, warnings };
}

/** What an existing Service's app should know about its namespace's enrolment and what is left out. */
function existingServiceWarnings(app: AppSettings, where: string, mesh: MeshSettings | undefined): string[] {
    const s = app.service;
    if (!s) return [];
    const ambient = mesh?.dataplane === Dataplane.Ambient;
    const out: string[] = [];
    if (s.enrolNamespace && !ambient) {
        out.push(
            `${where}.service.enrolNamespace: namespace "${app.namespace}" is labelled for sidecar injection; running pods get a sidecar only ` +
                `when they restart (kubectl rollout restart -n ${app.namespace} deployment/<name>), and until then in-mesh callers reach them without one`,
        );
    }
    if (s.enrolNamespace && ambient) {
        out.push(
            `${where}.service.enrolNamespace: namespace "${app.namespace}" is enrolled in ambient: its pods' traffic goes through ztunnel (mutual TLS) at once, without a restart`,
        );
    }
    if (!s.enrolNamespace && ambient && isHashMode(app.affinity.mode)) {
        out.push(
            `${where}.service.enrolNamespace is false: in-mesh callers are sticky only through the waypoint, which serves pods enrolled in ambient; ` +
                `the gateway applies the affinity either way`,
        );
    }
    return out;
}

/**
 * Cookie attributes a TLS gateway gives hash-mode cookies Envoy sets; Secure only when plain HTTP
 * only redirects (`httpsRedirect`).
 */
export const TLS_COOKIE_ATTRIBUTES = [{ name: "Secure" }, { name: "HttpOnly" }, { name: "SameSite", value: "Lax" }];

/**
 * With TLS on, the cookies Envoy sets for cookie-hash apps get HttpOnly and SameSite=Lax, and Secure
 * when HTTP only redirects to HTTPS (those the user did not set already; every supported Istio sets
 * attributes). Without the redirect the apps are served over HTTP too, where a client never keeps a
 * Secure cookie (browsers, curl's and tough-cookie's jars refuse to store one from an http:// URL):
 * Envoy would then make a new cookie for every connection, and a session would stick to its
 * connection only. The live gateway measured it (lab/live: 72 % of cookie sessions moved between
 * two runs a second apart).
 */
export function applyTlsDefaults(stack: StackSettings): StackSettings {
    if (!stack.tls.enabled) return stack;
    const defaults = TLS_COOKIE_ATTRIBUTES.filter((a) => stack.tls.httpsRedirect || a.name !== "Secure");
    return {
        ...stack,
        apps: stack.apps.map((app) => {
            const c = app.affinity.cookie;
            if (app.affinity.mode !== AffinityMode.Cookie || !c) return app;
            const have = new Set(c.attributes.map((a) => a.name.toLowerCase()));
            const attributes = [...c.attributes, ...defaults.filter((a) => !have.has(a.name.toLowerCase()))];
            return { ...app, affinity: { ...app.affinity, cookie: { ...c, attributes } } };
        }),
    };
}

/**
 * Whether gateway host patterns ("*", "*.example.com", "shop.example.com") cover a host, for many hosts: "*" covers
 * any, a name itself, a wildcard exactly one label in front of its suffix (so it is the one pattern "*" + the host
 * from its first dot). One Set lookup per host, however many patterns.
 */
export function hostCoverage(patterns: readonly string[]): (host: string) => boolean {
    const set = new Set(patterns);
    const any = set.has("*");
    return (host) => {
        if (any || set.has(host)) return true;
        const dot = host.indexOf(".");
        return dot > 0 && set.has(`*${host.slice(dot)}`);
    };
}

/** True when a gateway host pattern ("*", "*.example.com", "shop.example.com") covers the host. */
export function hostCovered(host: string, patterns: readonly string[]): boolean {
    return hostCoverage(patterns)(host);
}

/** istiod values an ACME issuer sets (see objects/tls acmeIngressValues): set as well, they would drift from the solver. */
const ACME_OWNED_ISTIOD_VALUES = [
    "meshConfig.ingressClass",
    "meshConfig.ingressControllerMode",
    "meshConfig.ingressService",
    "meshConfig.ingressSelector",
    "env.K8S_INGRESS_NS",
];

function checkTls(stack: StackSettings, where: SettingsPlaces): Findings {
    const problems: string[] = [];
    const warnings: string[] = [];
    if (stack.tls.enabled && stack.tls.installCertManager) {
        stack.apps.forEach((app, i) => {
            if (app.namespace === "cert-manager") {
                problems.push(
                    `${where.apps}[${i}].namespace: "cert-manager" is where ${where.tls}.installCertManager installs cert-manager; give the app a namespace of its own`,
                );
            }
        });
    }
    if (stack.tls.enabled && stack.tls.issuer === TlsIssuer.Acme) {
        if (stack.mesh.gateway.labels.istio === undefined) {
            problems.push(
                `${where.mesh}.gateway.labels: must hold an "istio" label with issuer "acme": istiod serves the HTTP-01 challenge Ingress ` +
                    `on the pods labelled istio=<meshConfig.ingressSelector> only (got ${quoted(stack.mesh.gateway.labels)})`,
            );
        }
        for (const key of ACME_OWNED_ISTIOD_VALUES) {
            if (valueAt(stack.mesh.values.istiod, key) !== undefined) {
                problems.push(
                    `${where.mesh}.values.istiod.${key}: is set by ${where.tls}.issuer "acme" (the gateway answers the HTTP-01 challenges); leave it out (got ${quoted(valueAt(stack.mesh.values.istiod, key))})`,
                );
            }
        }
    }
    if (stack.tls.enabled && stack.tls.httpsRedirect) {
        const certified = hostCoverage(stack.tls.hosts);
        stack.apps.forEach((app, i) =>
            (app.hosts ?? []).forEach((h, k) => {
                if (!certified(h)) {
                    problems.push(
                        `${where.apps}[${i}].hosts[${k}]: "${h}" has no certificate (${where.tls}.hosts), and HTTP is redirected to HTTPS (${where.tls}.httpsRedirect): its requests would reach no route`,
                    );
                }
            }),
        );
    }
    if (stack.tls.enabled) {
        const onGateway = hostCoverage(stack.mesh.gateway.hosts);
        stack.tls.hosts.forEach((h, i) => {
            if (!onGateway(h)) {
                problems.push(
                    `${where.tls}.hosts[${i}]: "${h}" is not among the gateway's hosts (${where.mesh}.gateway.hosts), so no route would serve it over HTTPS`,
                );
            }
        });
    }
    stack.apps.forEach((app, i) => {
        const c = app.affinity.cookie;
        if (!c) return;
        const at = `${where.apps}[${i}].affinity.cookie`;
        const secure = c.attributes.findIndex((a) => a.name.toLowerCase() === "secure");
        if (secure >= 0 && !stack.tls.enabled) {
            problems.push(
                `${at}.attributes[${secure}]: "Secure" contradicts TLS being off (${where.tls}.enabled): browsers never send a Secure cookie over plain HTTP, so sessions would not stick`,
            );
        }
        if (!stack.tls.enabled) return;
        if (secure >= 0 && !stack.tls.httpsRedirect) {
            warnings.push(
                `${at}.attributes[${secure}]: "Secure" with ${where.tls}.httpsRedirect off: the app is served over plain HTTP too, where clients never keep a Secure cookie, so HTTP sessions stick only to their connection`,
            );
        }
        if (app.affinity.mode === AffinityMode.PersistentCookie) {
            warnings.push(
                `${at}: Istio sets the persistent-session cookie "${c.name}" without Secure, HttpOnly or SameSite; it cannot be configured`,
            );
        }
    });
    return { problems, warnings };
}

/** True when some app offers direct routing at the ingress gateway, whose guard keys on the client's address. */
export function needsClientAddress(apps: readonly AppSettings[]): boolean {
    return apps.some((a) => a.direct.enabled && a.direct.contexts.includes(DirectContext.Gateway));
}

/**
 * The direct-routing guard denies the opt-in header to clients outside
 * `allowedClients`. Behind a NodePort or LoadBalancer Service with
 * externalTrafficPolicy Cluster, clients arrive SNATed to a (private) node
 * address, so the guard would let everyone through.
 */
function checkClientAddress(stack: StackSettings, where: SettingsPlaces): Findings {
    const g = stack.mesh.gateway;
    const hidden =
        needsClientAddress(stack.apps) &&
        g.serviceType !== GatewayServiceType.ClusterIP &&
        g.numTrustedProxies === 0 &&
        g.externalTrafficPolicy === ExternalTrafficPolicy.Cluster;
    const problems = hidden
        ? [
              `${where.mesh}.gateway.externalTrafficPolicy: "Cluster" hides client addresses behind node addresses, so the direct-routing guard ` +
                  `(direct.allowedClients) would admit everyone; use "Local", or set ${where.mesh}.gateway.numTrustedProxies when a proxy in front adds X-Forwarded-For`,
          ]
        : [];
    return { problems, warnings: [] };
}

/** Checks that look at the apps together and at the mesh they run on. */
/**
 * What the Gateway API cannot carry. Direct routing at the gateway sends a guarded
 * request to the DestinationRule's PASSTHROUGH subset; an HTTPRoute's backendRefs
 * name Services, never subsets, so neither the guarded route nor the route that
 * refuses unguarded direct requests can be written (direct routing for in-mesh
 * callers, the sidecar context, does not use the gateway and stays available).
 */
function checkIngressApi(stack: StackSettings, where: SettingsPlaces): Findings {
    const problems: string[] = [];
    if (stack.mesh.gateway.api !== IngressApi.GatewayApi) return { problems, warnings: [] };
    stack.apps.forEach((app, i) => {
        if (app.direct.enabled && app.direct.contexts.includes(DirectContext.Gateway)) {
            problems.push(
                `${where.apps}[${i}].direct.contexts: "gateway" cannot be offered with ${where.mesh}.gateway.api "gatewayApi": the guarded route ` +
                    `must send a request to the DestinationRule's passthrough subset, and an HTTPRoute can only name Services; ` +
                    `use api "istio" for direct routing at the gateway, or contexts ["sidecar"] for in-mesh callers`,
            );
        }
    });
    return { problems, warnings: [] };
}

/**
 * What ambient cannot give. Persistent sessions: Envoy's stateful-session filter is added
 * to sidecar and gateway routes (pilot/pkg/networking/core/httproute.go and gateway.go:
 * MaybeBuildStatefulSessionFilterConfig), never to a waypoint's (listener_waypoint.go), so
 * in-mesh callers would not be sticky. Direct routing: its sidecar context needs sidecars,
 * and at the gateway the passthrough cluster connects to the pod address itself, outside
 * ztunnel's HBONE tunnel, where mutual TLS refuses it.
 */
function checkAmbient(stack: StackSettings, where: SettingsPlaces): Findings {
    const problems: string[] = [];
    if (stack.mesh.dataplane !== Dataplane.Ambient) return { problems, warnings: [] };
    stack.apps.forEach((app, i) => {
        if (isPersistentMode(app.affinity.mode)) {
            problems.push(
                `${where.apps}[${i}].affinity.mode: "${app.affinity.mode}" is not honoured with ${where.mesh}.dataplane "ambient": ` +
                    `Envoy's stateful-session filter runs on sidecar and gateway routes, not on waypoints, so in-mesh callers would not be sticky; ` +
                    `use a hash mode (cookie, header, queryParameter, sourceIp), which a waypoint applies from the DestinationRule`,
            );
        }
        if (app.direct.enabled) {
            problems.push(
                `${where.apps}[${i}].direct: is not available with ${where.mesh}.dataplane "ambient": the sidecar context needs sidecars, and at the gateway ` +
                    `the passthrough cluster connects to the pod address itself, outside ztunnel's HBONE tunnel, which mutual TLS refuses`,
            );
        }
    });
    return { problems, warnings: [] };
}

/**
 * Existing Services among the apps: a namespace holding one is its owners', so the stack neither
 * creates it nor deploys its own workloads there, and labels it for the mesh only when all its apps
 * ask for that; one Service has one DestinationRule, so no two apps name it.
 */
function checkExisting(stack: StackSettings, where: SettingsPlaces): Findings {
    const problems: string[] = [];
    const firstExisting = new Map<string, number>();
    const firstService = new Map<string, number>();
    stack.apps.forEach((app, i) => {
        if (!app.service) return;
        const at = `${where.apps}[${i}]`;
        const first = firstExisting.get(app.namespace);
        if (first === undefined) firstExisting.set(app.namespace, i);
        else if (stack.apps[first].service!.enrolNamespace !== app.service.enrolNamespace) {
            problems.push(
                `${at}.service.enrolNamespace: ${app.service.enrolNamespace} disagrees with ${where.apps}[${first}] in namespace "${app.namespace}": ` +
                    `the namespace is labelled for the mesh or not, for all its apps`,
            );
        }
        const id = `${app.namespace}/${serviceName(app)}`;
        const same = firstService.get(id);
        if (same === undefined) firstService.set(id, i);
        else {
            problems.push(
                `${at}.service: Service "${id}" is already the app ${where.apps}[${same}]: a Service has one DestinationRule, so one policy; ` +
                    `route its other paths to that app's path, or tell its requests apart with match on one path`,
            );
        }
    });
    stack.apps.forEach((app, i) => {
        const existing = firstExisting.get(app.namespace);
        if (app.service || existing === undefined) return;
        problems.push(
            `${where.apps}[${i}].namespace: "${app.namespace}" holds the existing Service of ${where.apps}[${existing}], so it is not the stack's to create; ` +
                `deploy the app in a namespace of its own`,
        );
    });
    return { problems, warnings: [] };
}

/**
 * Apps on hosts of their own get routes per host (manifests/routes.ts hostRouting), and a wildcard's
 * routes (an app's "*.example.com", or the gateway hosts no app names, "*" included) are routes of
 * their own. But istiod builds a virtual host for every host of the gateway's servers
 * (mesh.gateway.hosts, and tls.hosts for HTTPS) and puts in it the routes of every VirtualService
 * whose host covers it (pilot/pkg/networking/core/gateway.go: buildGatewayVirtualHosts, host
 * intersection), in no set order. So a host named both by an app and by the gateway's servers,
 * under such a wildcard, gets the wildcard's routes mixed in with its own; refused when one of
 * them could take the other's requests (the same path, or a path nested in it).
 */
function checkHostMerges(stack: StackSettings, where: SettingsPlaces): string[] {
    const problems: string[] = [];
    const named = [...new Set(stack.apps.flatMap((a) => a.hosts ?? []))];
    const wildcard = (h: string) => h.startsWith("*");
    const namedSet = new Set(named);
    const rest = stack.apps.some((a) => !a.hosts)
        ? stack.mesh.gateway.hosts.filter((h) => !namedSet.has(h) && wildcard(h))
        : [];
    const wildcards = [...named.filter(wildcard), ...rest];
    const servers = new Set([...stack.mesh.gateway.hosts, ...(stack.tls.enabled ? stack.tls.hosts : [])]);
    // The apps each wildcard serves, found once per wildcard (not once per host under it).
    const served = new Map<string, AppSettings[]>();
    const servedBy = (w: string) => {
        if (!served.has(w))
            served.set(
                w,
                stack.apps.filter((a) => (a.hosts ? a.hosts.includes(w) : rest.includes(w))),
            );
        return served.get(w)!;
    };
    stack.apps.forEach((app, i) =>
        (app.hosts ?? []).forEach((h, k) => {
            if (wildcard(h) || !servers.has(h)) return;
            for (const w of wildcards.filter((w) => w !== h && hostCovered(h, [w]))) {
                const taker = servedBy(w).find(
                    (y) =>
                        y !== app &&
                        !(y.hosts ?? []).includes(h) &&
                        pathsOverlap(y.path, app.path) &&
                        y.path.length <= app.path.length,
                );
                if (!taker) continue;
                problems.push(
                    `${where.apps}[${i}].hosts[${k}]: "${h}" is a host of the gateway's servers (${where.mesh}.gateway.hosts or ${where.tls}.hosts) under the wildcard "${w}", ` +
                        `so istiod mixes "${w}"'s routes into "${h}"'s in no set order, and app ${taker.name} (path ${taker.path}) could take this app's requests; ` +
                        `leave "${h}" out of those lists ("${w}" covers it)`,
                );
            }
        }),
    );
    return problems;
}

/**
 * Whether two apps are served on a host in common, where their routes meet: an app without hosts
 * is on every host, and an app's host gets routes of its own (manifests/routes.ts hostRouting).
 */
function shareHosts(a: Pick<AppSettings, "hosts">, b: Pick<AppSettings, "hosts">): boolean {
    return !a.hosts || !b.hosts || a.hosts.some((h) => b.hosts!.includes(h));
}

/** A minor nearing its end of life gets a warning that names the date, and a patch open to an advisory one naming it (versions.ts). */
function checkIstioVersion(stack: StackSettings, where: SettingsPlaces): Findings {
    const { version } = stack.mesh;
    const found = [istioEndOfLifeWarning(version), ...istioAdvisoryWarnings(version)].filter((w) => w !== undefined);
    return { problems: [], warnings: found.map((w) => `${where.mesh}.version: ${w}`) };
}

export function checkStack(stack: StackSettings, where: SettingsPlaces): Findings {
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const found of [
        checkTls(stack, where),
        checkClientAddress(stack, where),
        checkIngressApi(stack, where),
        checkAmbient(stack, where),
        checkExisting(stack, where),
        checkIstioVersion(stack, where),
    ]) {
        problems.push(...found.problems);
        warnings.push(...found.warnings);
    }
    problems.push(...checkHostMerges(stack, where));
    const onGateway = hostCoverage(stack.mesh.gateway.hosts);
    // Two apps clash only by name, or on one path where they share a host (an app without hosts is on every host):
    // each app is compared with the apps before it of its name, and of its path on each of its hosts.
    const before = new Map<string, number[]>();
    const earlierOf = (key: string) => before.get(key) ?? [];
    const remember = (key: string, i: number) => before.set(key, earlierOf(key)).get(key)!.push(i);
    const placesOf = (app: AppSettings) =>
        app.hosts ? app.hosts.map((h) => `path ${app.path} on ${h}`) : [`path ${app.path} on every host`];
    stack.apps.forEach((app, i) => {
        const at = `${where.apps}[${i}]`;
        const own = checkApp(app, at, stack.mesh, where.mesh);
        problems.push(...own.problems);
        warnings.push(...own.warnings);
        (app.hosts ?? []).forEach((h, k) => {
            if (!onGateway(h)) {
                problems.push(
                    `${at}.hosts[${k}]: "${h}" is not among the gateway's hosts (${where.mesh}.gateway.hosts), so no request would reach the app by it`,
                );
            }
        });
        // Apps with hosts meet those on every host and those on one of their hosts; an app on every host meets them all.
        const meets = app.hosts
            ? [...placesOf(app), `path ${app.path} on every host`]
            : [`path ${app.path} on any host`];
        const earlier = new Set([...earlierOf(`name ${app.name}`), ...meets.flatMap(earlierOf)]);
        remember(`name ${app.name}`, i);
        for (const place of placesOf(app)) remember(place, i);
        remember(`path ${app.path} on any host`, i);
        for (const j of [...earlier].sort((a, b) => a - b)) {
            const other = stack.apps[j];
            if (other.name === app.name) {
                problems.push(`${at}.name: "${app.name}" is already used by ${where.apps}[${j}]`);
            }
            if (other.path === app.path && shareHosts(other, app)) {
                for (const [d, m, dAt, mAt] of [
                    [app, other, at, `${where.apps}[${j}]`],
                    [other, app, `${where.apps}[${j}]`, at],
                ] as const) {
                    if (d.direct.enabled && m.match && d.direct.header in m.match.headers) {
                        problems.push(
                            `${dAt}.direct.header: "${d.direct.header}" is also the routing header of ${mAt}.match on path "${app.path}": ` +
                                `the route that refuses unguarded direct requests would take that app's requests too; choose another header`,
                        );
                    }
                }
                if (!other.match && !app.match) {
                    problems.push(
                        `${at}.path: "${app.path}" is already used by ${where.apps}[${j}]; give one of them a match to route by header, or a path of its own`,
                    );
                } else if (other.match && app.match && headerMatchesOverlap(other.match.headers, app.match.headers)) {
                    problems.push(
                        `${at}.match: overlaps ${where.apps}[${j}].match on path "${app.path}": a request with headers ` +
                            `${JSON.stringify({ ...other.match.headers, ...app.match.headers })} would match both`,
                    );
                }
            }
        }
    });
    return { problems, warnings };
}
