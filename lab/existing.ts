/**
 * What already runs for an app that names an existing Service, as a team's own chart might have
 * deployed it: a Deployment of the demo app and its Service, whose port is named "web" (so that
 * Istio sees HTTP only through the appProtocol the package patches on), and the namespace. The
 * package's patches are then applied the way server-side apply merges them.
 */
import type { K8sObject, Plan, AppSettings } from "istio-sticky";
import { podPort, serviceName } from "istio-sticky/plan";

/** The replicas of an existing workload in the lab. */
export const EXISTING_REPLICAS = 3;

/** The pods' labels: the Service's selector as the app names it, else one that is not the package's `app` label. */
export function existingSelector(app: AppSettings): Record<string, string> {
    return app.service?.podLabels ?? { "app.kubernetes.io/instance": serviceName(app) };
}

/** The existing namespace, Deployment and Service of each such app (before any patch). */
export function existingWorkloads(plan: Plan): K8sObject[] {
    const out: K8sObject[] = [];
    const namespaces = new Set<string>();
    for (const app of plan.settings.apps) {
        if (!app.service) continue;
        const selector = existingSelector(app);
        if (!namespaces.has(app.namespace)) {
            namespaces.add(app.namespace);
            out.push({
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: app.namespace, labels: { "kubernetes.io/metadata.name": app.namespace } },
            });
        }
        out.push(
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: app.name, namespace: app.namespace },
                spec: {
                    replicas: EXISTING_REPLICAS,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels: { ...selector } },
                        spec: {
                            containers: [
                                {
                                    name: "app",
                                    ports: [{ name: "web", containerPort: podPort(app) }],
                                    env: [{ name: "TARGET", value: app.name }],
                                },
                            ],
                        },
                    },
                },
            },
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: serviceName(app), namespace: app.namespace, labels: { team: "theirs" } },
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [{ name: "web", port: app.port, targetPort: "web", protocol: "TCP" }],
                },
            },
        );
    }
    return out;
}

const same = (a: K8sObject, b: K8sObject) =>
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.metadata.name === b.metadata.name &&
    (a.metadata.namespace ?? "") === (b.metadata.namespace ?? "");

/**
 * A patch merged as server-side apply merges it: labels by key, and `spec.ports`, a list keyed by
 * port and protocol, entry by entry (a port the object lacks would be added; the package checks the
 * live Service for it first).
 */
export function applyPatch(target: K8sObject, patch: K8sObject): K8sObject {
    const ports = [...((target.spec?.ports ?? []) as any[])];
    for (const p of (patch.spec?.ports ?? []) as any[]) {
        const i = ports.findIndex((q) => q.port === p.port && (q.protocol ?? "TCP") === (p.protocol ?? "TCP"));
        if (i >= 0) ports[i] = { ...ports[i], ...p };
        else ports.push(p);
    }
    return {
        ...target,
        metadata: { ...target.metadata, labels: { ...target.metadata.labels, ...patch.metadata.labels } },
        ...(target.spec ? { spec: { ...target.spec, ...(patch.spec?.ports ? { ports } : {}) } } : {}),
    };
}

/** The existing objects with the plan's patches applied, and the plan's own objects. */
export function clusterObjects(plan: Plan): K8sObject[] {
    const patches = plan.objects.filter((o) => o.patch).map((o) => o.object);
    const existing = existingWorkloads(plan).map((o) => patches.filter((p) => same(o, p)).reduce(applyPatch, o));
    for (const p of patches) {
        if (!existing.some((o) => same(o, p)))
            throw new Error(`the lab has no ${p.kind} ${p.metadata.namespace ?? ""}/${p.metadata.name} to patch`);
    }
    return [...existing, ...plan.objects.filter((o) => !o.patch).map((o) => o.object)];
}
