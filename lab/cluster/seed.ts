/**
 * What the cluster holds before the stack runs, as a team's cluster would: Istio's CRDs (from the
 * real base chart), the ingress gateway's Service as its chart makes it, and a workload of the
 * team's own (a Deployment and a Service whose port is named "web") that a stack can name as an
 * existing Service. Applied with server-side apply under the field manager "their-chart", so the
 * stack's patches meet another manager's fields as they would in a real cluster.
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { findCharts } from "../charts";
import { applyServerSide, kubectl, type Kubectl } from "./kubectl";

export const THEIR_MANAGER = "their-chart";

/** The team's own workload: namespace shop, Deployment orders, Service orders-api (port 80 → 8080, named web). */
export const EXISTING = {
    namespace: "shop",
    deployment: "orders",
    service: "orders-api",
    port: 80,
    targetPort: 8080,
} as const;

/** Objects applied as the team's chart tooling would (kubectl's server-side apply, field manager THEIR_MANAGER). */
export function apply(k: Kubectl, objects: readonly object[]): void {
    applyServerSide(k, objects, THEIR_MANAGER);
}

/** Istio's CRDs from the base chart of the newest Istio line the charts hold. */
export function istioCrds(): any[] {
    const charts = findCharts();
    if (!charts)
        throw new Error(
            "the harness needs ../shared/charts (or ISTIO_STICKY_CHARTS): Istio's CRDs come from its base chart",
        );
    const file = path.join(charts.istio.at(-1)!.base, "files", "crd-all.gen.yaml");
    return parseAllDocuments(fs.readFileSync(file, "utf8"))
        .map((d) => d.toJS())
        .filter((d) => d?.kind === "CustomResourceDefinition");
}

/** The gateway's namespace and Service as the gateway chart makes them (NodePort, as the stack asks). */
function gateway(): any[] {
    const labels = { app: "istio-ingressgateway", istio: "ingressgateway" };
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "istio-ingress" } },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "istio-ingressgateway", namespace: "istio-ingress", labels },
            spec: {
                type: "NodePort",
                selector: labels,
                ports: [
                    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
                    { name: "http2", port: 80, targetPort: 80, protocol: "TCP" },
                    { name: "https", port: 443, targetPort: 443, protocol: "TCP" },
                ],
            },
        },
    ];
}

/** The team's own workload. */
function theirs(): any[] {
    const labels = { app: EXISTING.deployment };
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: EXISTING.namespace } },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: EXISTING.deployment, namespace: EXISTING.namespace, labels },
            spec: {
                replicas: 2,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        containers: [
                            {
                                name: "app",
                                image: "registry.example.com/orders:1.0",
                                ports: [{ name: "web", containerPort: EXISTING.targetPort }],
                            },
                        ],
                    },
                },
            },
        },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: EXISTING.service, namespace: EXISTING.namespace, labels: { team: "orders" } },
            spec: {
                selector: labels,
                ports: [{ name: "web", port: EXISTING.port, targetPort: "web", protocol: "TCP" }],
            },
        },
    ];
}

/** The team's own workload, applied and rolled out (bounded): a Service a stack makes sticky without owning it. */
export function seedTheirWorkload(k: Kubectl): void {
    apply(k, theirs());
    kubectl(k, [
        "rollout",
        "status",
        "-n",
        EXISTING.namespace,
        `deployment/${EXISTING.deployment}`,
        "--timeout",
        "60s",
    ]);
}

/** Applies the CRDs (waiting, bounded, until each is Established), the gateway and the team's workload. */
export function seedCluster(k: Kubectl): void {
    const crds = istioCrds();
    apply(k, crds);
    kubectl(k, [
        "wait",
        "--for",
        "condition=Established",
        "--timeout",
        "60s",
        ...crds.map((c) => `crd/${c.metadata.name}`),
    ]);
    apply(k, gateway());
    // The team's workload runs before the stack names it, as in their cluster.
    seedTheirWorkload(k);
}
