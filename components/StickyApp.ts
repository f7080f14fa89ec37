import * as pulumi from "@pulumi/pulumi";
import { AffinityMode, HashAlgorithm, isPersistentMode } from "./settings/enums";
import type { AppSettings } from "./settings/schema";
import { gatewayPodLabels } from "./settings/schema";
import { parseApp } from "./settings/validate";
import { AppObjects, buildAppObjects, serviceHost } from "./objects/app";
import { demoAppSource } from "./objects/demoApp";
import { buildIstioGateway, gatewayRef } from "./objects/gateway";
import { buildNamespace } from "./objects/namespace";
import type { K8sObject } from "./objects/types";
import { describeAffinity } from "./policy/affinity";
import { persistentSessionRequirement } from "./plan";
import { createObject } from "./pulumi/objects";
import { knownValue } from "./pulumi/known";
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

/** The settings of one app, as stack config and StickySessions take them. */
export interface AppArgs {
    /** The app's Kubernetes name (DNS-1123 label). */
    name: pulumi.Input<string>;
    /** Default: the app's name. */
    namespace?: pulumi.Input<string>;
    /** Default 3. */
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
}

export interface StickyAppArgs extends AppArgs {
    /** "namespace/name" of an Istio Gateway to bind to; when absent the app gets a Gateway of its own. */
    gateway?: pulumi.Input<string>;
    /** Labels of the ingress gateway pods, for the app's own Gateway. Default: the mesh's, or Istio's default gateway's. */
    gatewaySelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Hosts of the app's own Gateway and its VirtualService. Default ["*"]. */
    hosts?: pulumi.Input<pulumi.Input<string>[]>;
    /** Create (and label for injection) the app's namespace. Default true. */
    createNamespace?: boolean;
    /** Istio revision whose sidecar to inject. */
    revision?: pulumi.Input<string>;
    /** The mesh installed in the same program: the app's objects then wait for it. Absent: an existing Istio. */
    mesh?: IstioMesh;
}

const SETTINGS_KEYS = ["name", "namespace", "replicas", "path", "image", "port", "target", "affinity"] as const;

/** A stateful app behind the Istio ingress gateway with the session-affinity policy it asks for. */
export class StickyApp extends pulumi.ComponentResource {
    readonly settings: pulumi.Output<AppSettings>;
    readonly namespace: pulumi.Output<string>;
    /** In-cluster host of the app's Service. */
    readonly serviceHost: pulumi.Output<string>;
    /** Path prefix on the gateway. */
    readonly path: pulumi.Output<string>;
    readonly affinity: pulumi.Output<string>;
    /** What an existing mesh must provide for this app (empty when `mesh` is given). */
    readonly meshRequirements: pulumi.Output<string[]>;

    constructor(name: string, args: StickyAppArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const where = `StickyApp ${name}`;
        const raw = Object.fromEntries(SETTINGS_KEYS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
        const known = knownValue(raw);
        const early = known ? parseApp(known, where) : undefined; // throws before anything is registered
        super("istio-sticky:index:StickyApp", name, {}, opts);

        const checked = early ? pulumi.output(early) : pulumi.output(raw).apply((r) => parseApp(r, where));
        checked.warnings.apply((ws) => ws.forEach((w) => pulumi.log.warn(w, this)));
        this.settings = checked.value;

        const mesh = args.mesh;
        const selector = args.gatewaySelector ?? mesh?.gatewayLabels ?? gatewayPodLabels("istio-ingressgateway");
        const hosts = pulumi.output(args.hosts ?? ["*"]);
        const child = { parent: this };
        const istioReady = mesh ? [mesh.base, mesh.istiod] : [];

        const ns = args.createNamespace === false
            ? undefined
            : createObject(
                  `${name}-namespace`,
                  { apiVersion: "v1", kind: "Namespace" },
                  pulumi.all([this.settings, args.revision]).apply(([s, rev]) => buildNamespace(s.namespace, { injection: true, revision: rev })),
                  child,
              );
        const inNamespace = ns ? [ns] : [];

        let gateway: pulumi.Input<string>;
        if (args.gateway !== undefined) {
            gateway = args.gateway;
        } else {
            const own = pulumi.all([this.settings, selector, hosts]).apply(([s, sel, h]) =>
                buildIstioGateway({ name: `${s.name}-gateway`, namespace: s.namespace, selector: sel, hosts: h }),
            );
            createObject(`${name}-gateway`, { apiVersion: "networking.istio.io/v1", kind: "Gateway" }, own, {
                ...child,
                dependsOn: [...inNamespace, ...istioReady],
            });
            gateway = own.apply((g) => gatewayRef(g.metadata.name, g.metadata.namespace!));
        }

        const objects = pulumi
            .all([this.settings, gateway, hosts])
            .apply(([s, gw, h]) => buildAppObjects(s, { gateway: gw, hosts: h, demoAppSource: s.image === undefined ? demoAppSource() : "" }));
        const pick = (key: keyof AppObjects) => objects.apply((o) => o[key] as K8sObject);
        const typeOf = (o: keyof AppObjects) => TYPES[o];

        if (args.image === undefined) {
            createObject(`${name}-script`, typeOf("configMap"), pick("configMap"), { ...child, dependsOn: inNamespace });
        }
        // Injected pods need istiod's webhook; the Service needs nothing but its namespace.
        createObject(`${name}-deployment`, typeOf("deployment"), pick("deployment"), {
            ...child,
            dependsOn: [...inNamespace, ...(mesh ? [mesh.istiod] : [])],
        });
        createObject(`${name}-service`, typeOf("service"), pick("service"), { ...child, dependsOn: inNamespace });
        // Istio objects need the CRDs (base) and pass istiod's validation webhook.
        for (const key of ["destinationRule", "virtualService"] as const) {
            createObject(`${name}-${TYPES[key].kind.toLowerCase()}`, typeOf(key), pick(key), {
                ...child,
                dependsOn: [...inNamespace, ...istioReady],
            });
        }

        this.namespace = this.settings.namespace;
        this.serviceHost = this.settings.apply(serviceHost);
        this.path = this.settings.path;
        this.affinity = this.settings.apply((s) => describeAffinity(s.affinity));
        this.meshRequirements = mesh
            ? pulumi.output([])
            : this.settings.apply((s) => (isPersistentMode(s.affinity.mode) ? [persistentSessionRequirement([s.name])] : []));
        this.meshRequirements.apply((reqs) =>
            reqs.forEach((r) => pulumi.log.warn(`this app uses an existing Istio, which must run ${r}`, this)),
        );

        this.registerOutputs({
            namespace: this.namespace,
            serviceHost: this.serviceHost,
            path: this.path,
            affinity: this.affinity,
            meshRequirements: this.meshRequirements,
        });
    }
}

const TYPES: Record<keyof AppObjects, { apiVersion: string; kind: string }> = {
    configMap: { apiVersion: "v1", kind: "ConfigMap" },
    deployment: { apiVersion: "apps/v1", kind: "Deployment" },
    service: { apiVersion: "v1", kind: "Service" },
    destinationRule: { apiVersion: "networking.istio.io/v1", kind: "DestinationRule" },
    virtualService: { apiVersion: "networking.istio.io/v1", kind: "VirtualService" },
};
