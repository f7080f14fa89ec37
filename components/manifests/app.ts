import type { AppSettings } from "../settings/schema";
import { loadBalancerFor, serviceLabelsFor, sessionKeyFor } from "../policy/affinity";
import { DIRECT_SUBSET, NORMAL_SUBSET } from "../policy/direct";
import { DEMO_APP_IMAGE, DEMO_SCRIPT_DIR, DEMO_SCRIPT_KEY, DemoScriptRef } from "./demoApp";
import type { K8sObject } from "./types";
import { appLabels, podSelector, serviceHost } from "./names";
import { buildServicePatch } from "./existingService";
import { buildDirectObjects, DirectObjects, DirectContextOptions } from "./direct";
import { buildSecurityObjects, SecurityObjects } from "./security";
import { buildWaypointVirtualService, USE_WAYPOINT_LABEL } from "./waypoint";

export { appLabels, serviceHost };

export interface AppObjectsContext extends DirectContextOptions {
    /** The namespace's demo script; absent when the app brings its own image. */
    demoScript?: DemoScriptRef;
    /** The ambient data plane: pods without sidecars, enrolled by their namespace. */
    ambient?: boolean;
    /** The Istio revision whose sidecar the pods get (sidecars only). */
    revision?: string;
    /** Ambient: the waypoint the app's Service sends in-mesh traffic through (hash modes need an L7 proxy). */
    waypoint?: string;
    /** Ambient on Istio 1.30, behind a waypoint: it hashes only on a VirtualService's routes, so the app gets one. */
    waypointVirtualService?: boolean;
}

/** The objects one app owns. Its gateway route is built with the other apps on its path (objects/routes). */
export interface AppObjects {
    /** The package's own workload; an existing Service's app has neither. */
    deployment?: K8sObject;
    service?: K8sObject;
    /** An existing Service's app: what its Service must carry, as a server-side-apply patch. */
    servicePatch?: K8sObject;
    destinationRule: K8sObject;
    /** Only with autoscaling. */
    horizontalPodAutoscaler?: K8sObject;
    podDisruptionBudget?: K8sObject;
    /** Only in ambient on Istio 1.30, for hash modes. */
    waypointVirtualService?: K8sObject;
}

/** Everything one app owns; direct-routing objects only when it is enabled. */
export type AppObjectSet = AppObjects & DirectObjects & SecurityObjects;

function demoEnv(app: AppSettings): { name: string; value?: string; valueFrom?: unknown }[] {
    const key = sessionKeyFor(app.affinity);
    const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
    return [
        { name: "POD_NAME", ...fieldRef("metadata.name") },
        { name: "POD_NAMESPACE", ...fieldRef("metadata.namespace") },
        { name: "POD_IP", ...fieldRef("status.podIP") },
        { name: "PORT", value: String(app.port) },
        { name: "TARGET", value: app.target },
        { name: "SESSION_SOURCE", value: key.source },
        ...(key.name ? [{ name: "SESSION_KEY", value: key.name }] : []),
    ];
}

/**
 * The pod labels istiod's injection webhook selects on (its chart's templates/mutatingwebhook.yaml).
 * With sidecars, `sidecar.istio.io/inject: "true"` gets a sidecar even in a namespace without an
 * injection label (webhook object.sidecar-injector), and `istio.io/rev` picks the revision's
 * injector (rev.object.sidecar-injector). In ambient the pods must get none: a pod with a sidecar
 * is never enrolled (cni/pkg/util/podutil.go: podHasSidecar), so they opt out explicitly, which
 * every injection webhook honours (sidecar.istio.io/inject NotIn ["false"]).
 */
function injectionLabels(ctx: Pick<AppObjectsContext, "ambient" | "revision">): Record<string, string> {
    if (ctx.ambient) return { "sidecar.istio.io/inject": "false" };
    return { "sidecar.istio.io/inject": "true", ...(ctx.revision ? { "istio.io/rev": ctx.revision } : {}) };
}

function buildDeployment(app: AppSettings, ctx: AppObjectsContext): K8sObject {
    const labels = appLabels(app);
    const script = app.image === undefined ? ctx.demoScript : undefined;
    if (app.image === undefined && !script)
        throw new Error(`app ${app.name} runs the demo app but its namespace has no demo script`);
    const demo = script !== undefined;
    const probe = (period: number) => ({
        httpGet: { path: "/healthz", port: "http" },
        periodSeconds: period,
        timeoutSeconds: 2,
        failureThreshold: 3,
    });
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: app.name, namespace: app.namespace, labels },
        spec: {
            // With autoscaling the HorizontalPodAutoscaler owns the count; setting it here would fight it.
            ...(app.replicas !== undefined ? { replicas: app.replicas } : {}),
            selector: { matchLabels: { app: app.name } },
            template: {
                metadata: {
                    labels: { ...labels, ...injectionLabels(ctx) },
                    // A changed script must roll the pods, since it arrives through a ConfigMap.
                    annotations: script ? { "istio-sticky/script-sha256": script.sha256 } : {},
                },
                spec: {
                    automountServiceAccountToken: false,
                    terminationGracePeriodSeconds: 30,
                    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                        {
                            name: "app",
                            image: app.image ?? DEMO_APP_IMAGE,
                            ...(demo ? { command: ["node", `${DEMO_SCRIPT_DIR}/${DEMO_SCRIPT_KEY}`] } : {}),
                            ports: [{ name: "http", containerPort: app.port, protocol: "TCP" }],
                            env: demoEnv(app),
                            readinessProbe: probe(5),
                            livenessProbe: probe(10),
                            resources: {
                                requests: { cpu: "50m", memory: "64Mi" },
                                limits: { cpu: "500m", memory: "128Mi" },
                            },
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 1000,
                                runAsGroup: 1000,
                                readOnlyRootFilesystem: true,
                                allowPrivilegeEscalation: false,
                                capabilities: { drop: ["ALL"] },
                            },
                            volumeMounts: [
                                ...(demo ? [{ name: "script", mountPath: DEMO_SCRIPT_DIR, readOnly: true }] : []),
                                { name: "tmp", mountPath: "/tmp" },
                            ],
                        },
                    ],
                    volumes: [
                        ...(script ? [{ name: "script", configMap: { name: script.configMap } }] : []),
                        { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                    ],
                },
            },
        },
    };
}

function buildDestinationRule(app: AppSettings): K8sObject {
    const loadBalancer = loadBalancerFor(app.affinity);
    const subsets = app.direct.enabled
        ? {
              // Routes send normal traffic to "normal" and guarded direct requests to "direct",
              // an ORIGINAL_DST cluster that goes to the pod the client names.
              subsets: [
                  { name: NORMAL_SUBSET, labels: podSelector(app), trafficPolicy: { loadBalancer } },
                  {
                      name: DIRECT_SUBSET,
                      labels: podSelector(app),
                      trafficPolicy: { loadBalancer: { simple: "PASSTHROUGH" } },
                  },
              ],
          }
        : {};
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: app.name, namespace: app.namespace, labels: appLabels(app) },
        spec: { host: serviceHost(app), trafficPolicy: { loadBalancer }, ...subsets },
    };
}

function buildAutoscaling(app: AppSettings): Pick<AppObjects, "horizontalPodAutoscaler" | "podDisruptionBudget"> {
    const a = app.autoscaling;
    if (!a) return {};
    const metadata = { name: app.name, namespace: app.namespace, labels: appLabels(app) };
    return {
        horizontalPodAutoscaler: {
            apiVersion: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata,
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: app.name },
                minReplicas: a.minReplicas,
                maxReplicas: a.maxReplicas,
                metrics: [
                    {
                        type: "Resource",
                        resource: {
                            name: "cpu",
                            target: { type: "Utilization", averageUtilization: a.cpuUtilization },
                        },
                    },
                ],
            },
        },
        podDisruptionBudget: {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata,
            spec: { minAvailable: 1, selector: { matchLabels: { app: app.name } } },
        },
    };
}

/** Every object one app owns, built from its validated settings: an existing Service's app gets no workload, and a patch of its Service. */
export function buildAppObjects(app: AppSettings, ctx: AppObjectsContext): AppObjectSet {
    const stickiness = {
        destinationRule: buildDestinationRule(app),
        ...(ctx.waypointVirtualService ? { waypointVirtualService: buildWaypointVirtualService(app) } : {}),
        ...buildDirectObjects(app, ctx),
        ...buildSecurityObjects(app, ctx),
    };
    if (app.service) return { servicePatch: buildServicePatch(app, ctx.waypoint), ...stickiness };
    const labels = appLabels(app);
    return {
        deployment: buildDeployment(app, ctx),
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: {
                name: app.name,
                namespace: app.namespace,
                labels: {
                    ...labels,
                    ...serviceLabelsFor(app.affinity),
                    ...(ctx.waypoint ? { [USE_WAYPOINT_LABEL]: ctx.waypoint } : {}),
                },
            },
            spec: {
                type: "ClusterIP",
                selector: { app: app.name },
                ports: [{ name: "http", port: app.port, targetPort: "http", protocol: "TCP", appProtocol: "http" }],
            },
        },
        ...buildAutoscaling(app),
        ...stickiness,
    };
}
