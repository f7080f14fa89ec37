import { stringify } from "yaml";
import type { Plan } from "./plan";
import type { HelmReleaseSpec, K8sObject } from "./objects/types";
import { APP_OBJECT_TYPES } from "./objects/app";

export const HELM_RELEASE_API_VERSION = "render.istio-sticky/v1";

/** A Helm release as a render document. */
export function helmReleaseDocument(r: HelmReleaseSpec): K8sObject {
    return {
        apiVersion: HELM_RELEASE_API_VERSION,
        kind: "HelmRelease",
        metadata: { name: r.name, namespace: r.namespace },
        spec: { chart: r.chart, repo: r.repo, version: r.version, values: r.values },
    };
}

/** Every document of a plan, in the order a deploy creates them. */
export function planDocuments(plan: Plan): K8sObject[] {
    const docs: K8sObject[] = [];
    if (plan.mesh) {
        const { base, istiod, gateway } = plan.mesh.releases;
        docs.push(...plan.mesh.namespaces, helmReleaseDocument(base), helmReleaseDocument(istiod), helmReleaseDocument(gateway));
    }
    if (plan.tls) {
        const cm = plan.tls.certManager;
        docs.push(...(cm ? [cm.namespace, helmReleaseDocument(cm.release)] : []), plan.tls.issuer, plan.tls.certificate);
    }
    docs.push(...plan.appNamespaces, plan.gateway);
    for (const app of plan.apps) {
        for (const [key] of APP_OBJECT_TYPES) {
            const obj = app.objects[key];
            if (obj) docs.push(obj);
        }
    }
    docs.push(...plan.routes);
    return docs;
}

/** Multi-document YAML. */
export function toYaml(docs: readonly K8sObject[]): string {
    return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}

/** True for the names documentFileName gives. */
export function isDocumentFileName(file: string): boolean {
    return /^\d{3,}-[a-z0-9]+-[A-Za-z0-9.-]+\.yaml$/.test(file);
}

/** A file name for a document that sorts in deploy order. */
export function documentFileName(doc: K8sObject, index: number): string {
    const ns = doc.metadata.namespace ? `${doc.metadata.namespace}-` : "";
    return `${String(index + 1).padStart(3, "0")}-${doc.kind.toLowerCase()}-${ns}${doc.metadata.name}.yaml`;
}
