import type { AppSettings } from "../settings/schema";
import { ORIGINAL_DST_HEADER } from "../settings/schema";

export interface PodAddress {
    name: string;
    ip: string;
}

/** The part of a v1 Endpoints object the pod list is read from. */
export interface EndpointsView {
    subsets?: { addresses?: { ip?: string; targetRef?: { kind?: string; name?: string } }[] }[];
}

/** The ready pods behind a Service, by name. Not-ready addresses are left out: direct requests to them would fail. */
export function podsFromEndpoints(ep: EndpointsView | undefined): PodAddress[] {
    const pods = new Map<string, PodAddress>();
    for (const subset of ep?.subsets ?? []) {
        for (const a of subset.addresses ?? []) {
            if (a.ip) pods.set(a.ip, { name: a.targetRef?.kind === "Pod" && a.targetRef.name ? a.targetRef.name : a.ip, ip: a.ip });
        }
    }
    return [...pods.values()].sort((x, y) => x.name.localeCompare(y.name));
}

/** A curl that sends one request through the ingress to this very pod. */
export function directCurl(app: AppSettings, pod: PodAddress, url: string): string {
    const match = Object.entries(app.match?.headers ?? {}).map(([k, v]) => `-H '${k}: ${v}' `).join("");
    return `curl -s ${match}-H '${app.direct.header}: true' -H '${ORIGINAL_DST_HEADER}: ${pod.ip}:${app.port}' '${url}'`;
}
