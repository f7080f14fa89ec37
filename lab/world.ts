/**
 * The lab's stand-in for a cluster: from a stack's plan, the objects istiod
 * would find in one, with every pod on a loopback address.
 *
 * What a cluster's controllers would add is made here, as they would make it:
 * pods from Deployments (Running and Ready, with their template's labels), the
 * EndpointSlices of every Service, the ingress gateway's Service and pods from
 * the real gateway chart (`helm template` of the stack's release values), the
 * waypoints istiod's deployment controller would create, the GatewayClasses
 * istiod creates, and the TLS Secret cert-manager would issue (self-signed,
 * made with openssl).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELM_RELEASE_API_VERSION, isPersistentMode, PERSISTENT_SESSION_ENV } from "istio-sticky/plan";
import { type K8sObject, type Plan, Dataplane } from "istio-sticky";
import { ensureHelm, findCharts, helmTemplate } from "./charts";
import { clusterObjects } from "./existing";

/** Where the lab's addresses live: pods at 127.1.<app>.<n>, proxies at 127.0.9.<n>. */
export const LAB_POD_NET = "127.1";
export const LAB_PROXY_NET = "127.0.9";

/** One pod of an app, at its loopback address. */
export interface LabPod {
    /** The Deployment (the app's name). */
    app: string;
    name: string;
    namespace: string;
    ip: string;
    labels: Record<string, string>;
    /** The container's ports by name (the demo app's "http": 8080). */
    ports: Record<string, number>;
    /** The pod's environment, from its template (the demo app's settings). */
    env: Record<string, string>;
}

/** One Envoy asking istiod for its configuration. */
export interface LabProxy {
    name: string;
    type: "router" | "sidecar" | "waypoint";
    namespace: string;
    labels: Record<string, string>;
    ip: string;
    id: string;
}

/** What the Go program gets for one stack (lab/xds/main.go, type Case). */
export interface XdsCase {
    name: string;
    /** istiod's environment (its feature flags): what the istiod chart gives its container. */
    env: Record<string, string>;
    configs: string;
    kubernetes: string;
    meshConfig: string;
    istioVersion: string;
    proxies: LabProxy[];
}

export interface LabWorld {
    xds: XdsCase;
    pods: LabPod[];
    /** The TLS Secrets made for the gateway: name → PEM certificate and key. */
    certificates: Record<string, { cert: string; key: string; hosts: string[] }>;
    gateway: LabProxy;
    /** Where the gateway's Service sends each of its ports (port → target port). */
    gatewayPorts: Record<number, number>;
}

export interface WorldOptions {
    name: string;
    /** Extra pods per app (a scale-up), by app name. */
    extraPods?: Record<string, number>;
}

/** The API groups whose objects istiod validates and reads as config (the rest are Kubernetes objects to it). */
export const ISTIO_GROUPS = ["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"];
const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
const groupOf = (o: K8sObject) => (o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "");

/**
 * Documents as the API server gets them from Pulumi: JSON (one per YAML document, which istiod's
 * parsers read). YAML would not do: istiod reads YAML 1.1, where a bare on, yes or no is a boolean.
 */
const documents = (docs: readonly object[]) => docs.map((d) => JSON.stringify(d)).join("\n---\n");

/** The pods a Deployment runs: its replicas, or the autoscaler's minimum. */
function replicasOf(deploy: K8sObject, plan: Plan): number {
    const spec = deploy.spec as { replicas?: number };
    if (typeof spec.replicas === "number") return spec.replicas;
    const hpa = plan.objects.find(
        (o) =>
            o.object.kind === "HorizontalPodAutoscaler" &&
            o.object.metadata.namespace === deploy.metadata.namespace &&
            (o.object.spec as any)?.scaleTargetRef?.name === deploy.metadata.name,
    );
    return (hpa?.object.spec as any)?.minReplicas ?? 1;
}

function podsOf(deploy: K8sObject, index: number, count: number): LabPod[] {
    const template = (deploy.spec as any).template;
    const container = template.spec.containers[0];
    const ports = Object.fromEntries(
        (container.ports ?? []).map((p: any) => [p.name ?? String(p.containerPort), p.containerPort]),
    );
    const env = Object.fromEntries(
        (container.env ?? []).filter((e: any) => typeof e.value === "string").map((e: any) => [e.name, e.value]),
    );
    return Array.from({ length: count }, (_, n) => ({
        app: deploy.metadata.name,
        name: `${deploy.metadata.name}-lab-${n}`,
        namespace: deploy.metadata.namespace!,
        ip: `${LAB_POD_NET}.${index + 1}.${n + 1}`,
        labels: { ...template.metadata.labels },
        ports,
        env,
    }));
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

function podObject(pod: LabPod, annotations: Record<string, string>): object {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels, annotations },
        spec: {
            containers: [
                {
                    name: "app",
                    image: "lab",
                    ports: Object.entries(pod.ports).map(([name, containerPort]) => ({ name, containerPort })),
                },
            ],
        },
        status: {
            phase: "Running",
            podIP: pod.ip,
            podIPs: [{ ip: pod.ip }],
            conditions: [{ type: "Ready", status: "True" }],
        },
    };
}

/** The EndpointSlice Kubernetes' controller would write for a Service over these pods. */
function endpointSlice(service: any, pods: readonly LabPod[]): object {
    const selector: Record<string, string> = service.spec.selector ?? {};
    const members = pods.filter(
        (p) =>
            p.namespace === service.metadata.namespace &&
            Object.keys(selector).length > 0 &&
            selects(selector, p.labels),
    );
    const targetPort = (sp: any, pod: LabPod) =>
        typeof sp.targetPort === "string" ? pod.ports[sp.targetPort] : (sp.targetPort ?? sp.port);
    return {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
            name: `${service.metadata.name}-lab`,
            namespace: service.metadata.namespace,
            labels: {
                "kubernetes.io/service-name": service.metadata.name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        addressType: "IPv4",
        endpoints: members.map((p) => ({
            addresses: [p.ip],
            conditions: { ready: true, serving: true, terminating: false },
            targetRef: { kind: "Pod", name: p.name, namespace: p.namespace },
        })),
        ports: (service.spec.ports ?? []).map((sp: any) => ({
            name: sp.name ?? "",
            port: members.length ? targetPort(sp, members[0]) : sp.port,
            protocol: sp.protocol ?? "TCP",
            ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
        })),
    };
}

const certificates = new Map<string, { cert: string; key: string }>();
/** A self-signed certificate for the hosts, as cert-manager's selfSigned issuer would make (openssl); one per host list in a process. */
export function selfSignedCertificate(hosts: readonly string[]): { cert: string; key: string } {
    const key = hosts.join(",");
    if (!certificates.has(key)) certificates.set(key, newCertificate(hosts));
    return certificates.get(key)!;
}

function newCertificate(hosts: readonly string[]): { cert: string; key: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-lab-cert-"));
    try {
        const san = hosts.map((h) => `DNS:${h}`).join(",");
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                `/CN=${hosts[0]}`,
                "-addext",
                `subjectAltName=${san}`,
            ].concat(["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")]),
            { stdio: "ignore", timeout: 30_000 },
        );
        return {
            cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"),
            key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const rendered = new Map<string, any[]>();
/** `helm template` of a chart, once per chart, release and values in a process. */
function template(chart: string, release: K8sObject): any[] {
    const values = (release.spec as any).values ?? {};
    const key = JSON.stringify([chart, release.metadata.name, release.metadata.namespace, values]);
    if (!rendered.has(key))
        rendered.set(
            key,
            helmTemplate(ensureHelm(), chart, release.metadata.name, release.metadata.namespace!, values),
        );
    return rendered.get(key)!;
}

/** The gateway's Service and pod labels: from the real chart when the stack installs the gateway, else from the settings. */
function gatewayObjects(plan: Plan): { service: any; podLabels: Record<string, string> } {
    const g = plan.settings.mesh.gateway;
    const release = plan.objects.find(
        (o) => o.object.kind === "HelmRelease" && (o.object.spec as any).chart === "gateway",
    )?.object;
    const minor = /^(\d+\.\d+)/.exec(plan.settings.mesh.version)?.[1];
    const chart = findCharts()
        ?.istio.filter((c) => c.minor === minor)
        .at(-1)?.gateway;
    if (release && chart) {
        const docs = template(chart, release);
        const service = docs.find((d) => d.kind === "Service");
        const deploy = docs.find((d) => d.kind === "Deployment");
        if (!service || !deploy) throw new Error(`the gateway chart ${chart} rendered no Service or Deployment`);
        // The chart's Service and pods; the lab owns the ClusterIP.
        return { service, podLabels: deploy.spec.template.metadata.labels };
    }
    return {
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: g.name, namespace: g.namespace, labels: g.labels },
            spec: {
                type: g.serviceType,
                selector: g.labels,
                ports: [
                    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
                    { name: "http2", port: 80, targetPort: 80, protocol: "TCP" },
                    { name: "https", port: 443, targetPort: 443, protocol: "TCP" },
                ],
            },
        },
        podLabels: g.labels,
    };
}

/** What istiod's deployment controller creates for a waypoint Gateway: its Service, and the Gateway's status address. */
function waypointObjects(gw: K8sObject, ip: string): { service: object; gateway: object; proxy: LabProxy } {
    const name = gw.metadata.name;
    const ns = gw.metadata.namespace!;
    const labels = {
        "gateway.networking.k8s.io/gateway-name": name,
        "gateway.istio.io/managed": "istio.io-mesh-controller",
        "istio.io/gateway-name": name,
    };
    return {
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace: ns, labels },
            spec: {
                ports: [{ name: "mesh", port: 15008, appProtocol: "hbone" }],
                selector: { "gateway.networking.k8s.io/gateway-name": name },
            },
        },
        gateway: { ...gw, status: { addresses: [{ type: "Hostname", value: `${name}.${ns}.svc.cluster.local` }] } },
        proxy: { name: `waypoint/${ns}/${name}`, type: "waypoint", namespace: ns, labels, ip, id: `${name}-lab.${ns}` },
    };
}

/** istiod's feature flags (PILOT_*), as the stack's istiod chart sets them; for an existing mesh, what the stack requires of it. */
function istiodEnv(plan: Plan): Record<string, string> {
    const release = plan.objects.find(
        (o) => o.object.kind === "HelmRelease" && (o.object.spec as any).chart === "istiod",
    )?.object;
    const minor = /^(\d+\.\d+)/.exec(plan.settings.mesh.version)?.[1];
    const chart = findCharts()
        ?.istio.filter((c) => c.minor === minor)
        .at(-1)?.istiod;
    const flags = (env: Record<string, unknown>) =>
        Object.fromEntries(
            Object.entries(env).filter(([k, v]) => k.startsWith("PILOT_") && typeof v === "string"),
        ) as Record<string, string>;
    if (release && chart) {
        const docs = template(chart, release);
        const container = docs
            .find((d) => d.kind === "Deployment")
            ?.spec.template.spec.containers.find((c: any) => c.name === "discovery");
        if (!container) throw new Error(`the istiod chart ${chart} rendered no discovery container`);
        return flags(Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value])));
    }
    // Without the chart: what the stack requires of istiod (the ambient profile's flag, persistent sessions' switch), and its own env values.
    return {
        ...(plan.settings.apps.some((a) => isPersistentMode(a.affinity.mode))
            ? { [PERSISTENT_SESSION_ENV]: "true" }
            : {}),
        ...(plan.settings.mesh.dataplane === Dataplane.Ambient ? { PILOT_ENABLE_AMBIENT: "true" } : {}),
        ...flags((release?.spec as any)?.values?.env ?? {}),
    };
}

/** The GatewayClasses istiod creates at start. */
const GATEWAY_CLASSES = [
    ["istio", "istio.io/gateway-controller"],
    ["istio-waypoint", "istio.io/mesh-controller"],
].map(([name, controllerName]) => ({
    apiVersion: `${GATEWAY_API_GROUP}/v1`,
    kind: "GatewayClass",
    metadata: { name },
    spec: { controllerName },
}));

/** The lab's cluster for a plan. Cluster IPs come from 10.96.0.0/16: istiod needs them, no traffic goes there. */
export function buildWorld(plan: Plan, opts: WorldOptions): LabWorld {
    // The plan's objects, and what already runs for existing Services with the plan's patches applied.
    const objects = clusterObjects(plan).filter((o) => o.apiVersion !== HELM_RELEASE_API_VERSION);
    const ambient = plan.settings.mesh.dataplane === Dataplane.Ambient;
    const configs = objects.filter((o) => ISTIO_GROUPS.includes(groupOf(o)));
    const kube: object[] = [...GATEWAY_CLASSES];
    const proxies: LabProxy[] = [];
    let serviceIp = 0;
    const withClusterIp = (svc: any) => ({
        ...svc,
        spec: { ...svc.spec, clusterIP: `10.96.${Math.floor(++serviceIp / 250)}.${(serviceIp % 250) + 1}` },
    });

    // Namespaces (the plan's, and any it uses without creating).
    const namespaces = new Map<string, any>();
    for (const o of objects) if (o.kind === "Namespace") namespaces.set(o.metadata.name, o);
    const ensureNamespace = (ns: string) => {
        if (!namespaces.has(ns))
            namespaces.set(ns, {
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } },
            });
    };

    // Pods from Deployments, each app on its own /24 of 127.1.0.0/16.
    const deployments = objects.filter((o) => o.kind === "Deployment");
    const pods = deployments.flatMap((d, i) =>
        podsOf(d, i, replicasOf(d, plan) + (opts.extraPods?.[d.metadata.name] ?? 0)),
    );
    const annotations = (pod: LabPod): Record<string, string> => {
        const nsLabels = namespaces.get(pod.namespace)?.metadata.labels ?? {};
        if (ambient && nsLabels["istio.io/dataplane-mode"] === "ambient")
            return { "ambient.istio.io/redirection": "enabled" };
        return {};
    };
    // Injection as the webhook decides it: the pod's own label, else its namespace's (the package's pods say "true").
    const injected = (pod: LabPod) => {
        const inject = pod.labels["sidecar.istio.io/inject"];
        const nsLabels = namespaces.get(pod.namespace)?.metadata.labels ?? {};
        return (
            inject === "true" ||
            (inject !== "false" &&
                (nsLabels["istio-injection"] === "enabled" || nsLabels["istio.io/rev"] !== undefined))
        );
    };
    const sidecarLabels = (pod: LabPod): Record<string, string> =>
        ambient || !injected(pod)
            ? {}
            : { "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": pod.app };

    // The gateway, from its chart.
    const gw = gatewayObjects(plan);
    ensureNamespace(gw.service.metadata.namespace);
    const gatewayProxy: LabProxy = {
        name: "gateway",
        type: "router",
        namespace: gw.service.metadata.namespace,
        labels: gw.podLabels,
        ip: `${LAB_PROXY_NET}.1`,
        id: `${gw.service.metadata.name}-lab.${gw.service.metadata.namespace}`,
    };
    proxies.push(gatewayProxy);
    const gatewayPod: LabPod = {
        app: gw.service.metadata.name,
        name: `${gw.service.metadata.name}-lab`,
        namespace: gatewayProxy.namespace,
        ip: gatewayProxy.ip,
        labels: gw.podLabels,
        ports: {},
        env: {},
    };
    const gatewayPorts = Object.fromEntries(
        (gw.service.spec.ports ?? []).map((p: any) => [
            p.port,
            typeof p.targetPort === "number" ? p.targetPort : p.port,
        ]),
    );

    // Services with their EndpointSlices.
    const services = [gw.service, ...objects.filter((o) => o.kind === "Service")];
    for (const svc of services) {
        kube.push(withClusterIp(svc));
        kube.push(endpointSlice(svc, svc === gw.service ? [{ ...gatewayPod, ports: {} }] : pods));
    }
    for (const pod of pods)
        kube.push(podObject({ ...pod, labels: { ...pod.labels, ...sidecarLabels(pod) } }, annotations(pod)));
    kube.push(podObject(gatewayPod, {}));

    // Gateway API objects; waypoints get what istiod's deployment controller makes.
    let waypointIp = 10;
    for (const o of objects.filter((x) => groupOf(x) === GATEWAY_API_GROUP)) {
        if ((o.spec as any)?.gatewayClassName === "istio-waypoint") {
            const w = waypointObjects(o, `${LAB_PROXY_NET}.${++waypointIp}`);
            kube.push(w.gateway, withClusterIp(w.service));
            proxies.push(w.proxy);
            const wpod: LabPod = {
                app: o.metadata.name,
                name: `${o.metadata.name}-lab`,
                namespace: o.metadata.namespace!,
                ip: w.proxy.ip,
                labels: w.proxy.labels,
                ports: {},
                env: {},
            };
            kube.push(podObject(wpod, {}), endpointSlice(w.service as any, [wpod]));
        } else {
            kube.push(o);
        }
    }

    // A client sidecar in each app namespace (sidecar data plane): what an in-mesh caller gets.
    if (!ambient) {
        const appNamespaces = [...new Set(deployments.map((d) => d.metadata.namespace!))];
        appNamespaces.forEach((ns, i) =>
            proxies.push({
                name: `client/${ns}`,
                type: "sidecar",
                namespace: ns,
                labels: { app: "lab-client" },
                ip: `${LAB_PROXY_NET}.${100 + i}`,
                id: `lab-client.${ns}`,
            }),
        );
    }

    // TLS Secrets cert-manager would issue.
    const certificates: LabWorld["certificates"] = {};
    for (const c of plan.objects.map((o) => o.object).filter((o) => o.kind === "Certificate")) {
        const spec = c.spec as { secretName: string; dnsNames?: string[] };
        const hosts = spec.dnsNames?.length ? spec.dnsNames : ["lab.test"];
        const pem = selfSignedCertificate(hosts);
        certificates[spec.secretName] = { ...pem, hosts };
        kube.push({
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/tls",
            metadata: { name: spec.secretName, namespace: c.metadata.namespace },
            data: {
                "tls.crt": Buffer.from(pem.cert).toString("base64"),
                "tls.key": Buffer.from(pem.key).toString("base64"),
            },
        });
    }
    for (const pod of pods) ensureNamespace(pod.namespace);
    const istiod = plan.objects.find(
        (o) => o.object.kind === "HelmRelease" && (o.object.spec as any).chart === "istiod",
    )?.object;
    const meshConfig = (istiod?.spec as any)?.values?.meshConfig;
    return {
        xds: {
            name: opts.name,
            env: istiodEnv(plan),
            configs: documents(configs),
            kubernetes: documents([...namespaces.values(), ...kube]),
            meshConfig: meshConfig && Object.keys(meshConfig).length ? JSON.stringify(meshConfig) : "",
            istioVersion: plan.settings.mesh.version,
            proxies,
        },
        pods,
        certificates,
        gateway: gatewayProxy,
        gatewayPorts,
    };
}
