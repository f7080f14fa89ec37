import * as pulumi from "@pulumi/pulumi";
import { AffinityMode, DirectContext, HashAlgorithm, isPersistentMode } from "./settings/enums";
import type { AppSettings } from "./settings/schema";
import { DEFAULT_GATEWAY_NAMESPACE, gatewayPodLabels } from "./settings/schema";
import { parseApp, SettingsError } from "./settings/validate";
import { APP_OBJECT_TYPES, AppObjectSet, buildAppObjects, serviceHost } from "./objects/app";
import { demoAppSource } from "./objects/demoApp";
import { buildIstioGateway, gatewayRef } from "./objects/gateway";
import { buildNamespace } from "./objects/namespace";
import { buildRoutes } from "./objects/routes";
import type { PodAddress } from "./objects/pods";
import { ISTIO_SYSTEM_NAMESPACE } from "./istio/releases";
import { describeAffinity } from "./policy/affinity";
import { persistentSessionRequirement } from "./plan";
import { createObject, readPods } from "./pulumi/objects";
import { knownValue } from "./pulumi/known";
import { waitsFor } from "./pulumi/ordering";
import type { IstioMesh } from "./IstioMesh";

export interface CookieArgs {
    name: pulumi.Input<string>;
    /** Envoy sets the cookie itself when a TTL is given ("0s": a session cookie). */
    ttl?: pulumi.Input<string>;
    /** Default "/". */
    path?: pulumi.Input<string>;
    /** Extra attributes (Istio 1.28+), e.g. {name: "SameSite", value: "Lax"}. */
    attributes?: pulumi.Input<pulumi.Input<{ name: pulumi.Input<string>; value?: pulumi.Input<string> }>[]>;
}

export interface AffinityArgs {
    mode: pulumi.Input<AffinityMode>;
    headerName?: pulumi.Input<string>;
    cookie?: pulumi.Input<CookieArgs>;
    queryParameterName?: pulumi.Input<string>;
    algorithm?: pulumi.Input<HashAlgorithm>;
    minimumRingSize?: pulumi.Input<number>;
    /** A prime below 5000011. */
    maglevTableSize?: pulumi.Input<number>;
}

export interface DirectArgs {
    /** Default false. */
    enabled?: boolean;
    /** The opt-in request header; a request routes to a chosen pod only with "<header>: true". Default "use-direct". */
    header?: string;
    /** The pod network (IPv4 CIDR, /8 or narrower): the only addresses a direct request may name. Required when enabled. */
    podCidr?: string;
    /** Where direct routing is offered. Default ["gateway"]. */
    contexts?: DirectContext[];
}

export interface AutoscalingArgs {
    minReplicas: pulumi.Input<number>;
    maxReplicas: pulumi.Input<number>;
    /** Target average CPU utilization in percent. Default 80. */
    cpuUtilization?: pulumi.Input<number>;
}

/** The settings of one app, as stack config and StickySessions take them. */
export interface AppArgs {
    /** The app's Kubernetes name (DNS-1123 label). */
    name: pulumi.Input<string>;
    /** Default: the app's name. */
    namespace?: pulumi.Input<string>;
    /** Default 3; leave it out with autoscaling. */
    replicas?: pulumi.Input<number>;
    /** Path prefix on the gateway; requests reach the app with it removed. Default "/<name>". */
    path?: pulumi.Input<string>;
    /** Your own image instead of the demo app; it must serve HTTP on `port` and /healthz. */
    image?: pulumi.Input<string>;
    /** Default 8080. */
    port?: pulumi.Input<number>;
    /** A string the demo app returns (default: the app's name). */
    target?: pulumi.Input<string>;
    /** Default: round robin. */
    affinity?: pulumi.Input<AffinityArgs>;
    /** Route only requests with these exact header values here (apps may then share a path). */
    match?: pulumi.Input<{ headers: pulumi.Input<Record<string, pulumi.Input<string>>> }>;
    /** Direct routing to a chosen pod. Must be known when the component is created. */
    direct?: DirectArgs;
    /** A HorizontalPodAutoscaler and a PodDisruptionBudget instead of a fixed replica count. */
    autoscaling?: pulumi.Input<AutoscalingArgs>;
}

export interface StickyAppArgs extends AppArgs {
    /** "namespace/name" of an Istio Gateway to bind to; when absent the app gets a Gateway of its own. */
    gateway?: pulumi.Input<string>;
    /** Labels of the ingress gateway pods. Default: the mesh's, or Istio's default gateway's. */
    gatewaySelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Namespace of the ingress gateway pods (for direct routing's EnvoyFilter). Default: the mesh's, or "istio-ingress". */
    gatewayNamespace?: pulumi.Input<string>;
    /** Hosts of the app's own Gateway and its VirtualService. Default ["*"]. */
    hosts?: pulumi.Input<pulumi.Input<string>[]>;
    /** Create (and label for injection) the app's namespace. Default true. */
    createNamespace?: boolean;
    /** Create the app's gateway VirtualService. Default true; false when the caller routes it with other apps. */
    route?: boolean;
    /** Istio revision whose sidecar to inject. */
    revision?: pulumi.Input<string>;
    /** The mesh installed in the same program: the app's objects then wait for it. Absent: an existing Istio. */
    mesh?: IstioMesh;
    /** Resources every object of the app waits for, e.g. a namespace created elsewhere. */
    dependsOn?: pulumi.Resource[];
    /** Do not log settings warnings (the caller already did). */
    quiet?: boolean;
}

const SETTINGS_KEYS = ["name", "namespace", "replicas", "path", "image", "port", "target", "affinity", "match", "direct", "autoscaling"] as const;

/** Pulumi names of an app's children, by object. */
const CHILD_NAMES: Record<keyof AppObjectSet, string> = {
    configMap: "script",
    deployment: "deployment",
    service: "service",
    destinationRule: "destinationrule",
    horizontalPodAutoscaler: "hpa",
    podDisruptionBudget: "pdb",
    gatewayEnvoyFilter: "direct-gateway",
    meshEnvoyFilter: "direct-mesh",
    meshVirtualService: "mesh-virtualservice",
    peerAuthentication: "peerauthentication",
    networkPolicy: "networkpolicy",
    directAuthorizationPolicy: "direct-authorization",
};

/**
 * Which objects an app owns depends on whether it has an image, autoscaling and
 * direct routing. When its settings are Outputs, a stand-in with the same shape
 * tells, so the choice is made by the same builder.
 */
function shapeOf(args: StickyAppArgs, direct: DirectArgs | undefined, where: string): AppSettings {
    return parseApp(
        {
            name: "shape",
            ...(args.image !== undefined ? { image: "shape" } : {}),
            ...(args.autoscaling !== undefined ? { autoscaling: { minReplicas: 2, maxReplicas: 2 } } : {}),
            ...(direct !== undefined ? { direct } : {}),
        },
        where,
    ).value;
}

/** A stateful app behind the Istio ingress gateway with the session-affinity policy it asks for. */
export class StickyApp extends pulumi.ComponentResource {
    readonly settings: pulumi.Output<AppSettings>;
    readonly namespace: pulumi.Output<string>;
    /** In-cluster host of the app's Service. */
    readonly serviceHost: pulumi.Output<string>;
    /** Path prefix on the gateway. */
    readonly path: pulumi.Output<string>;
    readonly affinity: pulumi.Output<string>;
    /** The ready pods (name, IP) after the rollout: a snapshot from `pulumi up` or `pulumi refresh`; empty in a preview. */
    readonly pods: pulumi.Output<PodAddress[]>;
    /** What an existing mesh must provide for this app (empty when `mesh` is given). */
    readonly meshRequirements: pulumi.Output<string[]>;

    constructor(name: string, args: StickyAppArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const where = `StickyApp ${name}`;
        const raw = Object.fromEntries(SETTINGS_KEYS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
        const known = knownValue(raw);
        const early = known ? parseApp(known, where) : undefined; // throws before anything is registered
        const direct = knownValue(args.direct);
        if (args.direct !== undefined && direct === undefined) {
            throw new SettingsError([`${where}.direct: must be known when the component is created (it decides which resources exist)`]);
        }
        const shape = early?.value ?? shapeOf(args, direct, where);
        super("istio-sticky:index:StickyApp", name, {}, opts);

        const checked = early ? pulumi.output(early) : pulumi.output(raw).apply((r) => parseApp(r, where));
        if (!args.quiet) checked.warnings.apply((ws) => ws.forEach((w) => pulumi.log.warn(w, this)));
        this.settings = checked.value;

        const mesh = args.mesh;
        const selector = pulumi.output(args.gatewaySelector ?? mesh?.gatewayLabels ?? gatewayPodLabels("istio-ingressgateway"));
        const gatewayNamespace = pulumi.output(args.gatewayNamespace ?? mesh?.gatewayNamespace ?? DEFAULT_GATEWAY_NAMESPACE);
        const hosts = pulumi.output(args.hosts ?? ["*"]);
        const child = { parent: this };

        const ns =
            args.createNamespace === false
                ? undefined
                : createObject(
                      `${name}-namespace`,
                      { apiVersion: "v1", kind: "Namespace" },
                      pulumi.all([this.settings, args.revision]).apply(([s, rev]) => buildNamespace(s.namespace, { injection: true, revision: rev })),
                      child,
                  );
        const base = [...(ns ? [ns] : []), ...(args.dependsOn ?? [])];
        const after = (type: { apiVersion: string; kind: string }, extra: pulumi.Resource[] = []) => ({
            ...child,
            dependsOn: [...base, ...waitsFor(type, mesh), ...extra],
        });

        const objects = pulumi.all([this.settings, selector, gatewayNamespace]).apply(([s, sel, gwNs]) =>
            buildAppObjects(s, {
                demoAppSource: s.image === undefined ? demoAppSource() : "",
                gatewayNamespace: gwNs,
                gatewaySelector: sel,
                rootNamespace: ISTIO_SYSTEM_NAMESPACE,
            }),
        );
        const shapeObjects = buildAppObjects(shape, { demoAppSource: "", gatewayNamespace: "-", gatewaySelector: {}, rootNamespace: "-" });
        const created = new Map<keyof AppObjectSet, pulumi.CustomResource>();
        for (const [key, type] of APP_OBJECT_TYPES) {
            if (!shapeObjects[key]) continue;
            // The gateway's EnvoyFilter lives in the gateway's namespace, which the mesh creates.
            const inGatewayNamespace = key === "gatewayEnvoyFilter" || key === "directAuthorizationPolicy";
            const extra = inGatewayNamespace && mesh ? [mesh.gatewayNamespaceResource] : [];
            created.set(key, createObject(`${name}-${CHILD_NAMES[key]}`, type, objects.apply((o) => o[key]!), after(type, extra)));
        }

        if (args.route !== false) {
            let gateway: pulumi.Input<string>;
            if (args.gateway !== undefined) {
                gateway = args.gateway;
            } else {
                const own = pulumi.all([this.settings, selector, hosts]).apply(([s, sel, h]) =>
                    buildIstioGateway({ name: `${s.name}-gateway`, namespace: s.namespace, selector: sel, hosts: h }),
                );
                const type = { apiVersion: "networking.istio.io/v1", kind: "Gateway" };
                createObject(`${name}-gateway`, type, own, after(type));
                gateway = own.apply((g) => gatewayRef(g.metadata.name, g.metadata.namespace!));
            }
            const type = { apiVersion: "networking.istio.io/v1", kind: "VirtualService" };
            const route = pulumi.all([this.settings, gateway, hosts]).apply(([s, gw, h]) => buildRoutes([s], { gateway: gw, hosts: h })[0]);
            createObject(`${name}-virtualservice`, type, route, after(type));
        }

        this.namespace = this.settings.namespace;
        this.serviceHost = this.settings.apply(serviceHost);
        this.path = this.settings.path;
        this.affinity = this.settings.apply((s) => describeAffinity(s.affinity));
        this.pods = readPods(`${name}-endpoints`, this.namespace, this.settings.name, created.get("deployment")!.id, child);
        this.meshRequirements = mesh
            ? pulumi.output([])
            : this.settings.apply((s) => (isPersistentMode(s.affinity.mode) ? [persistentSessionRequirement([s.name])] : []));
        if (!args.quiet) {
            this.meshRequirements.apply((reqs) => reqs.forEach((r) => pulumi.log.warn(`this app uses an existing Istio, which must run ${r}`, this)));
        }

        this.registerOutputs({
            namespace: this.namespace,
            serviceHost: this.serviceHost,
            path: this.path,
            affinity: this.affinity,
            pods: this.pods,
            meshRequirements: this.meshRequirements,
        });
    }
}
