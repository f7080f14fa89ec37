import { needsClientAddress, type StackSettings } from "../settings/validate";
import {
    needsPersistentSessions,
    runsDemoApp,
    type AppSettings,
    type MeshSettings,
    type TlsSettings,
} from "../settings/schema";
import {
    Dataplane,
    ExternalTrafficPolicy,
    GatewayServiceType,
    IngressApi,
    isPersistentMode,
    TlsIssuer,
} from "../settings/enums";
import { needsWaypoint } from "../policy/affinity";
import { buildWaypoint, WAYPOINT_NAME } from "../manifests/waypoint";
import { gatewayApiVersionFor, istioLine } from "../settings/versions";
import { PERSISTENT_SESSION_ENV } from "../policy/affinity";
import { ISTIO_SYSTEM_NAMESPACE, mergeValues } from "../manifests/releases";
import { acmeIngressMeshConfig, GATEWAY_TLS_SECRET } from "../manifests/tls";
import { buildNamespace, buildNamespaceEnrolment } from "../manifests/namespace";
import { buildIstioGateway, gatewayRef } from "../manifests/gateway";
import { buildRoutes, RouteContext } from "../manifests/routes";
import {
    buildGatewayApiGateway,
    buildHttpRoutes,
    buildHttpsRedirectRoute,
    buildReferenceGrant,
    HTTP_LISTENER,
    httpsListenerNames,
} from "../manifests/gatewayApi";
import { buildDemoScript, demoScriptRef } from "../manifests/demoApp";
import type { K8sObject } from "../manifests/types";
import { ComponentType, fillPart, PlannedComponent, PlannedObject, PlannedRead, ReadKind } from "./types";
import { meshKeys, meshLayout, meshPart } from "./mesh";
import { tlsKeys, tlsPart } from "./tls";
import { appLayout, appPart } from "./app";
import { meshWaits } from "./waits";

export const SHARED_GATEWAY_NAME = "sticky-gateway";

/**
 * The mesh as the stack installs it: an ACME issuer makes the gateway istiod's
 * ingress controller, and direct routing at the gateway keeps client addresses
 * (externalTrafficPolicy Local) unless the stack says otherwise, since its
 * guard keys on them.
 */
export function meshForStack(stack: Pick<StackSettings, "mesh" | "tls" | "apps">): MeshSettings {
    const g = stack.mesh.gateway;
    const keepClients =
        g.externalTrafficPolicy === undefined &&
        g.serviceType !== GatewayServiceType.ClusterIP &&
        g.numTrustedProxies === 0 &&
        needsClientAddress(stack.apps);
    const gateway = keepClients ? { ...g, externalTrafficPolicy: ExternalTrafficPolicy.Local } : g;
    const acme = acmeIngressMeshConfig(stack.tls, stack.mesh);
    const istiod = Object.keys(acme).length ? mergeValues(acme, stack.mesh.values.istiod) : stack.mesh.values.istiod;
    return { ...stack.mesh, gateway, values: { ...stack.mesh.values, istiod } };
}

/** The gateway's listeners: an Istio Gateway, or on the Gateway API a Gateway bound to the Helm-installed gateway. */
export function buildSharedGateway(mesh: MeshSettings, tls: TlsSettings): K8sObject {
    if (mesh.gateway.api === IngressApi.GatewayApi) {
        return buildGatewayApiGateway({
            name: SHARED_GATEWAY_NAME,
            namespace: mesh.gateway.namespace,
            serviceName: mesh.gateway.name,
            tls: tls.enabled ? { secretName: GATEWAY_TLS_SECRET, hosts: tls.hosts } : undefined,
        });
    }
    return buildIstioGateway({
        name: SHARED_GATEWAY_NAME,
        namespace: mesh.gateway.namespace,
        selector: mesh.gateway.labels,
        hosts: mesh.gateway.hosts,
        tls: tls.enabled
            ? { credentialName: GATEWAY_TLS_SECRET, hosts: tls.hosts, httpsRedirect: tls.httpsRedirect }
            : undefined,
    });
}

/** What an already-installed Istio must offer for these apps (and an ACME issuer) to work. */
export function meshRequirements(mesh: MeshSettings, apps: readonly AppSettings[], tls?: TlsSettings): string[] {
    const out = [
        `an Istio ${mesh.version.replace(/\.\d+$/, ".x")}-compatible control plane${mesh.revision ? ` with revision "${mesh.revision}"` : ""} with its CRDs installed`,
        `ingress gateway pods in namespace "${mesh.gateway.namespace}" labelled ${JSON.stringify(mesh.gateway.labels)}`,
    ];
    const persistent = apps.filter((a) => isPersistentMode(a.affinity.mode));
    if (persistent.length) out.push(persistentSessionRequirement(persistent.map((a) => a.name)));
    if (needsClientAddress(apps) && mesh.gateway.numTrustedProxies === 0) {
        out.push(
            `a gateway Service that keeps client addresses (externalTrafficPolicy: Local, or ClusterIP), or numTrustedProxies set behind a proxy ` +
                `that adds X-Forwarded-For: the direct-routing guard checks the client address`,
        );
    }
    if (mesh.dataplane === Dataplane.Ambient) {
        out.push(`Istio's ambient data plane: istiod with the ambient profile, istio-cni and ztunnel`);
    }
    if (meshLayout(mesh).gatewayApiCrds) {
        out.push(
            `the Gateway API's standard-channel CRDs at ${gatewayApiVersionFor(mesh.version)} or newer (the release Istio ${istioLine(mesh.version).minor} is built against, at its newest patch)`,
        );
    }
    const acme = tls ? acmeIngressMeshConfig(tls, mesh) : {};
    if (Object.keys(acme).length) {
        out.push(
            `istiod serving the ACME HTTP-01 challenge Ingress through the gateway: values ${JSON.stringify(acme)}`,
        );
    }
    return out;
}

/** What istiod must run for persistent modes, naming the apps that need it. */
export function persistentSessionRequirement(apps: readonly string[]): string {
    return `istiod with env ${PERSISTENT_SESSION_ENV}=true (needed by ${apps.join(", ")})`;
}

/**
 * The gateway routes and what they need, as objects with their keys: VirtualServices on
 * Istio's API; on the Gateway API, HTTPRoutes beside the Gateway, an HTTP-to-HTTPS
 * redirect with TLS (except with ACME, whose challenges answer on HTTP), and a
 * ReferenceGrant in each app namespace for the routes' backendRefs.
 */
export function buildGatewayRoutes(
    apps: readonly AppSettings[],
    mesh: MeshSettings,
    tls: TlsSettings,
): { name: string; object: K8sObject; namespace?: string }[] {
    if (mesh.gateway.api !== IngressApi.GatewayApi)
        return buildRoutes(apps, routeContext(mesh)).map((object) => ({
            name: `route-${object.metadata.name}`,
            object,
        }));
    const ctx = { gateway: SHARED_GATEWAY_NAME, namespace: mesh.gateway.namespace, hosts: mesh.gateway.hosts };
    const redirect = tls.enabled && tls.httpsRedirect;
    const https = tls.enabled ? httpsListenerNames(tls.hosts) : [];
    const httpsListeners = https.map((name, i) => ({ name, hostname: tls.hosts[i] }));
    const listeners = !tls.enabled
        ? [{ name: HTTP_LISTENER }]
        : redirect
          ? httpsListeners
          : [{ name: HTTP_LISTENER }, ...httpsListeners];
    const routes = buildHttpRoutes(apps, { ...ctx, listeners }).map((object) => ({
        name: `route-${object.metadata.name}`,
        object,
    }));
    const byNamespace = new Map<string, AppSettings[]>();
    for (const a of apps) {
        const inNamespace = byNamespace.get(a.namespace);
        if (inNamespace) inNamespace.push(a);
        else byNamespace.set(a.namespace, [a]);
    }
    return [
        ...(redirect ? [{ name: "route-https-redirect", object: buildHttpsRedirectRoute(ctx) }] : []),
        ...routes,
        ...[...byNamespace].map(([ns, inNamespace]) => ({
            name: `grant-${ns}`,
            object: buildReferenceGrant(ns, inNamespace, ctx.namespace),
            namespace: ns,
        })),
    ];
}

/** Routes serve the gateway's hosts; with TLS those cover the certificate's names (checked at validation). */
export function routeContext(mesh: MeshSettings): RouteContext {
    return {
        gateway: gatewayRef(SHARED_GATEWAY_NAME, mesh.gateway.namespace),
        hosts: mesh.gateway.hosts,
        namespace: mesh.gateway.namespace,
    };
}

/** The demo script's ConfigMap, once in each namespace that runs the demo app. */
export const DEMO_SCRIPT_CONFIGMAP = "istio-sticky-demo-app";

/** The name a stack's program gives its StickySessions component (index.ts), and render's default. */
export const DEFAULT_STACK_NAME = "sticky";

/** Everything a stack deploys, as plain objects: what `pulumi up` registers and `render` prints. */
export interface Plan {
    /** The settings the plan was built from, with the mesh as the stack installs it (meshForStack). */
    settings: StackSettings;
    /** The components, parents first. */
    components: PlannedComponent[];
    /** Every object, in the order a deploy creates them. */
    objects: PlannedObject[];
    /** The Services whose state the stack reads and exports. */
    reads: PlannedRead[];
    /** What an existing mesh must provide (empty when the stack installs Istio). */
    meshRequirements: string[];
}

export interface PlanOptions {
    /** The StickySessions component's name: every key starts with it. Default "sticky". */
    name?: string;
    /** The demo app's script. */
    demoAppSource: string;
}

/** The key of a stack's object that creates app namespace `ns`. */
const namespaceKey = (name: string, ns: string) => `${name}-ns-${ns}`;

/** A plan while its phases fill it, with what every phase reads. */
interface Draft {
    /** The StickySessions component's name: every key starts with it. */
    name: string;
    stack: StackSettings;
    /** The mesh as the stack installs it (meshForStack). */
    mesh: MeshSettings;
    /** The keys of the mesh's objects when the stack installs Istio. */
    installed?: ReturnType<typeof meshKeys>;
    /** The demo script's ConfigMap, as apps mount it. */
    script: ReturnType<typeof demoScriptRef>;
    demoAppSource: string;
    /** The key that makes each app namespace exist or enrols it, where the stack owns one. */
    namespaceKeys: Map<string, string>;
    components: PlannedComponent[];
    objects: PlannedObject[];
    reads: PlannedRead[];
}

const isAmbient = (draft: Draft) => draft.mesh.dataplane === Dataplane.Ambient;

/** The waypoint an app's traffic goes through: in ambient, for the modes only a waypoint applies. */
const waypointFor = (draft: Draft, app: AppSettings) =>
    isAmbient(draft) && needsWaypoint(app.affinity.mode) ? WAYPOINT_NAME : undefined;

const tlsOwner = (draft: Draft) => `${draft.name}-tls`;

/** Adds an object the StickySessions component itself owns. */
function own(draft: Draft, key: string, object: K8sObject, dependsOn: string[] = [], patch = false): void {
    draft.objects.push({ key, owner: draft.name, object, dependsOn, ...(patch ? { patch } : {}) });
}

/** Adds the objects and reads of a child component's part. */
function add(draft: Draft, part: { objects: PlannedObject[]; reads: PlannedRead[] }): void {
    draft.objects.push(...part.objects);
    draft.reads.push(...part.reads);
}

/** Mesh: the IstioMesh component and its releases, when the stack installs Istio. */
function planMesh(draft: Draft): void {
    const owner = `${draft.name}-mesh`;
    const layout = meshLayout(draft.mesh);
    if (!draft.mesh.install) return;
    draft.installed = meshKeys(owner, layout);
    draft.components.push({ key: owner, type: ComponentType.IstioMesh, parent: draft.name });
    const persistentSessions = needsPersistentSessions(draft.stack.apps);
    add(draft, fillPart(meshPart(owner, layout), { mesh: draft.mesh, persistentSessions }));
}

/** TLS: the GatewayTls component (cert-manager, issuer, certificate), when the stack asks for TLS. */
function planTls(draft: Draft): void {
    const { tls } = draft.stack;
    const { mesh, installed } = draft;
    if (!tls.enabled) return;
    draft.components.push({ key: tlsOwner(draft), type: ComponentType.GatewayTls, parent: draft.name });
    const gatewayApi = mesh.gateway.api === IngressApi.GatewayApi;
    const part = tlsPart(
        tlsOwner(draft),
        { installCertManager: tls.installCertManager },
        {
            certificate: installed ? [installed.gatewayNamespace] : [],
            certManager:
                gatewayApi && tls.issuer === TlsIssuer.Acme && installed?.gatewayApiCrds
                    ? [installed.gatewayApiCrds]
                    : [],
        },
    );
    const solverGateway = gatewayApi ? { name: SHARED_GATEWAY_NAME, namespace: mesh.gateway.namespace } : undefined;
    add(
        draft,
        fillPart(part, { tls, gatewayNamespace: mesh.gateway.namespace, ...(solverGateway ? { solverGateway } : {}) }),
    );
}

/**
 * Namespaces: each app namespace created and enrolled in the mesh, with the demo script and the
 * waypoint where its apps need them. A namespace of existing Services is theirs: it is only
 * labelled for the mesh, when the apps ask for it.
 */
function planNamespaces(draft: Draft): void {
    const { name, mesh, installed } = draft;
    const apps = draft.stack.apps;
    const scriptNamespaces = new Set(apps.filter(runsDemoApp).map((a) => a.namespace));
    const waypointNamespaces = new Set(apps.filter((a) => waypointFor(draft, a)).map((a) => a.namespace));
    const enrolment = isAmbient(draft) ? { ambient: true } : { injection: true, revision: mesh.revision };
    const existing = new Map(apps.filter((a) => a.service).map((a) => [a.namespace, a.service!.enrolNamespace]));
    for (const ns of new Set(apps.map((a) => a.namespace))) {
        const key = namespaceKey(name, ns);
        const enrol = existing.get(ns);
        if (enrol === undefined) own(draft, key, buildNamespace(ns, enrolment));
        else if (enrol) own(draft, key, buildNamespaceEnrolment(ns, enrolment), [], true);
        if (enrol !== false) draft.namespaceKeys.set(ns, key);
        const inNamespace = draft.namespaceKeys.has(ns) ? [key] : [];
        if (scriptNamespaces.has(ns))
            own(draft, `${name}-demo-app-${ns}`, buildDemoScript(draft.script, ns, draft.demoAppSource), inNamespace);
        if (waypointNamespaces.has(ns)) {
            const waypoint = buildWaypoint(ns);
            own(draft, `${name}-waypoint-${ns}`, waypoint, [...inNamespace, ...meshWaits(waypoint, installed)]);
        }
    }
}

/**
 * Gateway: the shared listeners (with TLS, of use once the certificate exists), and the
 * gateway Service read when Istio is already installed.
 */
function planGateway(draft: Draft): void {
    const { name, mesh, installed } = draft;
    const { tls } = draft.stack;
    const gateway = buildSharedGateway(mesh, tls);
    own(draft, `${name}-gateway`, gateway, [
        ...meshWaits(gateway, installed),
        ...(installed ? [installed.gatewayNamespace] : []),
        ...(tls.enabled ? [tlsKeys(tlsOwner(draft)).certificate] : []),
    ]);
    if (installed) return;
    draft.reads.push({
        key: `${name}-gateway-service`,
        owner: name,
        kind: ReadKind.GatewayService,
        namespace: mesh.gateway.namespace,
        service: mesh.gateway.name,
        dependsOn: [],
    });
}

/** Apps: one StickyApp component each, with its workload (or existing Service) and policy. */
function planApps(draft: Draft): void {
    const { name, mesh, installed } = draft;
    for (const app of draft.stack.apps) {
        const owner = `${name}-${app.name}`;
        draft.components.push({ key: owner, type: ComponentType.StickyApp, parent: name });
        const refs = {
            namespace: draft.namespaceKeys.get(app.namespace),
            demoScript: runsDemoApp(app) ? `${name}-demo-app-${app.namespace}` : undefined,
            mesh: installed,
        };
        const waypoint = waypointFor(draft, app);
        const waypointVirtualService =
            waypoint !== undefined && istioLine(mesh.version).waypointHashNeedsVirtualService;
        const ctx = {
            demoScript: runsDemoApp(app) ? draft.script : undefined,
            gatewayNamespace: mesh.gateway.namespace,
            gatewaySelector: mesh.gateway.labels,
            rootNamespace: ISTIO_SYSTEM_NAMESPACE,
            ambient: isAmbient(draft),
            revision: mesh.revision,
            waypoint,
            waypointVirtualService,
        };
        add(draft, fillPart(appPart(owner, appLayout(app, waypointVirtualService), refs), { app, ctx }));
    }
}

/** Routes: the gateway's routes to the apps, each in its namespace once that exists. */
function planRoutes(draft: Draft): void {
    const { name, mesh, installed } = draft;
    for (const route of buildGatewayRoutes(draft.stack.apps, mesh, draft.stack.tls)) {
        const namespace = route.namespace ? draft.namespaceKeys.get(route.namespace) : installed?.gatewayNamespace;
        own(draft, `${name}-${route.name}`, route.object, [
            ...(namespace ? [namespace] : []),
            ...meshWaits(route.object, installed),
        ]);
    }
}

/**
 * The whole plan of a stack, built in phases: mesh, TLS, namespaces, gateway, apps, routes.
 * Keys depend only on what they name (the component name, an app's name, a namespace, a path),
 * never on the order of apps, so adding, removing or reordering apps leaves every other key as
 * it was.
 */
export function buildPlan(stack: StackSettings, options: PlanOptions): Plan {
    const name = options.name ?? DEFAULT_STACK_NAME;
    const draft: Draft = {
        name,
        stack,
        mesh: meshForStack(stack),
        script: demoScriptRef(DEMO_SCRIPT_CONFIGMAP, options.demoAppSource),
        demoAppSource: options.demoAppSource,
        namespaceKeys: new Map(),
        components: [{ key: name, type: ComponentType.StickySessions }],
        objects: [],
        reads: [],
    };
    planMesh(draft);
    planTls(draft);
    planNamespaces(draft);
    planGateway(draft);
    planApps(draft);
    planRoutes(draft);
    return {
        settings: { ...stack, mesh: draft.mesh },
        components: draft.components,
        objects: draft.objects,
        reads: draft.reads,
        meshRequirements: draft.mesh.install ? [] : meshRequirements(draft.mesh, stack.apps, stack.tls),
    };
}
