import { COMMON_LABELS, K8sObject } from "./types";
import { DATAPLANE_MODE_LABEL } from "./waypoint";

/**
 * A namespace; with `injection`, labelled so Istio injects sidecars (by revision when one is set);
 * with `ambient`, enrolled into ambient instead (no sidecars: istio-cni and ztunnel carry its traffic).
 */
export function buildNamespace(name: string, opts: { injection?: boolean; revision?: string; ambient?: boolean } = {}): K8sObject {
    const injection: Record<string, string> = opts.ambient
        ? { [DATAPLANE_MODE_LABEL]: "ambient" }
        : opts.injection
          ? opts.revision
              ? { "istio.io/rev": opts.revision }
              : { "istio-injection": "enabled" }
          : {};
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...COMMON_LABELS, ...injection } },
    };
}
