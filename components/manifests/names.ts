import { serviceName, type AppSettings } from "../settings/schema";
import { COMMON_LABELS } from "./types";

export function serviceHost(app: Pick<AppSettings, "name" | "namespace" | "service">): string {
    return `${serviceName(app)}.${app.namespace}.svc.cluster.local`;
}

/** The labels of the app's pods: those the package gives its own, or the existing Service's selector. */
export function podSelector(app: Pick<AppSettings, "name" | "service">): Record<string, string> {
    return app.service?.podLabels ? { ...app.service.podLabels } : { app: app.name };
}

export function appLabels(app: Pick<AppSettings, "name">): Record<string, string> {
    return { app: app.name, "app.kubernetes.io/name": app.name, ...COMMON_LABELS };
}
