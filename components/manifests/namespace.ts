import { COMMON_LABELS, K8sObject } from "./types";
import { DATAPLANE_MODE_LABEL } from "./waypoint";

/**
 * A namespace; with `injection`, labelled so Istio injects sidecars (by revision when one is set);
 * with `ambient`, enrolled into ambient instead (no sidecars: istio-cni and ztunnel carry its traffic).
 */
export function buildNamespace(name: string, opts: MeshEnrolment = {}): K8sObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...COMMON_LABELS, ...enrolmentLabels(opts) } },
    };
}

export interface MeshEnrolment {
    injection?: boolean;
    revision?: string;
    ambient?: boolean;
}

function enrolmentLabels(opts: MeshEnrolment): Record<string, string> {
    if (opts.ambient) return { [DATAPLANE_MODE_LABEL]: "ambient" };
    if (!opts.injection) return {};
    return opts.revision ? { "istio.io/rev": opts.revision } : { "istio-injection": "enabled" };
}

/** The labels that enrol an existing namespace in the mesh, as a server-side-apply patch (the namespace stays its owners'). */
export function buildNamespaceEnrolment(name: string, opts: MeshEnrolment): K8sObject {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: enrolmentLabels(opts) } };
}
