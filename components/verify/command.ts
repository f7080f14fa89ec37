import { AffinityMode } from "../settings/enums";
import { CLIENT_SESSION_HEADER } from "../policy/affinity";
import type { AppSettings } from "../settings/schema";
import { VerifyMode } from "./options";

/** The verify flags that check one app's policy at `url`. */
export function verifyArgsFor(app: AppSettings, url: string): string[] {
    const a = app.affinity;
    const mode: [VerifyMode, string?][] = [];
    switch (a.mode) {
        case AffinityMode.Header:
            mode.push([VerifyMode.Header, a.headerName]);
            break;
        case AffinityMode.QueryParameter:
            mode.push([VerifyMode.Query, a.queryParameterName]);
            break;
        case AffinityMode.Cookie:
            // Without a TTL the app sets the cookie: start each session with one of its own.
            mode.push([VerifyMode.Cookie, a.cookie!.ttl === undefined ? a.cookie!.name : undefined]);
            break;
        case AffinityMode.PersistentCookie:
            mode.push([VerifyMode.Cookie]);
            break;
        case AffinityMode.PersistentHeader:
            mode.push([VerifyMode.PersistentHeader, a.headerName]);
            break;
        default:
            mode.push([VerifyMode.None]);
    }
    const [[m, key]] = mode;
    return [
        "--url",
        url,
        "--mode",
        m,
        ...(key ? ["--key", key] : []),
        // One client has one source IP: every session must stay where it started.
        ...(a.mode === AffinityMode.SourceIp ? ["--min-stickiness", "1"] : []),
        // The routing header names the pod; each session names itself to the app apart from it.
        ...(a.mode === AffinityMode.PersistentHeader ? ["--id-header", CLIENT_SESSION_HEADER] : []),
        ...Object.entries(app.match?.headers ?? {}).flatMap(([k, v]) => ["--header", `${k}:${v}`]),
    ];
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command line a person runs: `npm run verify -- …`. */
export function verifyCommand(args: readonly string[]): string {
    return ["npm", "run", "verify", "--", ...args].map(shellQuote).join(" ");
}
