import { AffinityMode } from "../../components/settings/enums";
import type { AffinityInput } from "../../components/settings/schema";
import { parseStackConfig, StackSettings, APPS_KEY, MESH_KEY } from "../../components/settings/validate";

/** One valid affinity per mode, with the options users set most. */
export const AFFINITY_BY_MODE: Record<AffinityMode, AffinityInput> = {
    [AffinityMode.Header]: { mode: AffinityMode.Header, headerName: "x-user" },
    [AffinityMode.Cookie]: { mode: AffinityMode.Cookie, cookie: { name: "sticky", ttl: "60s", attributes: [{ name: "SameSite", value: "Lax" }, { name: "HttpOnly" }] } },
    [AffinityMode.QueryParameter]: { mode: AffinityMode.QueryParameter, queryParameterName: "user", algorithm: "maglev" as any, maglevTableSize: 65537 },
    [AffinityMode.SourceIp]: { mode: AffinityMode.SourceIp, algorithm: "ringHash" as any, minimumRingSize: 2048 },
    [AffinityMode.PersistentCookie]: { mode: AffinityMode.PersistentCookie, cookie: { name: "sticky-pod" } },
    [AffinityMode.PersistentHeader]: { mode: AffinityMode.PersistentHeader, headerName: "x-session-pod" },
    [AffinityMode.None]: { mode: AffinityMode.None },
};

export const ALL_MODES = Object.values(AffinityMode);

/** A validated stack with one app per given mode; `app` adds settings to every app (or to app i). */
export function stackWith(
    modes: AffinityMode[],
    mesh: Record<string, unknown> = {},
    app: Record<string, unknown> | ((i: number) => Record<string, unknown>) = {},
): StackSettings {
    const extra = typeof app === "function" ? app : () => app;
    return parseStackConfig({
        [MESH_KEY]: mesh,
        [APPS_KEY]: modes.map((mode, i) => ({ name: `app-${i}`, affinity: AFFINITY_BY_MODE[mode], ...extra(i) })),
    }).value;
}
