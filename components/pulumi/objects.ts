import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { HelmReleaseSpec, K8sObject } from "../objects/types";
import { ingressFromService, IngressAddress, ServiceView } from "../objects/ingress";
import { EndpointsView, PodAddress, podsFromEndpoints } from "../objects/pods";

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Typed classes for the built-in kinds; anything else is a custom resource. */
const BUILT_IN: Record<string, Ctor> = {
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/Service": k8s.core.v1.Service,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
};

/**
 * Registers one object the pure layer built. `type` is known up front (it picks
 * the resource class); the content may still be an Output.
 */
export function createObject(
    name: string,
    type: { apiVersion: string; kind: string },
    object: pulumi.Input<K8sObject>,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    const o = pulumi.output(object);
    // A ConfigMap holds data; every other kind here holds a spec.
    const body = type.kind === "ConfigMap" ? { data: o.apply((x) => x.data) } : { spec: o.apply((x) => x.spec) };
    const fields = { apiVersion: type.apiVersion, kind: type.kind, metadata: o.apply((x) => x.metadata), ...body };
    const ctor = BUILT_IN[`${type.apiVersion}/${type.kind}`];
    return ctor ? new ctor(name, fields, opts) : new k8s.apiextensions.CustomResource(name, fields, opts);
}

/** Helm revisions kept per release (Helm keeps every one unless told, each in a Secret). */
export const HELM_MAX_HISTORY = 10;

/**
 * Where Helm finds a chart: from an https:// repository by name, or from an
 * oci:// registry by its full reference (which takes no repository option).
 */
export function chartSource(spec: Pick<HelmReleaseSpec, "repo" | "chart">): { chart: string; repositoryOpts?: { repo: string } } {
    return spec.repo.startsWith("oci://") ? { chart: `${spec.repo}/${spec.chart}` } : { chart: spec.chart, repositoryOpts: { repo: spec.repo } };
}

/** Registers a Helm release the pure layer planned; a failed install or upgrade rolls back. */
export function createRelease(
    name: string,
    spec: pulumi.Input<HelmReleaseSpec>,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    const s = pulumi.output(spec);
    const source = s.apply(chartSource);
    return new k8s.helm.v3.Release(
        name,
        {
            name: s.name,
            namespace: s.namespace,
            chart: source.chart,
            version: s.version,
            repositoryOpts: source.apply((c) => c.repositoryOpts ?? {}),
            values: s.values,
            atomic: true,
            cleanupOnFail: true,
            timeout: 600,
            maxHistory: HELM_MAX_HISTORY,
        },
        opts,
    );
}

/**
 * Reads the gateway Service (created by a Helm chart, or already in the cluster)
 * once `after` is done, and says where clients reach it.
 */
export function readIngress(
    name: string,
    namespace: pulumi.Input<string>,
    serviceName: pulumi.Input<string>,
    after: pulumi.Output<unknown> | undefined,
    opts: pulumi.CustomResourceOptions,
): pulumi.Output<IngressAddress> {
    // An id that waits on `after` stays unknown in a first preview, so nothing is read
    // before the gateway release exists.
    const id = pulumi.all([namespace, serviceName, after]).apply(([ns, n]) => `${ns}/${n}`);
    const svc = k8s.core.v1.Service.get(name, id, opts);
    return pulumi
        .all([svc.metadata, svc.spec, svc.status])
        .apply(([metadata, spec, status]) => ingressFromService({ metadata, spec, status } as ServiceView));
}

/**
 * The ready pods behind a Service, read from its Endpoints once `after` has an id
 * (a Deployment's id exists once its rollout is ready). Never read during a
 * preview: there the list is empty.
 */
export function readPods(
    name: string,
    namespace: pulumi.Input<string>,
    serviceName: pulumi.Input<string>,
    after: pulumi.Output<unknown>,
    opts: pulumi.CustomResourceOptions,
): pulumi.Output<PodAddress[]> {
    if (pulumi.runtime.isDryRun()) return pulumi.output([]);
    const id = pulumi.all([namespace, serviceName, after]).apply(([ns, n]) => `${ns}/${n}`);
    const endpoints = k8s.core.v1.Endpoints.get(name, id, opts);
    return endpoints.subsets.apply((subsets) => podsFromEndpoints({ subsets } as EndpointsView));
}
