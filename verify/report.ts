import type { VerifyOptions } from "./options";

/** One request as the verifier saw it. */
export interface Sample {
    session: number;
    /** The pod that answered; absent on errors. */
    pod?: string;
    /** The app's per-session counter, when it reports one. */
    count?: number | null;
    ms: number;
    /** "HTTP 502", "ECONNREFUSED", "timeout", "bad body"… */
    error?: string;
}

export interface SessionReport {
    id: string;
    requests: number;
    ok: number;
    errors: number;
    /** The pod that served the session's first successful request. */
    firstPod?: string;
    /** Share of successful requests served by the first pod. */
    stickiness: number;
    /** The pod that served most of the session's successful requests (the first reached on a tie). */
    topPod?: string;
    /** Share of the session's successful requests served by its top pod (0 without any). */
    topShare: number;
    /** Served by more than one pod. */
    moved: boolean;
    /** The app's counter rose by one on every request (null when the app reported none). */
    stateKept: boolean | null;
    pods: Record<string, number>;
}

export interface Report {
    url: string;
    mode: string;
    key?: string;
    sessions: number;
    requestsPerSession: number;
    concurrency: number;
    requests: number;
    ok: number;
    errors: number;
    errorKinds: Record<string, number>;
    durationMs: number;
    requestsPerSecond: number;
    latencyMs: { p50: number; p99: number; max: number };
    stickiness: number;
    fullySticky: number;
    movedSessions: number;
    /** Mean of topShare over the sessions with a successful request. */
    meanTopShare: number;
    stateKept: number;
    stateUnknown: number;
    /**
     * Sessions per pod (by each session's first pod; min, max and mean are of these), successful
     * requests per pod, and the largest pod's share of the successful requests.
     */
    distribution: {
        sessionsByPod: Record<string, number>;
        min: number;
        max: number;
        mean: number;
        maxOverMean: number;
        requestsByPod: Record<string, number>;
        maxRequestShare: number;
    };
    /** With --resume: the sessions whose top pod differs from the saved run's. */
    comparison?: RunComparison;
    /** True when the run stopped at --max-seconds before every request was sent. */
    truncated: boolean;
    minStickiness: number;
    pass: boolean;
    perSession: SessionReport[];
}

/** How many sessions changed their top pod between two runs. */
export interface RunComparison {
    /** Sessions in both runs with a top pod in both. */
    sessions: number;
    /** Of those, the ones on another top pod than before. */
    moved: number;
    /** moved / sessions (0 when none were compared). */
    movedShare: number;
    /** The ids of the moved sessions, the first MAX_MOVED_IDS of them. */
    movedSessions: string[];
}

export const MAX_MOVED_IDS = 50;

/**
 * Compares two runs of the same sessions by id: a session that has a top pod in both
 * counts, and moved when the pods differ. Sessions in one run only, or without a top
 * pod in either (nothing answered), are left out.
 */
export function compareRuns(
    before: readonly { id: string; topPod?: string }[],
    after: readonly { id: string; topPod?: string }[],
): RunComparison {
    const was = new Map<string, string>();
    for (const s of before) if (s.topPod !== undefined) was.set(s.id, s.topPod);
    const seen = new Set<string>();
    const moved: string[] = [];
    for (const s of after) {
        const pod = was.get(s.id);
        if (pod === undefined || s.topPod === undefined || seen.has(s.id)) continue;
        seen.add(s.id);
        if (pod !== s.topPod) moved.push(s.id);
    }
    return {
        sessions: seen.size,
        moved: moved.length,
        movedShare: seen.size ? moved.length / seen.size : 0,
        movedSessions: moved.slice(0, MAX_MOVED_IDS),
    };
}

export function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return 0;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
}

function sessionReport(id: string, samples: readonly Sample[]): SessionReport {
    const ok = samples.filter((s) => s.pod !== undefined);
    const firstPod = ok[0]?.pod;
    const pods: Record<string, number> = {};
    for (const s of ok) pods[s.pod!] = (pods[s.pod!] ?? 0) + 1;
    const counts = ok.map((s) => s.count);
    const stateKept =
        counts.length === 0 || counts.some((c) => typeof c !== "number")
            ? null
            : counts.every((c, i) => i === 0 || c === (counts[i - 1] as number) + 1);
    // Object keys keep the order pods were first reached, so a tie goes to the earlier one.
    const topPod = Object.keys(pods).reduce<string | undefined>(
        (top, p) => (top === undefined || pods[p] > pods[top] ? p : top),
        undefined,
    );
    return {
        id,
        requests: samples.length,
        ok: ok.length,
        errors: samples.length - ok.length,
        firstPod,
        stickiness: ok.length ? (firstPod ? pods[firstPod] : 0) / ok.length : 0,
        topPod,
        topShare: topPod ? pods[topPod] / ok.length : 0,
        moved: Object.keys(pods).length > 1,
        stateKept,
        pods,
    };
}

/**
 * Turns what the verifier saw into the report; pure, so it is tested on its own. With
 * `before` (the sessions of a saved run), the report compares each session's top pod.
 */
export function buildReport(
    opts: VerifyOptions,
    sessionIds: readonly string[],
    samples: readonly Sample[],
    durationMs: number,
    before?: readonly { id: string; topPod?: string }[],
): Report {
    const bySession = sessionIds.map((id, i) =>
        sessionReport(
            id,
            samples.filter((s) => s.session === i),
        ),
    );
    const ok = samples.filter((s) => s.pod !== undefined);
    const errorKinds: Record<string, number> = {};
    for (const s of samples) if (s.error) errorKinds[s.error] = (errorKinds[s.error] ?? 0) + 1;
    const onFirst = bySession.reduce((n, s) => n + (s.firstPod ? s.pods[s.firstPod] : 0), 0);
    const sessionsByPod: Record<string, number> = {};
    for (const pod of new Set(ok.map((s) => s.pod!))) sessionsByPod[pod] = 0;
    for (const s of bySession) if (s.firstPod) sessionsByPod[s.firstPod] += 1;
    const requestsByPod: Record<string, number> = Object.fromEntries(Object.keys(sessionsByPod).map((p) => [p, 0]));
    for (const s of ok) requestsByPod[s.pod!] += 1;
    const answered = bySession.filter((s) => s.ok > 0);
    const perPod = Object.values(sessionsByPod);
    const mean = perPod.length ? perPod.reduce((a, b) => a + b, 0) / perPod.length : 0;
    const latencies = ok.map((s) => s.ms).sort((a, b) => a - b);
    const stickiness = ok.length ? onFirst / ok.length : 0;
    return {
        url: opts.url,
        mode: opts.mode,
        key: opts.key,
        sessions: opts.sessions,
        requestsPerSession: opts.requests,
        concurrency: opts.concurrency,
        requests: samples.length,
        ok: ok.length,
        errors: samples.length - ok.length,
        errorKinds,
        durationMs,
        requestsPerSecond: durationMs > 0 ? (samples.length * 1000) / durationMs : 0,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
        stickiness,
        fullySticky: bySession.filter((s) => s.ok > 0 && !s.moved).length,
        movedSessions: bySession.filter((s) => s.moved).length,
        meanTopShare: answered.length ? answered.reduce((a, s) => a + s.topShare, 0) / answered.length : 0,
        stateKept: bySession.filter((s) => s.stateKept === true).length,
        stateUnknown: bySession.filter((s) => s.stateKept === null).length,
        distribution: {
            sessionsByPod,
            min: perPod.length ? Math.min(...perPod) : 0,
            max: perPod.length ? Math.max(...perPod) : 0,
            mean,
            maxOverMean: mean > 0 ? Math.max(...perPod) / mean : 0,
            requestsByPod,
            maxRequestShare: ok.length ? Math.max(...Object.values(requestsByPod)) / ok.length : 0,
        },
        ...(before ? { comparison: compareRuns(before, bySession) } : {}),
        truncated: samples.length < opts.sessions * opts.requests,
        minStickiness: opts.minStickiness,
        pass: ok.length > 0 && stickiness >= opts.minStickiness,
        perSession: bySession,
    };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

function comparisonRows(c: RunComparison, sessions: number): [string, string][] {
    const rows: [string, string][] = [
        [
            "moved",
            `${c.moved}/${c.sessions} sessions (${pct(c.movedShare)}) on another pod than in the saved run` +
                (c.sessions < sessions ? `; ${sessions - c.sessions} not compared (no pod in one of the runs)` : ""),
        ],
    ];
    if (c.moved)
        rows.push([
            "",
            `moved: ${c.movedSessions.slice(0, 10).join(", ")}${c.moved > 10 ? `, … (${c.moved - 10} more)` : ""}`,
        ]);
    return rows;
}

/** The report as a readable table. */
export function formatReport(r: Report): string {
    const rows: [string, string][] = [
        [
            "target",
            `${r.url} — mode ${r.mode}${r.key ? ` (${r.key})` : ""}, ${r.sessions} sessions × ${r.requestsPerSession} requests, concurrency ${r.concurrency}`,
        ],
        [
            "requests",
            `${r.requests} sent, ${r.ok} ok, ${r.errors} errors${
                r.errors
                    ? ` (${Object.entries(r.errorKinds)
                          .map(([k, n]) => `${k}: ${n}`)
                          .join(", ")})`
                    : ""
            } ` +
                `in ${(r.durationMs / 1000).toFixed(2)} s = ${r.requestsPerSecond.toFixed(0)} req/s${r.truncated ? " (stopped at --max-seconds)" : ""}`,
        ],
        ["latency", `p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`],
        [
            "stickiness",
            `${pct(r.stickiness)} of requests on their session's first pod; ${r.fullySticky}/${r.sessions} sessions fully sticky, ${r.movedSessions} moved; ` +
                `${pct(r.meanTopShare)} on a session's top pod on average`,
        ],
        [
            "state",
            r.stateUnknown === r.sessions
                ? "not reported by the app"
                : `counter rose by one on every request in ${r.stateKept}/${r.sessions} sessions`,
        ],
        [
            "pods",
            `${
                Object.entries(r.distribution.sessionsByPod)
                    .map(([p, n]) => `${p}: ${n}`)
                    .join(", ") || "none answered"
            }` +
                (Object.keys(r.distribution.sessionsByPod).length
                    ? ` (sessions per pod: min ${r.distribution.min}, max ${r.distribution.max}, mean ${r.distribution.mean.toFixed(1)}, max/mean ${r.distribution.maxOverMean.toFixed(2)})`
                    : ""),
        ],
        ...(Object.keys(r.distribution.requestsByPod).length
            ? [
                  [
                      "",
                      `requests per pod: ${Object.entries(r.distribution.requestsByPod)
                          .map(([p, n]) => `${p}: ${n} (${pct(r.ok ? n / r.ok : 0)})`)
                          .join(", ")}; largest share ${pct(r.distribution.maxRequestShare)}`,
                  ] as [string, string],
              ]
            : []),
        ...(r.comparison ? comparisonRows(r.comparison, r.sessions) : []),
        [
            "result",
            `${r.pass ? "PASS" : "FAIL"}: ${pct(r.stickiness)} ${r.pass ? "≥" : "<"} ${pct(r.minStickiness)} required${r.ok === 0 ? " (no request succeeded)" : ""}`,
        ],
    ];
    const worst = r.perSession
        .filter((s) => s.moved || s.errors > 0)
        .sort((a, b) => a.stickiness - b.stickiness)
        .slice(0, 10);
    const lines = rows.map(([k, v]) => `${k.padEnd(11)}${v}`);
    if (worst.length) {
        lines.push(
            "",
            `${"session".padEnd(14)}${"first pod".padEnd(22)}${"sticky".padStart(8)}${"errors".padStart(8)}  pods`,
        );
        for (const s of worst) {
            lines.push(
                `${s.id.padEnd(14)}${(s.firstPod ?? "-").padEnd(22)}${pct(s.stickiness).padStart(8)}${String(s.errors).padStart(8)}  ${Object.entries(
                    s.pods,
                )
                    .map(([p, n]) => `${p}×${n}`)
                    .join(" ")}`,
            );
        }
    }
    return lines.join("\n") + "\n";
}
