import { AffinityMode, TlsIssuer } from "../settings/enums";
import { podPort, type AffinitySettings, type AppSettings, type TlsSettings } from "../settings/schema";
import { ORIGINAL_DST_HEADER } from "../settings/wellKnown";
import { CLIENT_SESSION_HEADER, describeAffinity } from "../policy/affinity";
import { serviceHost } from "../manifests/names";
import type { IngressAddress } from "./ingress";
import type { PodAddress } from "./pods";
import { verifyArgsFor, verifyCommand } from "./verifyArgs";
import { INGRESS_VARIABLE, shellLine, shellWord } from "./shell";

/**
 * A shell loop that shows stickiness against `url`: ten requests of one session,
 * printing the pod that answered each.
 */
export function stickinessProbe(a: AffinitySettings, url: string, insecure = false): string {
    const loop = (curl: string) =>
        `for i in $(seq 1 10); do ${curl} | jq -r '.pod + " count=" + (.count|tostring)'; done`;
    // A self-signed certificate is in no trust store: curl -k, as verify --insecure.
    const curl = insecure ? "curl -sk" : "curl -s";
    const u = shellWord(url);
    switch (a.mode) {
        case AffinityMode.Header:
            return loop(`${curl} -H ${shellWord(`${a.headerName}: alice`)} ${u}`);
        case AffinityMode.QueryParameter:
            return loop(`${curl} ${shellWord(`${url}?${a.queryParameterName}=alice`)}`);
        case AffinityMode.Cookie:
            return a.cookie!.ttl !== undefined
                ? `rm -f /tmp/sticky.jar; ${loop(`${curl} -b /tmp/sticky.jar -c /tmp/sticky.jar ${u}`)}`
                : loop(`${curl} -b ${shellWord(`${a.cookie!.name}=alice`)} ${u}`);
        case AffinityMode.PersistentCookie:
            return `rm -f /tmp/sticky.jar; ${loop(`${curl} -b /tmp/sticky.jar -c /tmp/sticky.jar ${u}`)}`;
        case AffinityMode.PersistentHeader:
            return (
                `h=$(${curl} -D - -o /dev/null ${u} | awk -F': ' -v name=${shellWord(a.headerName!)} 'tolower($1)==name {print $2}' | tr -d '\\r'); ` +
                loop(
                    `${curl} -H ${shellWord(`${a.headerName}: `)}"$h" -H ${shellWord(`${CLIENT_SESSION_HEADER}: alice`)} ${u}`,
                )
            );
        default:
            return loop(`${curl} ${u}`);
    }
}

/** The headers of a request that goes through the ingress to this very pod: the app's routing headers, the opt-in and the pod's address. */
export function directHeaders(app: AppSettings, pod: Pick<PodAddress, "ip">): Record<string, string> {
    return {
        ...(app.match?.headers ?? {}),
        [app.direct.header]: "true",
        [ORIGINAL_DST_HEADER]: `${pod.ip}:${podPort(app)}`,
    };
}

/** A curl that sends one request through the ingress to this very pod. */
export function directCurl(app: AppSettings, pod: PodAddress, url: string, insecure = false): string {
    return shellLine([
        "curl",
        insecure ? "-sk" : "-s",
        ...Object.entries(directHeaders(app, pod)).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
        url,
    ]);
}

/** What a stack exports for one app. */
export interface AppEndpoint {
    namespace: string;
    serviceHost: string;
    path: string;
    affinity: string;
    /** The app's URL through the ingress, when the ingress has one address (else the commands start it with $INGRESS, the base URL you set). */
    url?: string;
    /** A shell loop that shows which pod serves each request of one session. */
    probe: string;
    /** The ready pods after the rollout (a snapshot from `pulumi up` / `pulumi refresh`). */
    pods: PodAddress[];
    /** With direct routing: one curl per pod that reaches exactly that pod through the ingress. */
    directCurls?: string[];
    /** `npx istio-sticky-verify …` that measures this app's stickiness through the ingress (with "$INGRESS…" when the ingress has no single address). */
    verify: string;
    /** The same as flags, for verify's library function or a script. */
    verifyArgs: string[];
}

/** One app's exported endpoint, from its settings, the ingress address and its ready pods. */
export function appEndpoint(
    app: AppSettings,
    tls: TlsSettings,
    ingress: IngressAddress,
    pods: PodAddress[],
): AppEndpoint {
    // An app served on hosts of its own is reached by one of them, and behind an HTTPS redirect clients
    // name the certificate's host (each resolved to the ingress address).
    const own = app.hosts?.find((h) => !h.startsWith("*"));
    const base =
        tls.enabled && tls.httpsRedirect
            ? `https://${own ?? tls.hosts[0]}`
            : own
              ? `http://${own}`
              : (ingress.url ?? INGRESS_VARIABLE);
    const url = `${base}${app.path === "/" ? "/" : `${app.path}/`}`;
    // A self-signed certificate is not in any trust store: verify must skip the check.
    const insecure = tls.enabled && tls.issuer === TlsIssuer.SelfSigned;
    const verifyArgs = [...verifyArgsFor(app, url), ...(insecure ? ["--insecure"] : [])];
    return {
        namespace: app.namespace,
        serviceHost: serviceHost(app),
        path: app.path,
        affinity: describeAffinity(app.affinity),
        ...(ingress.url ? { url } : {}),
        probe: stickinessProbe(app.affinity, url, insecure),
        pods,
        ...(app.direct.enabled ? { directCurls: pods.map((pod) => directCurl(app, pod, url, insecure)) } : {}),
        verify: verifyCommand(verifyArgs),
        verifyArgs,
    };
}
