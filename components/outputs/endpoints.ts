import { AffinityMode, TlsIssuer } from "../settings/enums";
import { podPort, type AffinitySettings, type AppSettings, type TlsSettings } from "../settings/schema";
import { ORIGINAL_DST_HEADER } from "../settings/wellKnown";
import { CLIENT_SESSION_HEADER, describeAffinity } from "../policy/affinity";
import { serviceHost } from "../manifests/names";
import type { IngressAddress } from "./ingress";
import type { PodAddress } from "./pods";
import { verifyArgsFor, verifyCommand } from "./verifyArgs";

/**
 * A shell loop that shows stickiness against `url`: ten requests of one session,
 * printing the pod that answered each.
 */
export function stickinessProbe(a: AffinitySettings, url: string): string {
    const loop = (curl: string) => `for i in $(seq 1 10); do ${curl} | jq -r '.pod + " count=" + (.count|tostring)'; done`;
    switch (a.mode) {
        case AffinityMode.Header:
            return loop(`curl -s -H '${a.headerName}: alice' '${url}'`);
        case AffinityMode.QueryParameter:
            return loop(`curl -s '${url}?${a.queryParameterName}=alice'`);
        case AffinityMode.Cookie:
            return a.cookie!.ttl !== undefined
                ? `rm -f /tmp/sticky.jar; ${loop(`curl -s -b /tmp/sticky.jar -c /tmp/sticky.jar '${url}'`)}`
                : loop(`curl -s -b '${a.cookie!.name}=alice' '${url}'`);
        case AffinityMode.PersistentCookie:
            return `rm -f /tmp/sticky.jar; ${loop(`curl -s -b /tmp/sticky.jar -c /tmp/sticky.jar '${url}'`)}`;
        case AffinityMode.PersistentHeader:
            return (
                `h=$(curl -s -D - -o /dev/null '${url}' | awk -F': ' 'tolower($1)=="${a.headerName}" {print $2}' | tr -d '\\r'); ` +
                loop(`curl -s -H "${a.headerName}: $h" -H '${CLIENT_SESSION_HEADER}: alice' '${url}'`)
            );
        default:
            return loop(`curl -s '${url}'`);
    }
}

/** The headers of a request that goes through the ingress to this very pod: the app's routing headers, the opt-in and the pod's address. */
export function directHeaders(app: AppSettings, pod: Pick<PodAddress, "ip">): Record<string, string> {
    return { ...(app.match?.headers ?? {}), [app.direct.header]: "true", [ORIGINAL_DST_HEADER]: `${pod.ip}:${podPort(app)}` };
}

/** A curl that sends one request through the ingress to this very pod. */
export function directCurl(app: AppSettings, pod: PodAddress, url: string): string {
    const headers = Object.entries(directHeaders(app, pod))
        .map(([k, v]) => `-H '${k}: ${v}' `)
        .join("");
    return `curl -s ${headers}'${url}'`;
}

/** What a stack exports for one app. */
export interface AppEndpoint {
    namespace: string;
    serviceHost: string;
    path: string;
    affinity: string;
    /** The app's URL through the ingress, when the ingress has one address. */
    url?: string;
    /** A shell loop that shows which pod serves each request of one session. */
    probe: string;
    /** The ready pods after the rollout (a snapshot from `pulumi up` / `pulumi refresh`). */
    pods: PodAddress[];
    /** With direct routing: one curl per pod that reaches exactly that pod through the ingress. */
    directCurls?: string[];
    /** `npx istio-sticky-verify@<version> …` that measures this app's stickiness through the ingress. */
    verify: string;
    /** The same as flags, for verify's library function or a script. */
    verifyArgs: string[];
}

/** One app's exported endpoint, from its settings, the ingress address and its ready pods. */
export function appEndpoint(app: AppSettings, tls: TlsSettings, ingress: IngressAddress, pods: PodAddress[]): AppEndpoint {
    // An app served on hosts of its own is reached by one of them, and behind an HTTPS redirect clients
    // name the certificate's host (each resolved to the ingress address).
    const own = app.hosts?.find((h) => !h.startsWith("*"));
    const base = tls.enabled && tls.httpsRedirect ? `https://${own ?? tls.hosts[0]}` : own ? `http://${own}` : (ingress.url ?? "http://$INGRESS");
    const url = `${base}${app.path === "/" ? "/" : `${app.path}/`}`;
    // A self-signed certificate is not in any trust store: verify must skip the check.
    const verifyArgs = [...verifyArgsFor(app, url), ...(tls.enabled && tls.issuer === TlsIssuer.SelfSigned ? ["--insecure"] : [])];
    return {
        namespace: app.namespace,
        serviceHost: serviceHost(app),
        path: app.path,
        affinity: describeAffinity(app.affinity),
        ...(ingress.url ? { url } : {}),
        probe: stickinessProbe(app.affinity, url),
        pods,
        ...(app.direct.enabled ? { directCurls: pods.map((pod) => directCurl(app, pod, url)) } : {}),
        verify: verifyCommand(verifyArgs),
        verifyArgs,
    };
}
