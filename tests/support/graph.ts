import type { Registered } from "./mocks";

/** Resources a deploy waits on until they are ready (Helm's --wait, Pulumi's rollout and endpoint awaits). */
export const WAITING_TYPES = new Set([
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Service",
]);

/**
 * The longest chain of waits through the dependency graph: how many readiness
 * waits a deploy must take one after another.
 */
export function sequentialWaits(resources: readonly Registered[]): { waits: number; chain: string[] } {
    const byName = new Map(resources.map((r) => [r.name, r]));
    const memo = new Map<string, { waits: number; chain: string[] }>();
    const visit = (name: string): { waits: number; chain: string[] } => {
        const known = memo.get(name);
        if (known) return known;
        const r = byName.get(name);
        let best = { waits: 0, chain: [] as string[] };
        for (const dep of r?.dependsOn ?? []) {
            const d = visit(dep);
            if (d.waits > best.waits) best = d;
        }
        const self = r && WAITING_TYPES.has(r.type) ? 1 : 0;
        const result = { waits: best.waits + self, chain: self ? [...best.chain, name] : best.chain };
        memo.set(name, result);
        return result;
    };
    return resources.map((r) => visit(r.name)).reduce((a, b) => (b.waits > a.waits ? b : a), { waits: 0, chain: [] });
}
