import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ExternalTrafficPolicy, GatewayServiceType } from "./settings/enums";
import type { MeshSettings } from "./settings/schema";
import { parseMesh } from "./settings/validate";
import { buildMeshReleases } from "./istio/releases";
import { buildMeshNamespaces } from "./plan";
import type { IngressAddress } from "./objects/ingress";
import { createObject, createRelease, readIngress } from "./pulumi/objects";
import { knownValue } from "./pulumi/known";

export interface IstioGatewayArgs {
    /** Helm release name of the gateway; also its Deployment and Service name. Default "istio-ingressgateway". */
    name?: pulumi.Input<string>;
    /** Default "istio-ingress". */
    namespace?: pulumi.Input<string>;
    /** Default LoadBalancer; NodePort for kind and minikube. */
    serviceType?: pulumi.Input<GatewayServiceType>;
    /** Gateway pod labels; default {app: <name>, istio: <name without "istio-">}. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Hosts the shared Istio Gateway serves. Default ["*"]. */
    hosts?: pulumi.Input<pulumi.Input<string>[]>;
    /** Local keeps client addresses (NodePort and LoadBalancer only). Default: the Kubernetes default, Cluster. */
    externalTrafficPolicy?: pulumi.Input<ExternalTrafficPolicy>;
    /** Proxies in front of the gateway that append to X-Forwarded-For. Default 0. */
    numTrustedProxies?: pulumi.Input<number>;
}

export interface IstioMeshArgs {
    /** Istio version for all three charts. Default: the newest confirmed 1.30 patch. */
    version?: pulumi.Input<string>;
    /** Where the charts come from: an https:// Helm repository or an oci:// registry such as oci://registry.istio.io/release/charts. */
    chartRepository?: pulumi.Input<string>;
    /** An Istio revision (canary upgrades); app namespaces then use `istio.io/rev`. */
    revision?: pulumi.Input<string>;
    gateway?: pulumi.Input<IstioGatewayArgs>;
    /** Turn on Envoy's stateful-session filter in istiod (persistent affinity modes need it). */
    persistentSessions?: pulumi.Input<boolean>;
    /** Extra Helm values per chart, merged over the ones this component sets. */
    values?: pulumi.Input<{
        base?: pulumi.Input<Record<string, unknown>>;
        istiod?: pulumi.Input<Record<string, unknown>>;
        gateway?: pulumi.Input<Record<string, unknown>>;
    }>;
}

/** Istio from its official Helm charts: base, then istiod, then an ingress gateway. */
export class IstioMesh extends pulumi.ComponentResource {
    readonly settings: pulumi.Output<MeshSettings>;
    readonly base: k8s.helm.v3.Release;
    readonly istiod: k8s.helm.v3.Release;
    readonly gateway: k8s.helm.v3.Release;
    /** The gateway pods' labels: use them as the selector of any Istio Gateway. */
    readonly gatewayLabels: pulumi.Output<Record<string, string>>;
    /** The gateway's namespace: objects placed there wait for it. */
    readonly gatewayNamespaceResource: pulumi.CustomResource;
    readonly gatewayNamespace: pulumi.Output<string>;
    readonly gatewayServiceName: pulumi.Output<string>;
    readonly version: pulumi.Output<string>;
    readonly ingress: pulumi.Output<IngressAddress>;

    constructor(name: string, args: IstioMeshArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        const { persistentSessions, ...meshArgs } = args;
        const raw = { install: true, ...meshArgs };
        const known = knownValue(raw);
        if (known) parseMesh(known, `IstioMesh ${name}`); // throws before anything is registered
        super("istio-sticky:index:IstioMesh", name, {}, opts);

        this.settings = pulumi.output(raw).apply((r) => parseMesh(r, `IstioMesh ${name}`));
        const releases = pulumi
            .all([this.settings, pulumi.output(persistentSessions ?? false)])
            .apply(([mesh, persistentSessions]) => buildMeshReleases(mesh, { persistentSessions }));
        const namespaces = this.settings.apply(buildMeshNamespaces);
        const child = { parent: this };
        const [systemNs, gatewayNs] = [0, 1].map((i) =>
            createObject(`${name}-ns-${i === 0 ? "istio-system" : "gateway"}`, { apiVersion: "v1", kind: "Namespace" }, namespaces.apply((n) => n[i]), child),
        );

        this.gatewayNamespaceResource = gatewayNs;
        this.base = createRelease(`${name}-base`, releases.base, { ...child, dependsOn: [systemNs] });
        this.istiod = createRelease(`${name}-istiod`, releases.istiod, { ...child, dependsOn: [this.base] });
        this.gateway = createRelease(`${name}-gateway`, releases.gateway, { ...child, dependsOn: [this.istiod, gatewayNs] });

        this.gatewayLabels = this.settings.gateway.labels;
        this.gatewayNamespace = this.settings.gateway.namespace;
        this.gatewayServiceName = this.settings.gateway.name;
        this.version = this.settings.version;
        this.ingress = readIngress(`${name}-gateway-service`, this.gatewayNamespace, this.gatewayServiceName, this.gateway.status, child);

        this.registerOutputs({
            gatewayLabels: this.gatewayLabels,
            gatewayNamespace: this.gatewayNamespace,
            version: this.version,
            ingress: this.ingress,
        });
    }
}
