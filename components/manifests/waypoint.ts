import type { AppSettings } from "../settings/schema";
import { GATEWAY_API_GROUP } from "./gatewayApi";
import { appLabels, serviceHost } from "./names";
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

/**
 * What a waypoint of Istio 1.30 needs to hash an app's requests: a VirtualService for the
 * Service's host, bound to the mesh (no gateways) and in the Service's namespace, with an
 * HTTP route to it. The waypoint then builds its routes from it and takes each route's
 * hash_policy from the DestinationRule (listener_waypoint.go: getVirtualServiceForWaypoint,
 * waypointInboundRoute → route.go: HashForHTTPDestination); without one it builds a default
 * route with no hash_policy (istio/istio#61045, fixed in 1.31).
 */
export function buildWaypointVirtualService(app: Pick<AppSettings, "name" | "namespace" | "port">): K8sObject {
    const host = serviceHost(app);
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: `${app.name}-waypoint`, namespace: app.namespace, labels: appLabels(app) },
        spec: {
            hosts: [host],
            http: [{ name: "waypoint", route: [{ destination: { host, port: { number: app.port } } }] }],
        },
    };
}
