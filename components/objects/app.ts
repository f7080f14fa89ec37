import { createHash } from "crypto";
import type { AppSettings } from "../settings/schema";
import { loadBalancerFor, serviceLabelsFor, sessionKeyFor } from "../policy/affinity";
import { DEMO_APP_IMAGE } from "./demoApp";
import { COMMON_LABELS, K8sObject } from "./types";

export interface AppObjectsContext {
    /** "namespace/name" of the Istio Gateway the app's VirtualService binds to. */
    gateway: string;
    hosts: string[];
    /** The demo app's script; ignored when the app brings its own image. */
    demoAppSource: string;
}

export interface AppObjects {
    /** Only for the demo app (no custom image). */
    configMap?: K8sObject;
    deployment: K8sObject;
    service: K8sObject;
    destinationRule: K8sObject;
    virtualService: K8sObject;
}

const SCRIPT_KEY = "server.js";
const SCRIPT_DIR = "/app";

export function serviceHost(app: Pick<AppSettings, "name" | "namespace">): string {
    return `${app.name}.${app.namespace}.svc.cluster.local`;
}

export function appLabels(app: AppSettings): Record<string, string> {
    return { app: app.name, "app.kubernetes.io/name": app.name, ...COMMON_LABELS };
}

function sha256(s: string): string {
    return createHash("sha256").update(s).digest("hex");
}

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

function buildDeployment(app: AppSettings, ctx: AppObjectsContext): K8sObject {
    const labels = appLabels(app);
    const demo = app.image === undefined;
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
            replicas: app.replicas,
            selector: { matchLabels: { app: app.name } },
            template: {
                metadata: {
                    labels: { ...labels, "sidecar.istio.io/inject": "true" },
                    // A changed script must roll the pods, since it arrives through a ConfigMap.
                    annotations: demo ? { "istio-sticky/script-sha256": sha256(ctx.demoAppSource) } : {},
                },
                spec: {
                    automountServiceAccountToken: false,
                    terminationGracePeriodSeconds: 30,
                    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                        {
                            name: "app",
                            image: app.image ?? DEMO_APP_IMAGE,
                            ...(demo ? { command: ["node", `${SCRIPT_DIR}/${SCRIPT_KEY}`] } : {}),
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
                                ...(demo ? [{ name: "script", mountPath: SCRIPT_DIR, readOnly: true }] : []),
                                { name: "tmp", mountPath: "/tmp" },
                            ],
                        },
                    ],
                    volumes: [
                        ...(demo ? [{ name: "script", configMap: { name: `${app.name}-script` } }] : []),
                        { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                    ],
                },
            },
        },
    };
}

function buildVirtualService(app: AppSettings, ctx: AppObjectsContext): K8sObject {
    const destination = { host: serviceHost(app), port: { number: app.port } };
    // "/shop" and "/shop/..." reach the app as "/" and "/..."; a bare prefix "/shop"
    // would also catch "/shopping" and rewrite "/shop/x" to "//x".
    const route =
        app.path === "/"
            ? { name: app.name, match: [{ uri: { prefix: "/" } }], route: [{ destination }] }
            : {
                  name: app.name,
                  match: [{ uri: { exact: app.path } }, { uri: { prefix: `${app.path}/` } }],
                  rewrite: { uri: "/" },
                  route: [{ destination }],
              };
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: app.name, namespace: app.namespace, labels: appLabels(app) },
        spec: { hosts: [...ctx.hosts], gateways: [ctx.gateway], http: [route] },
    };
}

/** Every object one app needs, built from its validated settings. */
export function buildAppObjects(app: AppSettings, ctx: AppObjectsContext): AppObjects {
    const labels = appLabels(app);
    return {
        configMap:
            app.image === undefined
                ? {
                      apiVersion: "v1",
                      kind: "ConfigMap",
                      metadata: { name: `${app.name}-script`, namespace: app.namespace, labels },
                      data: { [SCRIPT_KEY]: ctx.demoAppSource },
                  }
                : undefined,
        deployment: buildDeployment(app, ctx),
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: app.name, namespace: app.namespace, labels: { ...labels, ...serviceLabelsFor(app.affinity) } },
            spec: {
                type: "ClusterIP",
                selector: { app: app.name },
                ports: [{ name: "http", port: app.port, targetPort: "http", protocol: "TCP", appProtocol: "http" }],
            },
        },
        destinationRule: {
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: { name: app.name, namespace: app.namespace, labels },
            spec: { host: serviceHost(app), trafficPolicy: { loadBalancer: loadBalancerFor(app.affinity) } },
        },
        virtualService: buildVirtualService(app, ctx),
    };
}
