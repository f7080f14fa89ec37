/**
 * What the live runs deploy besides a stack's own apps: one demo app per affinity mode, three
 * pods each, in a namespace of their own, so every mode is measured on the stack's ingress API.
 * And the pod program that runs the demo app for each of their pods (lab/cluster/podProcesses.ts),
 * on the pod's IP, with its readiness written back as a kubelet would.
 */
import { DEMO_APP_IMAGE } from "istio-sticky/plan";
import { imageName, type PodProgram } from "../cluster/podProcesses";

export const LIVE_NAMESPACE = "live";
export const LIVE_REPLICAS = 3;

/** Each mode's app: name, path and affinity, as a stack file writes them. */
export const LIVE_MODES: { mode: string; affinity: Record<string, unknown> }[] = [
    { mode: "header", affinity: { mode: "header", headerName: "x-user" } },
    { mode: "cookie", affinity: { mode: "cookie", cookie: { name: "live-cookie", ttl: "60s" } } },
    { mode: "queryParameter", affinity: { mode: "queryParameter", queryParameterName: "user" } },
    { mode: "sourceIp", affinity: { mode: "sourceIp" } },
    { mode: "persistentCookie", affinity: { mode: "persistentCookie", cookie: { name: "live-pod" } } },
    { mode: "persistentHeader", affinity: { mode: "persistentHeader", headerName: "x-session-pod" } },
    { mode: "none", affinity: { mode: "none" } },
];

/** The app name for a mode: "live-header", "live-persistentcookie", … */
export const liveAppName = (mode: string) => `live-${mode.toLowerCase()}`;

/** The live apps as stack config entries, with `replicas` and affinity changed by `edit` where given. */
export function liveApps(
    edit: (mode: string, app: Record<string, unknown>) => Record<string, unknown> = (_m, a) => a,
): Record<string, unknown>[] {
    return LIVE_MODES.map(({ mode, affinity }) =>
        edit(mode, {
            name: liveAppName(mode),
            namespace: LIVE_NAMESPACE,
            path: `/${liveAppName(mode)}`,
            replicas: LIVE_REPLICAS,
            affinity,
        }),
    );
}

/** The stack's config with the live apps added to its own. */
export function withLiveApps(
    config: Record<string, unknown>,
    apps: Record<string, unknown>[] = liveApps(),
): Record<string, unknown> {
    return { ...config, "istio-sticky:apps": [...((config["istio-sticky:apps"] ?? []) as object[]), ...apps] };
}

/** The images whose pods' readiness the live runs' kubelet stand-in probes (ClusterOptions.probedImages). */
export const PROBED_IMAGES = [DEMO_APP_IMAGE];

/**
 * The demo app (the package's image is node:22-alpine, its script mounted from the ConfigMap at
 * /app) as this machine's Node.js, one process per pod, listening on the pod's IP only.
 */
export function demoAppPodProgram(): PodProgram {
    return {
        bin: process.execPath,
        image: new RegExp(`^${imageName(DEMO_APP_IMAGE).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
        perPod: true,
        env: (ctx) => ({ HOST: ctx.pod.status?.podIP }),
    };
}
