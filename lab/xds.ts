/**
 * Runs the lab's xds program (istiod's config pipeline, lab/xds/main.go) over
 * cases and returns what istiod generated for each proxy.
 *
 * istiod reads its feature flags from its environment once, at start, as the
 * real istiod does; so cases are run in one process per distinct environment.
 */
import { execFileSync } from "child_process";
import { ensureXds, istioBootstrapTemplate } from "./build";
import type { XdsCase } from "./world";

/** What istiod sends one proxy (Envoy's v3 resources as protojson, field names as in the protos). */
export interface ProxyConfig {
    listeners: any[];
    clusters: any[];
    routes: any[];
    endpoints: any[];
    /** For a gateway: the Envoy bootstrap istio-agent writes for it (Istio's pkg/bootstrap and template). */
    bootstrap?: any;
    /** For a gateway: the same configuration with the lab's removals (lab/xds/strip, the live relay's code). */
    stripped?: Pick<ProxyConfig, "listeners" | "clusters" | "routes" | "endpoints">;
    /** For a gateway: how many changes each removal rule made (lab/xds/strip/removals.json ids). */
    removals?: Record<string, number>;
}

/** One object istiod's validation refused or warned about. */
export interface ValidationFinding {
    kind: string;
    name: string;
    namespace: string;
    error?: string;
    warning?: string;
}

export interface XdsResult {
    name: string;
    /** istiod's pipeline failed (a config it could not parse, ...). */
    error?: string;
    validation: ValidationFinding[];
    proxies: Record<string, ProxyConfig>;
}

/** Runs every case; results in the order of the cases. */
export function generateXds(cases: readonly XdsCase[]): XdsResult[] {
    const binary = ensureXds().path;
    const groups = new Map<string, number[]>();
    cases.forEach((c, i) => {
        const key = JSON.stringify(Object.entries(c.env).sort());
        groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const results: XdsResult[] = new Array(cases.length);
    for (const [key, indexes] of groups) {
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "/tmp",
            ...Object.fromEntries(JSON.parse(key)),
        };
        const out = execFileSync(binary, [], {
            input: JSON.stringify(indexes.map((i) => ({ ...cases[i], bootstrapTemplate: istioBootstrapTemplate() }))),
            env,
            maxBuffer: 2 * 1024 * 1024 * 1024,
            stdio: ["pipe", "pipe", "ignore"],
            timeout: 10 * 60_000,
        });
        const parsed = JSON.parse(out.toString("utf8")) as XdsResult[];
        indexes.forEach((ci, j) => (results[ci] = parsed[j]));
    }
    return results;
}
