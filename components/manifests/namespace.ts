import { COMMON_LABELS, K8sObject } from "./types";

/** A namespace; with `injection`, labelled so Istio injects sidecars (by revision when one is set). */
export function buildNamespace(name: string, opts: { injection?: boolean; revision?: string } = {}): K8sObject {
    const injection: Record<string, string> = opts.injection ? (opts.revision ? { "istio.io/rev": opts.revision } : { "istio-injection": "enabled" }) : {};
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...COMMON_LABELS, ...injection } },
    };
}
