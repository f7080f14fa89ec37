import { GATEWAY_API_GROUP } from "./gatewayApi";
import { COMMON_LABELS, K8sObject } from "./types";

/** The namespace waypoint's name (pkg/config/constants: DefaultNamespaceWaypoint). */
export const WAYPOINT_NAME = "waypoint";
/** The Service label that sends a Service's in-mesh traffic through a waypoint. */
export const USE_WAYPOINT_LABEL = "istio.io/use-waypoint";
/** The namespace label that enrols its pods into ambient (istio-cni redirects their traffic to ztunnel). */
export const DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode";

/**
 * A namespace's waypoint: the L7 proxy ambient traffic to a Service passes when the
 * Service carries `istio.io/use-waypoint`. Shaped as `istioctl waypoint generate`
 * makes it (istioctl/pkg/waypoint/waypoint.go: class istio-waypoint, one HBONE
 * listener on 15008), for Services (`istio.io/waypoint-for: service`); istiod deploys it.
 */
export function buildWaypoint(namespace: string): K8sObject {
    return {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "Gateway",
        metadata: { name: WAYPOINT_NAME, namespace, labels: { ...COMMON_LABELS, "istio.io/waypoint-for": "service" } },
        spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
    };
}
