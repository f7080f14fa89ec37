import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ReadTarget } from "../plan/types";
import { ingressFromService, IngressAddress, ServiceView } from "../outputs/ingress";
import { EndpointSliceView, PodAddress, podsFromEndpointSlices, SERVICE_NAME_LABEL } from "../outputs/pods";

/** An id "namespace/name" that stays unknown until every resource in `after` has an id (so a first preview reads nothing). */
function idAfter(target: pulumi.Input<ReadTarget>, after: readonly pulumi.Resource[]): pulumi.Output<string> {
    const ids = after.map((r) => (pulumi.CustomResource.isInstance(r) ? r.id : r.urn));
    return pulumi.all([pulumi.output(target) as pulumi.Output<unknown>, ...ids] as pulumi.Input<unknown>[]).apply(([t]) => {
        const { namespace, service } = t as ReadTarget;
        return `${namespace}/${service}`;
    });
}

/** Reads the gateway Service (created by a Helm chart, or already in the cluster) and says where clients reach it. */
export function readGatewayService(
    key: string,
    target: pulumi.Input<ReadTarget>,
    after: readonly pulumi.Resource[],
    opts: pulumi.CustomResourceOptions,
): pulumi.Output<IngressAddress> {
    const svc = k8s.core.v1.Service.get(key, idAfter(target, after), opts);
    return pulumi.all([svc.metadata, svc.spec, svc.status]).apply(([metadata, spec, status]) => ingressFromService({ metadata, spec, status } as ServiceView));
}

interface ReadyPodsInputs {
    namespace: string;
    service: string;
    /** The kubeconfig context to read from ("kubernetes:context"); the current one when empty. */
    context: string;
    /** Versions of what the read waits for: a new rollout (a new resourceVersion) reads again. */
    after: string[];
}

/**
 * Lists a Service's EndpointSlices by the label the EndpointSlice controller
 * gives them. The Kubernetes provider reads single objects by name only, and
 * slices are named by the controller, so the list goes through the Kubernetes
 * client with the same kubeconfig (KUBECONFIG or ~/.kube/config, and the
 * stack's kubernetes:context).
 */
async function listReadyPods(inputs: ReadyPodsInputs): Promise<PodAddress[]> {
    const client = require("@kubernetes/client-node");
    const config = new client.KubeConfig();
    config.loadFromDefault();
    if (inputs.context) config.setCurrentContext(inputs.context);
    const api = config.makeApiClient(client.DiscoveryV1Api);
    const list = await api.listNamespacedEndpointSlice({ namespace: inputs.namespace, labelSelector: `${SERVICE_NAME_LABEL}=${inputs.service}` });
    return podsFromEndpointSlices(list.items as EndpointSliceView[]);
}

/** Reads the ready pods on create, on every change of what it waits for, and on `pulumi refresh`. */
export const readyPodsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ReadyPodsInputs) {
        return { id: `${inputs.namespace}/${inputs.service}`, outs: { ...inputs, pods: await listReadyPods(inputs) } };
    },
    async diff(_id: string, olds: ReadyPodsInputs, news: ReadyPodsInputs) {
        const changed = (["namespace", "service", "context"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0 || JSON.stringify(olds.after) !== JSON.stringify(news.after), replaces: changed };
    },
    async update(_id: string, _olds: ReadyPodsInputs, news: ReadyPodsInputs) {
        return { outs: { ...news, pods: await listReadyPods(news) } };
    },
    async read(id: string, props: ReadyPodsInputs) {
        return { id, props: { ...props, pods: await listReadyPods(props) } };
    },
};

class ReadyPods extends pulumi.dynamic.Resource {
    declare readonly pods: pulumi.Output<PodAddress[]>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(readyPodsProvider, name, { ...args, pods: undefined }, opts, "istio-sticky", "ReadyPods");
    }
}

/**
 * What changes when a waited-for object changes: a Kubernetes object's id
 * stays "namespace/name", its resourceVersion does not.
 */
function versionOf(r: pulumi.CustomResource): pulumi.Output<string> {
    const metadata = (r as { metadata?: pulumi.Output<{ resourceVersion?: string } | undefined> }).metadata;
    return metadata ? pulumi.all([r.id, metadata]).apply(([id, m]) => `${id}@${m?.resourceVersion ?? ""}`) : r.id;
}

/**
 * The ready pods behind a Service, from its discovery.k8s.io/v1 EndpointSlices,
 * read once what it waits for (the Deployment's rollout, the Service) is done.
 * Registered the same way in preview and up; in a preview of new pods the list is unknown.
 */
export function readReadyPods(
    key: string,
    target: pulumi.Input<ReadTarget>,
    after: readonly pulumi.CustomResource[],
    opts: pulumi.CustomResourceOptions,
): pulumi.Output<PodAddress[]> {
    const t = pulumi.output(target);
    const context = new pulumi.Config("kubernetes").get("context") ?? "";
    const pods = new ReadyPods(key, { namespace: t.namespace, service: t.service, context, after: after.map(versionOf) }, { ...opts, dependsOn: [...after] });
    return pods.pods;
}
