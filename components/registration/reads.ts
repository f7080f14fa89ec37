import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { ReadTarget } from "../plan/types";
import { ingressFromService, ingressNotRead, IngressAddress, ServiceView } from "../outputs/ingress";
import {
    EndpointSliceView,
    PodAddress,
    PodView,
    podsFromEndpointSlices,
    SERVICE_NAME_LABEL,
    slicesSettled,
} from "../outputs/pods";
import { missingPortProblem, type LivePort } from "../manifests/livePorts";
import type { K8sObject } from "../manifests/types";

/**
 * Which cluster the read lists slices in, and with which credentials: those of the
 * component's Kubernetes provider, or of the stack's `kubernetes:` config, as the
 * provider plugin takes them (pulumi-kubernetes provider.go Configure): a kubeconfig as a
 * path or as its contents (absent: KUBECONFIG or ~/.kube/config), a context, and a cluster
 * that replaces the context's own.
 */
export interface ClusterAccess {
    kubeconfig?: string;
    context?: string;
    cluster?: string;
}

interface ReadyPodsInputs extends ClusterAccess {
    namespace: string;
    service: string;
    /** Versions of what the read waits for: a new rollout (a new spec) reads again. */
    after: string[];
    /** The pods the program asks for, when it sets the count: a scale through `pulumi up` reads again. */
    replicas?: number;
}

/** Where this file's process finds the Kubernetes client; the dynamic provider's own process falls back to its working directory. */
const CLIENT_MODULE = require.resolve("@kubernetes/client-node");

/** The Kubernetes client module and a config for the cluster the access names, with where it points (for messages). */
function kubeClient(inputs: ClusterAccess): { client: any; config: any; cluster: any; where: string } {
    const fs = require("fs");
    const os = require("os");
    const path = require("path");
    let client: any;
    try {
        client = require(CLIENT_MODULE);
    } catch {
        client = require("@kubernetes/client-node");
    }
    const config = new client.KubeConfig();
    const source = inputs.kubeconfig ?? "";
    const files = source
        .split(path.delimiter)
        .map((f: string) => f.replace(/^~(?=$|\/)/, os.homedir()))
        .filter((f: string) => f !== "" && fs.existsSync(f));
    if (source === "") config.loadFromDefault();
    else if (files.length === 0) config.loadFromString(source);
    else
        files.forEach((f: string, i: number) => {
            // A KUBECONFIG-style list: merged, the first file's current context kept.
            if (i === 0) config.loadFromFile(f);
            else {
                const more = new client.KubeConfig();
                more.loadFromFile(f);
                config.mergeConfig(more, true);
            }
        });
    if (inputs.context) config.setCurrentContext(inputs.context);
    if (inputs.cluster) {
        const current = config.getCurrentContext();
        config.loadFromOptions({
            clusters: config.getClusters(),
            users: config.getUsers(),
            contexts: config
                .getContexts()
                .map((c: any) => (c.name === current ? { ...c, cluster: inputs.cluster } : c)),
            currentContext: current,
        });
    }
    const cluster = config.getCurrentCluster();
    const where =
        `cluster ${cluster ? `"${cluster.name}" at ${cluster.server}` : "(none: the kubeconfig names no cluster)"}` +
        ` (context "${config.getCurrentContext() || ""}", kubeconfig ${source === "" ? "KUBECONFIG or ~/.kube/config" : files.length ? files.join(path.delimiter) : "given as contents"})`;
    return { client, config, cluster, where };
}

/** Runs `read` against the cluster the access names; a failure names what was read, the cluster and why. */
async function onCluster<T>(
    inputs: ClusterAccess,
    what: string,
    read: (client: any, config: any) => Promise<T>,
): Promise<T> {
    const { client, config, cluster, where } = kubeClient(inputs);
    try {
        if (!cluster) throw new Error("no cluster to connect to");
        return await read(client, config);
    } catch (e) {
        const why = (e as { code?: number | string; message?: string }).code ?? (e as Error).message ?? String(e);
        throw new Error(`cannot read ${what} from ${where}: ${why}`);
    }
}

/** How long the read waits for the slices to catch up with the pods, and how often it looks again. */
export const SLICES_SETTLE = { seconds: 120, everyMs: 1000 };

/**
 * Lists a Service's EndpointSlices by the label the EndpointSlice controller
 * gives them. The Kubernetes provider reads single objects by name only, and
 * slices are named by the controller, so the list goes through the Kubernetes
 * client, pointed at the cluster the component's provider (or the stack) names.
 * The Deployment's rollout is done before the read, but the controller writes the slices
 * after it: the read lists again until they agree with the pods the Service selects
 * (`slicesSettled`), for at most `SLICES_SETTLE.seconds`, then gives what the slices hold.
 * A Service without a selector (slices of its own) is read once.
 */
async function listReadyPods(inputs: ReadyPodsInputs): Promise<PodAddress[]> {
    return onCluster(
        inputs,
        `the ready pods of Service ${inputs.namespace}/${inputs.service}`,
        async (client, config) => {
            const discovery = config.makeApiClient(client.DiscoveryV1Api);
            const core = config.makeApiClient(client.CoreV1Api);
            const { namespace, service } = inputs;
            const listed = async () =>
                podsFromEndpointSlices(
                    (
                        await discovery.listNamespacedEndpointSlice({
                            namespace,
                            labelSelector: `${SERVICE_NAME_LABEL}=${service}`,
                        })
                    ).items as EndpointSliceView[],
                );
            const svc = await core.readNamespacedService({ name: service, namespace });
            const selector = Object.entries((svc.spec?.selector ?? {}) as Record<string, string>);
            if (selector.length === 0) return listed();
            const labelSelector = selector.map(([k, v]) => `${k}=${v}`).join(",");
            const deadline = Date.now() + SLICES_SETTLE.seconds * 1000;
            for (let i = 0; ; i++) {
                const pods = await listed();
                const selected = (await core.listNamespacedPod({ namespace, labelSelector })).items as PodView[];
                const last = Date.now() >= deadline || i >= SLICES_SETTLE.seconds * (1000 / SLICES_SETTLE.everyMs);
                if (last || slicesSettled(pods, selected, svc.spec?.publishNotReadyAddresses === true).settled)
                    return pods;
                await new Promise((r) => setTimeout(r, SLICES_SETTLE.everyMs));
            }
        },
    );
}

const CLUSTER_KEYS = ["kubeconfig", "context", "cluster"] as const;

/** Reads the ready pods on create, on every change of what it waits for or of the cluster's access, and on `pulumi refresh`. */
export const readyPodsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ReadyPodsInputs) {
        return { id: `${inputs.namespace}/${inputs.service}`, outs: { ...inputs, pods: await listReadyPods(inputs) } };
    },
    async diff(_id: string, olds: ReadyPodsInputs, news: ReadyPodsInputs) {
        const replaces = (["namespace", "service"] as const).filter((k) => olds[k] !== news[k]);
        const changed =
            CLUSTER_KEYS.some((k) => (olds[k] ?? "") !== (news[k] ?? "")) ||
            JSON.stringify(olds.after) !== JSON.stringify(news.after) ||
            olds.replicas !== news.replicas;
        return { changes: replaces.length > 0 || changed, replaces };
    },
    async update(_id: string, _olds: ReadyPodsInputs, news: ReadyPodsInputs) {
        return { outs: { ...news, pods: await listReadyPods(news) } };
    },
    // A refresh gets the outputs, which carry the cluster's access.
    async read(id: string, props: ReadyPodsInputs) {
        return { id, props: { ...props, pods: await listReadyPods(props) } };
    },
};

/**
 * How the read reaches the cluster: with the Kubernetes provider the component was
 * given (its kubeconfig, context and cluster, which a provider's outputs echo), or with
 * the stack's `kubernetes:` config when it has none. The kubeconfig is kept secret.
 */
function clusterAccessOf(provider: pulumi.ProviderResource | undefined): {
    access: { [K in keyof ClusterAccess]: pulumi.Input<string | undefined> };
    warning?: string;
} {
    const settings = provider as unknown as
        Partial<Record<(typeof CLUSTER_KEYS)[number], pulumi.Output<string | undefined>>> | undefined;
    if (provider && pulumi.Output.isInstance(settings?.kubeconfig)) {
        return {
            access: {
                kubeconfig: pulumi.secret(settings!.kubeconfig!),
                context: settings!.context,
                cluster: settings!.cluster,
            },
        };
    }
    const config = new pulumi.Config("kubernetes");
    const access = {
        kubeconfig: config.getSecret("kubeconfig"),
        context: config.get("context"),
        cluster: config.get("cluster"),
    };
    return provider
        ? {
              access,
              warning:
                  "the Kubernetes provider given to this component does not show its settings here (a provider passed from another language): " +
                  "the ready-pods read uses the stack's kubernetes: config, or KUBECONFIG and ~/.kube/config",
          }
        : { access };
}

class ReadyPods extends pulumi.dynamic.Resource {
    declare readonly pods: pulumi.Output<PodAddress[]>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(readyPodsProvider, name, { ...args, pods: undefined }, opts, "istio-sticky", "ReadyPods");
    }
}

/**
 * What changes when a waited-for object's spec changes: its id stays "namespace/name", the digest
 * of its spec does not. `spec.replicas` is left out: a HorizontalPodAutoscaler changes it (and so
 * the generation) after `pulumi up`, and a refresh would then store a count the program never set,
 * so the next preview would update the read with nothing changed. A count the program sets reaches
 * the read as its own `replicas`. Never the resourceVersion: it changes with every status update
 * too (istiod writes conditions on ambient Services).
 */
export function versionOf(r: pulumi.CustomResource): pulumi.Output<string> {
    const { metadata, spec } = r as {
        metadata?: pulumi.Output<unknown>;
        spec?: pulumi.Output<Record<string, unknown> | undefined>;
    };
    if (!metadata) return r.id;
    return pulumi.all([r.id, spec ?? pulumi.output(undefined)]).apply(([id, sp]) => {
        const { replicas: _, ...rest } = sp ?? {};
        return `${id}@${createHash("sha256")
            .update(JSON.stringify(sp ? rest : null))
            .digest("hex")
            .slice(0, 12)}`;
    });
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
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): pulumi.Output<PodAddress[]> {
    const t = pulumi.output(target);
    const { access, warning } = clusterAccessOf(opts.parent.getProvider("kubernetes::"));
    if (warning) pulumi.log.warn(warning, opts.parent);
    const pods = new ReadyPods(
        key,
        { namespace: t.namespace, service: t.service, replicas: t.replicas, ...access, after: after.map(versionOf) },
        { ...opts, dependsOn: [...after] },
    );
    // A read that holds no list read nothing (Pulumi's mocks give a resource its inputs as its state): no pods.
    return pods.pods.apply((p) => p ?? []);
}

interface GatewayServiceInputs extends ClusterAccess {
    namespace: string;
    service: string;
    /** Versions of what the read waits for (the gateway release): a new one reads again. */
    after: string[];
}

/**
 * The gateway Service's fields the ingress address is made from (outputs/ingress.ts ServiceView),
 * read through the Kubernetes client: a projection, so that what the read keeps changes only when
 * the address does. (A `Service.get` keeps the whole object, and its hidden inputs; the first
 * `pulumi refresh` after an up reported it as updated with no field changed.)
 */
async function readGatewayView(inputs: GatewayServiceInputs): Promise<ServiceView> {
    return onCluster(inputs, `the gateway Service ${inputs.namespace}/${inputs.service}`, async (client, config) => {
        const api = config.makeApiClient(client.CoreV1Api);
        const svc = await api.readNamespacedService({ name: inputs.service, namespace: inputs.namespace });
        const ports = (svc.spec?.ports ?? []) as { name?: string; port?: number; nodePort?: number }[];
        const ingress = (svc.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[];
        // Absent fields are left out, not set to undefined: state holds no nulls to compare.
        const defined = <T extends object>(o: T): T =>
            Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
        return {
            metadata: { name: inputs.service, namespace: inputs.namespace },
            spec: defined({
                type: svc.spec?.type,
                ports: ports.map((p) => defined({ name: p.name, port: p.port, nodePort: p.nodePort })),
            }),
            status: { loadBalancer: { ingress: ingress.map((i) => defined({ ip: i.ip, hostname: i.hostname })) } },
        };
    });
}

/** Reads the gateway Service on create, on every change of what it waits for or of the cluster's access, and on `pulumi refresh`. */
export const gatewayServiceProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: GatewayServiceInputs) {
        return {
            id: `${inputs.namespace}/${inputs.service}`,
            outs: { ...inputs, view: await readGatewayView(inputs) },
        };
    },
    async diff(_id: string, olds: GatewayServiceInputs, news: GatewayServiceInputs) {
        const replaces = (["namespace", "service"] as const).filter((k) => olds[k] !== news[k]);
        const changed =
            CLUSTER_KEYS.some((k) => (olds[k] ?? "") !== (news[k] ?? "")) ||
            JSON.stringify(olds.after) !== JSON.stringify(news.after);
        return { changes: replaces.length > 0 || changed, replaces };
    },
    async update(_id: string, _olds: GatewayServiceInputs, news: GatewayServiceInputs) {
        return { outs: { ...news, view: await readGatewayView(news) } };
    },
    async read(id: string, props: GatewayServiceInputs) {
        return { id, props: { ...props, view: await readGatewayView(props) } };
    },
};

class GatewayService extends pulumi.dynamic.Resource {
    declare readonly view: pulumi.Output<ServiceView>;
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(gatewayServiceProvider, name, { ...args, view: undefined }, opts, "istio-sticky", "GatewayService");
    }
}

/**
 * Reads the gateway Service (created by a Helm chart, or already in the cluster) once what it
 * waits for is done, through the component's Kubernetes provider (or the stack's kubernetes:
 * config), and says where clients reach it.
 */
export function readGatewayService(
    key: string,
    target: pulumi.Input<ReadTarget>,
    after: readonly pulumi.Resource[],
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): pulumi.Output<IngressAddress> {
    const t = pulumi.output(target);
    const { access, warning } = clusterAccessOf(opts.parent.getProvider("kubernetes::"));
    if (warning) pulumi.log.warn(warning, opts.parent);
    const versions = after.map((r) => (pulumi.CustomResource.isInstance(r) ? versionOf(r) : pulumi.output(r.urn)));
    const svc = new GatewayService(
        key,
        { namespace: t.namespace, service: t.service, ...access, after: versions },
        { ...opts, dependsOn: [...after] },
    );
    // A read that holds no view read nothing (Pulumi's mocks give a resource its inputs as its state).
    return pulumi
        .all([svc.view, t])
        .apply(([view, at]) => (view ? ingressFromService(view) : ingressNotRead(at.namespace, at.service)));
}

interface ExistingServiceInputs extends ClusterAccess {
    namespace: string;
    service: string;
    /** The port the package's patch names, and its protocol. */
    port: number;
    protocol: string;
}

/**
 * Why an existing Service cannot take the package's patch, or undefined: it is missing, or it has
 * no such port (a server-side apply naming a port the Service lacks would add that port rather
 * than fail). Read through the Kubernetes client, in the cluster the component's provider names.
 */
async function existingServiceProblem(inputs: ExistingServiceInputs): Promise<string | undefined> {
    const { client, config, cluster, where } = kubeClient(inputs);
    const id = `${inputs.namespace}/${inputs.service}`;
    let ports: LivePort[];
    try {
        if (!cluster) throw new Error("no cluster to connect to");
        const api = config.makeApiClient(client.CoreV1Api);
        const svc = await api.readNamespacedService({ name: inputs.service, namespace: inputs.namespace });
        ports = svc.spec?.ports ?? [];
    } catch (e) {
        if ((e as { code?: number }).code === 404)
            return `Service ${id} does not exist in ${where}: service.name and the app's namespace name the Service to make sticky`;
        const why = (e as { code?: string; message?: string }).code ?? (e as Error).message ?? String(e);
        throw new Error(`cannot read Service ${id} from ${where}: ${why}`);
    }
    return missingPortProblem(id, inputs.port, inputs.protocol, ports);
}

/**
 * Checks an existing Service before the package patches it, in preview and in update (its check
 * step), and holds nothing but its inputs: a refresh after the patch finds no change, where a read
 * of the whole Service would find the patch itself.
 */
export const existingServiceProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: ExistingServiceInputs, news: ExistingServiceInputs) {
        // Values not known yet in a preview are checked in the update.
        const known =
            typeof news.namespace === "string" && typeof news.service === "string" && typeof news.port === "number";
        const problem = known ? await existingServiceProblem(news) : undefined;
        return problem ? { inputs: news, failures: [{ property: "service", reason: problem }] } : { inputs: news };
    },
    async create(inputs: ExistingServiceInputs) {
        return { id: `${inputs.namespace}/${inputs.service}`, outs: inputs };
    },
    async diff(_id: string, olds: ExistingServiceInputs, news: ExistingServiceInputs) {
        const replaces = (["namespace", "service"] as const).filter((k) => olds[k] !== news[k]);
        const changed =
            replaces.length > 0 ||
            olds.port !== news.port ||
            olds.protocol !== news.protocol ||
            CLUSTER_KEYS.some((k) => (olds[k] ?? "") !== (news[k] ?? ""));
        return { changes: changed, replaces };
    },
    async update(_id: string, _olds: ExistingServiceInputs, news: ExistingServiceInputs) {
        return { outs: news };
    },
    async read(id: string, props: ExistingServiceInputs) {
        return { id, props };
    },
};

class ExistingServiceCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(existingServiceProvider, name, args, opts, "istio-sticky", "ExistingService");
    }
}

/**
 * The check of an existing Service before its patch (through the component's provider, or the
 * stack's kubernetes: config): that it exists with the port the patch names. The patch waits for it
 * (dependsOn, so that its fields stay known in a preview); a failed check fails the preview or the
 * update with the Service's ports listed.
 */
export function checkExistingService(
    key: string,
    patch: pulumi.Input<K8sObject>,
    opts: pulumi.CustomResourceOptions & { parent?: pulumi.Resource },
): pulumi.Resource {
    const o = pulumi.output(patch) as pulumi.Output<K8sObject>;
    const { access, warning } = clusterAccessOf(opts.parent?.getProvider("kubernetes::"));
    if (warning) pulumi.log.warn(warning, opts.parent);
    const port = o.apply((x) => ((x.spec?.ports ?? []) as { port: number; protocol?: string }[])[0] ?? { port: 0 });
    return new ExistingServiceCheck(
        `${key}-existing`,
        {
            namespace: o.apply((x) => x.metadata.namespace!),
            service: o.apply((x) => x.metadata.name),
            port: port.apply((p) => p.port),
            protocol: port.apply((p) => p.protocol ?? "TCP"),
            ...access,
        },
        { parent: opts.parent, dependsOn: opts.dependsOn },
    );
}
