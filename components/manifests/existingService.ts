import { serviceName, type AppSettings } from "../settings/schema";
import { serviceLabelsFor } from "../policy/affinity";
import type { K8sObject } from "./types";
import { USE_WAYPOINT_LABEL } from "./waypoint";

/**
 * What an existing Service must carry for stickiness, as a server-side-apply patch: only these
 * fields, owned by the patch's field manager and removed again when it is deleted.
 * - The port's `appProtocol`, so Istio treats it as HTTP whatever the port is named
 *   (pilot/pkg/serviceregistry/kube/conversion.go: ConvertProtocol reads appProtocol first).
 *   `spec.ports` is a list keyed by port and protocol (core/v1 ServiceSpec: listMapKey port,
 *   protocol), so the entry merges into the existing port instead of adding one.
 * - The persistent-session label (persistent modes) and, in ambient, the waypoint label.
 */
export function buildServicePatch(app: AppSettings, waypoint: string | undefined): K8sObject {
    const service = app.service;
    if (!service) throw new Error(`app ${app.name} is not an existing Service`);
    const labels = { ...serviceLabelsFor(app.affinity), ...(waypoint ? { [USE_WAYPOINT_LABEL]: waypoint } : {}) };
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
            name: serviceName(app),
            namespace: app.namespace,
            ...(Object.keys(labels).length ? { labels } : {}),
        },
        spec: { ports: [{ port: app.port, protocol: "TCP", appProtocol: service.appProtocol }] },
    };
}
