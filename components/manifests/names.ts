import type { AppSettings } from "../settings/schema";
import { COMMON_LABELS } from "./types";

export function serviceHost(app: Pick<AppSettings, "name" | "namespace">): string {
    return `${app.name}.${app.namespace}.svc.cluster.local`;
}

export function appLabels(app: Pick<AppSettings, "name">): Record<string, string> {
    return { app: app.name, "app.kubernetes.io/name": app.name, ...COMMON_LABELS };
}
