/** The live run's figures as one table: a row per scenario and app. */
import type { LiveFigure, LiveRun } from "./run";

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function notes(f: LiveFigure): string {
    const n: string[] = [];
    if (f.expectedShare !== undefined) n.push(`1/N = ${pct(f.expectedShare)}`);
    if (f.spread !== undefined) n.push(`spread max/mean ${f.spread.toFixed(2)}`);
    if (f.killedPodSessions !== undefined) n.push(`${f.killedPodSessions} on the killed pod`);
    if (f.movedOthers !== undefined) n.push(`${f.movedOthers} others moved`);
    if (f.killedPodInEds) n.push(`its endpoint ${f.killedPodInEds === "unhealthy" ? "sent UNHEALTHY" : "left out"}`);
    if (f.returnedShare !== undefined) n.push(`${pct(f.returnedShare)} back on it`);
    const kinds = Object.entries(f.errorKinds ?? {});
    if (kinds.length) n.push(kinds.map(([k, v]) => `${v}× ${k}`).join(", "));
    return n.join("; ");
}

export function formatLiveTable(run: LiveRun): string {
    const head = ["scenario", "app", "mode", "api", "sessions", "stickiness", "moved", "failed", "notes"];
    const rows = run.scenarios.map((f) => [
        f.scenario,
        f.app,
        f.mode,
        f.api,
        String(f.sessions),
        pct(f.stickiness),
        `${f.moved} (${pct(f.movedShare)})`,
        String(f.failedRequests),
        notes(f),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) =>
        r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    const removals = Object.entries(run.relay.removals)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    return [
        `stack ${run.stack}: Istio ${run.istio}, Envoy ${run.envoy}`,
        line(head),
        ...rows.map(line),
        `relay: ${Object.values(run.relay.pushes).reduce((a, b) => a + b, 0)} pushes, ${run.relay.nacks.length} rejected, removals: ${removals || "none"}`,
    ].join("\n");
}
