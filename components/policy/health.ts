import type { MeshSettings } from "../settings/schema";
import { valueAt } from "../settings/schema";
import { istioLine } from "../settings/versions";

/** istiod's switch (1.31+) that sends not-ready endpoints to Envoy as UNHEALTHY. */
export const SEND_UNHEALTHY_ENV = "PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS";

/**
 * What istiod's env needs so that sticky sessions keep away from pods that are not ready.
 *
 * From Istio 1.31 istiod sends not-ready endpoints (EDS UNHEALTHY) and sets every such
 * cluster's healthy_panic_threshold to 0 (cluster_traffic_policy.go: applyLoadBalancer):
 * Envoy then never panics, builds its ring or maglev table from healthy hosts only, and a
 * persistent-session cookie naming an UNHEALTHY host is ignored (cluster.go sets
 * override_host_status to HEALTHY, DRAINING, UNKNOWN, DEGRADED). Stickiness is what it was
 * on 1.30, so nothing is set by default.
 *
 * One combination breaks that: a mesh-wide meshConfig.defaultTrafficPolicy.outlierDetection
 * with minHealthPercent > 0 (new in 1.31). istiod copies it into each cluster's panic
 * threshold (applyOutlierDetection), but decides whether to send not-ready endpoints from the
 * DestinationRule alone (endpoint_builder.go: supportsUnhealthyEndpoints), which here sets no
 * outlierDetection. Below that share of ready pods Envoy would panic and hash sessions onto
 * pods that are not ready; keeping them out of EDS, as 1.30 did, avoids it. A value the user
 * sets for the switch wins.
 */
export function unhealthyEndpointsEnv(mesh: Pick<MeshSettings, "version" | "values">): Record<string, string> {
    if (!istioLine(mesh.version).sendsUnhealthyEndpoints) return {};
    if (valueAt(mesh.values.istiod, `env.${SEND_UNHEALTHY_ENV}`) !== undefined) return {};
    const minHealthPercent = valueAt(
        mesh.values.istiod,
        "meshConfig.defaultTrafficPolicy.outlierDetection.minHealthPercent",
    );
    return typeof minHealthPercent === "number" && minHealthPercent > 0 ? { [SEND_UNHEALTHY_ENV]: "false" } : {};
}
