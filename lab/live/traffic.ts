/**
 * Traffic through the live gateway, measured by verify (istio-sticky/verify) exactly as a user runs
 * it, with the flags the stack exports for each app (`apps.<name>.verifyArgs`), its URL pointed at
 * the gateway pod's IP (where the load balancer would send it). Sessions carry from one run to the
 * next through verify's saved state (--save / --resume), so a session is the same user throughout.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareRuns, parseVerifyArgs, verifyStickiness, type Report } from "istio-sticky/verify";

export interface LiveApp {
    name: string;
    /** The affinity mode as the stack writes it ("header", "persistentCookie", …). */
    mode: string;
    /** verify's flags for this app through the live gateway. */
    args: string[];
}

export const SESSIONS = 40;
/** One source address per session: local inside the harness's network namespace (the pod CIDR's top). */
export const SOURCE_ADDRESSES = "10.244.0.200-10.244.0.239";

/** verify's flags from the stack's export, aimed at the live gateway (`base`: http://<gateway pod IP>). */
export function liveVerifyArgs(exported: string[], base: string): string[] {
    const args = [...exported];
    const i = args.indexOf("--url");
    const url = new URL(args[i + 1].replace(/^\$INGRESS/, "http://ingress.invalid"));
    args[i + 1] = `${base}${url.pathname}${url.search}`;
    // Every session from an address of its own, as users come: source-IP hashing needs it, and so does
    // a cookie Envoy makes, whose value it derives from the connection's address.
    return [...args, "--source-addresses", SOURCE_ADDRESSES];
}

/** What one app's sessions did across a step. */
export interface Measured {
    app: LiveApp;
    before: Report;
    after: Report;
    /** Requests that failed while the step ran, and in the run after it. */
    failedRequests: number;
    errorKinds: Record<string, number>;
    /** Sessions whose top pod after the step differs from before it. */
    moved: number;
    compared: number;
    /** Rounds of one request per session sent while the step ran. */
    rounds: number;
    /** verify's saved sessions after the step: where the next step can continue them. */
    endFile: string;
}

/** A folder for the saved sessions of a live run. */
export function stateDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "sticky-live-sessions-"));
}

async function run(app: LiveApp, extra: string[]): Promise<Report> {
    const opts = parseVerifyArgs([...app.args, "--concurrency", "10", "--timeout-ms", "3000", ...extra]);
    return verifyStickiness({ ...opts, minStickiness: 0 });
}

/**
 * Starts every app's sessions (3 requests each, saved), then sends one request per session per round
 * while `step` runs (at most `maxRounds` rounds), then 3 more per session once it is done. Moved: the
 * top pod after against before; failed: every request that did not answer 2xx from a pod, during the
 * step and after it.
 */
export async function acrossStep(
    apps: LiveApp[],
    dir: string,
    label: string,
    step: () => Promise<void>,
    opts: { maxRounds?: number; from?: Measured[] } = {},
): Promise<Measured[]> {
    const file = (app: LiveApp, n: string) => path.join(dir, `${app.name}-${label}-${n}.json`);
    // Fresh sessions, or the sessions a previous step ended with.
    const start = (a: LiveApp) => {
        const prev = opts.from?.find((m) => m.app.name === a.name);
        return prev ? ["--resume", prev.endFile] : ["--sessions", String(SESSIONS)];
    };
    const before = await Promise.all(apps.map((a) => run(a, [...start(a), "--requests", "3", "--save", file(a, "0")])));
    let done = false;
    let failure: unknown;
    const stepDone = step()
        .catch((e) => (failure = e))
        .finally(() => (done = true));
    const failed = apps.map(() => ({ n: 0, kinds: {} as Record<string, number> }));
    const count = (i: number, r: Report) => {
        failed[i].n += r.errors;
        for (const [k, v] of Object.entries(r.errorKinds)) failed[i].kinds[k] = (failed[i].kinds[k] ?? 0) + v;
    };
    let rounds = 0;
    const maxRounds = opts.maxRounds ?? 2000;
    while (!done && rounds < maxRounds) {
        const reports = await Promise.all(
            apps.map((a) =>
                run(a, ["--requests", "1", "--resume", file(a, String(rounds)), "--save", file(a, String(rounds + 1))]),
            ),
        );
        reports.forEach((r, i) => count(i, r));
        rounds++;
    }
    await stepDone;
    if (failure) throw failure;
    const after = await Promise.all(
        apps.map((a) => run(a, ["--requests", "3", "--resume", file(a, String(rounds)), "--save", file(a, "end")])),
    );
    after.forEach((r, i) => count(i, r));
    return apps.map((app, i) => {
        const c = compareRuns(before[i].perSession, after[i].perSession);
        return {
            app,
            before: before[i],
            after: after[i],
            failedRequests: failed[i].n,
            errorKinds: failed[i].kinds,
            moved: c.moved,
            compared: c.sessions,
            rounds,
            endFile: file(app, "end"),
        };
    });
}
