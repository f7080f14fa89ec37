import { AffinityMode } from "../settings/enums";
import { CLIENT_SESSION_HEADER } from "../policy/affinity";
import type { AppSettings } from "../settings/schema";
import { VERIFY_TOOL } from "../settings/versions";
import { POD_HEADER } from "../settings/wellKnown";
import { shellLine } from "./shell";

/**
 * The verify tool's --mode for each policy. The tool is a separate entry the
 * components do not import; a test parses every flag list built here with it.
 */
const VERIFY_MODE: Record<AffinityMode, string> = {
    [AffinityMode.Header]: "header",
    [AffinityMode.QueryParameter]: "query",
    [AffinityMode.Cookie]: "cookie",
    [AffinityMode.PersistentCookie]: "cookie",
    [AffinityMode.PersistentHeader]: "persistent-header",
    [AffinityMode.SourceIp]: "none",
    [AffinityMode.None]: "none",
};

function verifyKey(app: AppSettings): string | undefined {
    const a = app.affinity;
    switch (a.mode) {
        case AffinityMode.Header:
        case AffinityMode.PersistentHeader:
            return a.headerName;
        case AffinityMode.QueryParameter:
            return a.queryParameterName;
        case AffinityMode.Cookie:
            // Without a TTL the app sets the cookie: start each session with one of its own.
            return a.cookie!.ttl === undefined ? a.cookie!.name : undefined;
        default:
            return undefined;
    }
}

/** The verify flags that check one app's policy at `url`. */
export function verifyArgsFor(app: AppSettings, url: string): string[] {
    const a = app.affinity;
    const key = verifyKey(app);
    return [
        "--url",
        url,
        "--mode",
        VERIFY_MODE[a.mode],
        ...(key ? ["--key", key] : []),
        // One client has one source IP: every session must stay where it started.
        ...(a.mode === AffinityMode.SourceIp ? ["--min-stickiness", "1"] : []),
        // The routing header names the pod; each session names itself to the app apart from it.
        ...(a.mode === AffinityMode.PersistentHeader ? ["--id-header", CLIENT_SESSION_HEADER] : []),
        ...Object.entries(app.match?.headers ?? {}).flatMap(([k, v]) => ["--header", `${k}:${v}`]),
        // An existing Service runs its own app: the route names the pod in a response header.
        ...(app.service?.podHeader ? ["--pod-header", POD_HEADER] : []),
    ];
}

/** The command line a person runs where the package is installed: `npx istio-sticky-verify …`. */
export function verifyCommand(args: readonly string[]): string {
    return shellLine(["npx", VERIFY_TOOL, ...args]);
}
