import { runsDemoApp, serviceName, type AppSettings } from "../settings/schema";
import { DirectContext } from "../settings/enums";
import { AppObjectSet, AppObjectsContext, buildAppObjects } from "../manifests/app";
import { buildDemoScript, demoScriptRef } from "../manifests/demoApp";
import { buildIstioGateway, gatewayRef } from "../manifests/gateway";
import { buildNamespace, buildNamespaceEnrolment } from "../manifests/namespace";
import { buildRoutes } from "../manifests/routes";
import type { K8sObject } from "../manifests/types";
import { Entry, ObjectType, Part, ReadKind } from "./types";
import { MeshKeys, meshWaits } from "./waits";

/** What decides which objects an app owns. */
export interface AppLayout {
    autoscaling: boolean;
    /** The app is an existing Service: no workload, a patch of its Service. */
    existing?: boolean;
    direct: { enabled: boolean; contexts: readonly DirectContext[] };
    /** Ambient on Istio 1.30, hash modes: a VirtualService for the waypoint to hash on. */
    waypointVirtualService?: boolean;
}

export function appLayout(
    app: Pick<AppSettings, "autoscaling" | "direct" | "service">,
    waypointVirtualService = false,
): AppLayout {
    return {
        autoscaling: app.autoscaling !== undefined,
        ...(app.service ? { existing: true } : {}),
        direct: { enabled: app.direct.enabled, contexts: app.direct.contexts },
        ...(waypointVirtualService ? { waypointVirtualService } : {}),
    };
}

/** Where an object lives: the app's namespace, the gateway's, or Istio's root namespace. */
enum Placement {
    App = "app",
    Gateway = "gateway",
    Root = "root",
}

interface AppObjectSpec {
    /** The last part of its key: `<app component>-<suffix>`. */
    suffix: string;
    type: ObjectType;
    /** Whether the app has it; always when absent. */
    when?: (l: AppLayout) => boolean;
    placement?: Placement;
}

const ISTIO_NETWORKING = "networking.istio.io/v1";
const directAt = (c: DirectContext) => (l: AppLayout) => l.direct.enabled && l.direct.contexts.includes(c);
const direct = (l: AppLayout) => l.direct.enabled;
const autoscaling = (l: AppLayout) => l.autoscaling;
const own = (l: AppLayout) => l.existing !== true;
const existing = (l: AppLayout) => l.existing === true;

/**
 * Every object an app can own, in the order a deploy creates them and render
 * prints them: the one table of their keys, types and conditions.
 */
const APP_OBJECTS: { readonly [F in keyof Required<AppObjectSet>]: AppObjectSpec } = {
    deployment: { suffix: "deployment", type: { apiVersion: "apps/v1", kind: "Deployment" }, when: own },
    service: { suffix: "service", type: { apiVersion: "v1", kind: "Service" }, when: own },
    servicePatch: { suffix: "service-patch", type: { apiVersion: "v1", kind: "Service", patch: true }, when: existing },
    destinationRule: { suffix: "destinationrule", type: { apiVersion: ISTIO_NETWORKING, kind: "DestinationRule" } },
    horizontalPodAutoscaler: {
        suffix: "hpa",
        type: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
        when: autoscaling,
    },
    podDisruptionBudget: {
        suffix: "pdb",
        type: { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
        when: autoscaling,
    },
    waypointVirtualService: {
        suffix: "waypoint-virtualservice",
        type: { apiVersion: ISTIO_NETWORKING, kind: "VirtualService" },
        when: (l) => l.waypointVirtualService === true,
    },
    gatewayEnvoyFilter: {
        suffix: "direct-gateway",
        type: { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter" },
        when: directAt(DirectContext.Gateway),
        placement: Placement.Gateway,
    },
    meshEnvoyFilter: {
        suffix: "direct-mesh",
        type: { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter" },
        when: directAt(DirectContext.Sidecar),
        placement: Placement.Root,
    },
    meshVirtualService: {
        suffix: "mesh-virtualservice",
        type: { apiVersion: ISTIO_NETWORKING, kind: "VirtualService" },
        when: directAt(DirectContext.Sidecar),
    },
    peerAuthentication: {
        suffix: "peerauthentication",
        type: { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication" },
        when: own,
    },
    networkPolicy: {
        suffix: "networkpolicy",
        type: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
        when: direct,
    },
    directAuthorizationPolicy: {
        suffix: "direct-authorization",
        type: { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy" },
        when: direct,
        placement: Placement.Gateway,
    },
};

/** What an app's objects are built from. */
export interface AppInputs {
    app: AppSettings;
    ctx: AppObjectsContext;
}

/** Keys of objects an app's objects wait for, planned by others. */
export interface AppRefs {
    /** The object that creates the app's namespace. */
    namespace?: string;
    /** The ConfigMap holding the namespace's demo script. */
    demoScript?: string;
    /** The mesh, when the same program installs it. */
    mesh?: MeshKeys;
}

/** Builds an app's objects once per settings object, and checks they are exactly the ones its layout planned. */
function objectsOf(layout: AppLayout, owner: string): (s: AppInputs) => AppObjectSet {
    const cache = new WeakMap<AppInputs, AppObjectSet>();
    return (s) => {
        let objects = cache.get(s);
        if (!objects) {
            objects = buildAppObjects(s.app, s.ctx);
            const built = Object.keys(objects).filter((f) => objects![f as keyof AppObjectSet] !== undefined);
            const planned = Object.keys(APP_OBJECTS).filter(
                (f) => APP_OBJECTS[f as keyof AppObjectSet].when?.(layout) ?? true,
            );
            if (built.sort().join() !== planned.sort().join()) {
                throw new Error(
                    `${owner}: the settings build ${built.join(", ")} but the layout planned ${planned.join(", ")}`,
                );
            }
            cache.set(s, objects);
        }
        return objects;
    };
}

/** The objects one app owns and the read of its ready pods. */
export function appPart(owner: string, layout: AppLayout, refs: AppRefs): Part<AppInputs> {
    const objects = objectsOf(layout, owner);
    const entries: Entry<AppInputs>[] = [];
    const keyOf = (field: keyof AppObjectSet) => `${owner}-${APP_OBJECTS[field].suffix}`;
    for (const [field, spec] of Object.entries(APP_OBJECTS) as [keyof AppObjectSet, AppObjectSpec][]) {
        if (spec.when && !spec.when(layout)) continue;
        const placement = spec.placement ?? Placement.App;
        entries.push({
            key: keyOf(field),
            owner,
            type: spec.type,
            dependsOn: [
                ...(placement === Placement.App && refs.namespace ? [refs.namespace] : []),
                ...(placement === Placement.Gateway && refs.mesh ? [refs.mesh.gatewayNamespace] : []),
                ...(field === "deployment" && refs.demoScript ? [refs.demoScript] : []),
                ...meshWaits(spec.type, refs.mesh),
            ],
            build: (s) => objects(s)[field]!,
        });
    }
    return {
        entries,
        reads: [
            {
                key: `${owner}-ready-pods`,
                owner,
                kind: ReadKind.ReadyPods,
                dependsOn: layout.existing ? [keyOf("servicePatch")] : [keyOf("deployment"), keyOf("service")],
                target: (s) => ({
                    namespace: s.app.namespace,
                    service: serviceName(s.app),
                    ...(layout.existing || s.app.autoscaling ? {} : { replicas: s.app.replicas }),
                }),
            },
        ],
    };
}

/** What a StickyApp on its own decides about the objects around the app. */
export interface StandaloneLayout extends AppLayout {
    /** Create and label the app's namespace. */
    createNamespace: boolean;
    /** Label the app's existing namespace for sidecar injection (a patch: the namespace stays its owners'). */
    enrolNamespace?: boolean;
    /** The app runs the demo app (no image of its own): it gets the demo script. */
    demo: boolean;
    /** Route the app from the gateway: a VirtualService (and a Gateway of its own when none is named). */
    route: boolean;
    ownGateway: boolean;
}

/** What a StickyApp on its own is built from. */
export interface StandaloneInputs extends AppInputs {
    revision?: string;
    /** Hosts of the app's Gateway and VirtualService. */
    hosts: string[];
    /** "namespace/name" of the Istio Gateway to bind to; absent: the app's own. */
    gateway?: string;
    /** The demo app's script, when the app runs it. */
    demoSource?: string;
}

/** The demo script ConfigMap of an app on its own (a stack shares one per namespace instead). */
export function standaloneScriptName(app: Pick<AppSettings, "name">): string {
    return `${app.name}-demo-app`;
}

/**
 * An app on its own: its namespace, its demo script, its objects, and (unless
 * routed by the caller) its own Gateway and VirtualService.
 */
export function standaloneAppPart(
    owner: string,
    layout: StandaloneLayout,
    mesh: MeshKeys | undefined,
): Part<StandaloneInputs> {
    const namespace = layout.createNamespace || layout.enrolNamespace ? `${owner}-namespace` : undefined;
    const script = layout.demo ? `${owner}-script` : undefined;
    const ns = namespace ? [namespace] : [];
    const entries: Entry<StandaloneInputs>[] = [];
    const gatewayType = { apiVersion: ISTIO_NETWORKING, kind: "Gateway" };
    const ownGatewayName = (s: StandaloneInputs) => `${s.app.name}-gateway`;
    const ownGateway = (s: StandaloneInputs): K8sObject =>
        buildIstioGateway({
            name: ownGatewayName(s),
            namespace: s.app.namespace,
            selector: s.ctx.gatewaySelector,
            hosts: s.hosts,
        });
    if (namespace) {
        entries.push({
            key: namespace,
            owner,
            type: { apiVersion: "v1", kind: "Namespace", ...(layout.createNamespace ? {} : { patch: true }) },
            dependsOn: [],
            build: (s) =>
                layout.createNamespace
                    ? buildNamespace(s.app.namespace, { injection: true, revision: s.revision })
                    : buildNamespaceEnrolment(s.app.namespace, { injection: true, revision: s.revision }),
        });
    }
    if (script) {
        entries.push({
            key: script,
            owner,
            type: { apiVersion: "v1", kind: "ConfigMap" },
            dependsOn: ns,
            build: (s) => buildDemoScript(s.ctx.demoScript!, s.app.namespace, s.demoSource!),
        });
    }
    const app = appPart(owner, layout, { namespace, demoScript: script, mesh });
    entries.push(...app.entries);
    if (layout.route) {
        if (layout.ownGateway) {
            entries.push({
                key: `${owner}-gateway`,
                owner,
                type: gatewayType,
                dependsOn: [...ns, ...meshWaits(gatewayType, mesh)],
                build: ownGateway,
            });
        }
        const routeType = { apiVersion: ISTIO_NETWORKING, kind: "VirtualService" };
        entries.push({
            key: `${owner}-virtualservice`,
            owner,
            type: routeType,
            dependsOn: [...ns, ...meshWaits(routeType, mesh)],
            build: (s) => {
                const g = s.gateway ?? gatewayRef(ownGatewayName(s), s.app.namespace);
                // The app's own Gateway and route serve its hosts already.
                return buildRoutes([{ ...s.app, hosts: undefined }], {
                    gateway: g,
                    hosts: s.hosts,
                    namespace: s.app.namespace,
                })[0];
            },
        });
    }
    return { entries, reads: app.reads };
}

/** The demo script reference a standalone app's Deployment mounts. */
export function standaloneDemoScript(app: Pick<AppSettings, "name" | "image" | "service">, source: string | undefined) {
    return runsDemoApp(app) && source !== undefined ? demoScriptRef(standaloneScriptName(app), source) : undefined;
}
