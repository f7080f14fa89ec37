/**
 * `npm run bench`: how long building a stack takes, under Pulumi mocks and
 * through render, for the dev stack and for 20 apps; how it grows with the
 * number of apps; and how many readiness waits a deploy takes one after another.
 * Prints figures against the targets; it asserts nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackSettings } from "../components/settings/validate";
import { buildPlan } from "../components/plan/stack";
import { planDocuments, toYaml } from "../components/plan/render";
import { demoAppSource } from "../components/registration/demoAppScript";
import { StickySessions } from "../components/StickySessions";
import { PROJECT_DIR, readStackConfig } from "../cli/stackFiles";
import { installMocks, Recorder, valueOf } from "./support/mocks";
import { sequentialWaits } from "./support/graph";
import { ALL_MODES, stackWith } from "./support/fixtures";
import { startDemoApp } from "./support/demoApp";
import { startNginx } from "./support/proxies";
import { verifyStickiness } from "../verify/run";
import { parseVerifyOptions } from "../verify/options";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Direct routing and autoscaling, switched on for every app of the largest stack. */
const EVERYTHING = { direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["gateway", "sidecar"] }, autoscaling: { minReplicas: 2, maxReplicas: 6 } };

/** The dev stack's mesh with `apps` apps, cycling through every affinity mode. */
function stackOf(apps: number, extra: Record<string, unknown> = {}): StackSettings {
    const devMesh = readStackConfig(PROJECT_DIR, "dev")["istio-sticky:mesh"] as Record<string, unknown>;
    return stackWith(
        Array.from({ length: apps }, (_, i) => ALL_MODES[i % ALL_MODES.length]),
        devMesh,
        extra,
    );
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

async function timeIt(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        const t = process.hrtime.bigint();
        await fn();
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return median(times);
}

const rec = new Recorder();
let round = 0;

/** Builds the stack under mocks and waits until every resource of it is registered. */
async function underMocks(stack: StackSettings, expected?: number): Promise<number> {
    rec.reset();
    const sticky = new StickySessions(`s${round++}`, { mesh: stack.mesh, apps: stack.apps });
    await valueOf(pulumi.all([sticky.endpoints, sticky.meshRequirements]));
    for (let i = 0; i < 10_000 && expected !== undefined && rec.resources.length < expected; i++) await new Promise((r) => setImmediate(r));
    return rec.resources.length;
}

function throughRender(stack: StackSettings): string {
    return toYaml(planDocuments(buildPlan(stack, { demoAppSource: demoAppSource() })));
}

async function main() {
    await installMocks(rec, { gatewayService: { type: "NodePort" } });
    pulumi.log.warn = async () => {}; // warnings are not what is measured here
    const dev = parseStackConfig(readStackConfig(PROJECT_DIR, "dev")).value;
    const sizes = [1, 5, 10, 20];
    const rows: [string, number, number][] = [];
    const counts = new Map<StackSettings, number>();
    const stacks: [string, StackSettings][] = [
        ["dev", dev],
        ...sizes.map((n) => [`${n} apps`, stackOf(n)] as [string, StackSettings]),
        ["20 apps+", stackOf(20, EVERYTHING)],
    ];
    for (const [label, stack] of stacks) {
        counts.set(stack, await underMocks(stack)); // warm-up, and the number of resources to wait for
        const mocks = await timeIt(7, () => underMocks(stack, counts.get(stack)));
        const render = await timeIt(10, () => throughRender(stack));
        rows.push([label, mocks, render]);
    }
    const twenty = [...counts.keys()].at(-1)!;
    await underMocks(twenty, counts.get(twenty));
    const { waits, chain } = sequentialWaits(rec.resources);

    const fmt = (ms: number) => `${ms.toFixed(1).padStart(8)} ms`;
    console.log(`istio-sticky bench (node ${process.version}, median of runs)\n`);
    console.log("(20 apps+: direct routing for gateway and sidecars, and autoscaling, on every app)\n");
    console.log(`${"stack".padEnd(10)}${"under mocks".padStart(14)}${"render".padStart(14)}`);
    for (const [label, m, r] of rows) console.log(`${label.padEnd(10)}${fmt(m).padStart(14)}${fmt(r).padStart(14)}`);
    const byLabel = Object.fromEntries(rows.map(([l, m, r]) => [l, { m, r }]));
    const perApp = (byLabel["20 apps"].m - byLabel["1 apps"].m) / 19;
    const ratio = (((byLabel["20 apps"].m - byLabel["10 apps"].m) / Math.max(byLabel["10 apps"].m - byLabel["1 apps"].m, 1e-9)) * 9) / 10;
    console.log(`\ngrowth under mocks: ${perApp.toFixed(1)} ms per app; slope 10→20 apps / slope 1→10 apps = ${ratio.toFixed(2)} (1.00 is linear)`);
    console.log(`sequential waits on the critical path: ${waits} (${chain.join(" → ")})`);
    const mark = (ok: boolean) => (ok ? "met" : "MISSED");
    const slowest20 = Math.max(byLabel["20 apps"].m, byLabel["20 apps"].r, byLabel["20 apps+"].m, byLabel["20 apps+"].r);
    console.log(
        `\ntargets: dev < 500 ms: ${mark(Math.max(byLabel.dev.m, byLabel.dev.r) < 500)}; 20 apps < 3000 ms: ${mark(slowest20 < 3000)}; at most 3 sequential waits: ${mark(waits <= 3)}`,
    );
}

/** The verifier against nginx + 3 demo apps on loopback, and wrk against the same proxy. */
async function benchVerifier() {
    const pods = await Promise.all(
        [1, 2, 3].map((i) => startDemoApp({ POD_NAME: `pod-${i}`, SESSION_SOURCE: "header", SESSION_KEY: "x-user" }, { keepLogs: false })),
    );
    const proxy = await startNginx(
        pods.map((p) => Number(new URL(p.url).port)),
        "hash $http_x_user consistent;",
    );
    try {
        const opts = parseVerifyOptions({ url: proxy.url, mode: "header", sessions: 100, requests: 50, concurrency: 32 });
        await verifyStickiness({ ...opts, sessions: 16, requests: 20 }); // warm-up
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await verifyStickiness(opts);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const share = (cpu.user + cpu.system) / 1000 / wall;
        console.log(`\nverifier vs nginx (hash $http_x_user consistent) + 3 demo apps on 127.0.0.1, 100 sessions × 50 requests, concurrency 32:`);
        console.log(
            `  ${r.requestsPerSecond.toFixed(0)} requests/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, stickiness ${(r.stickiness * 100).toFixed(1)} %, errors ${r.errors}`,
        );
        console.log(
            `  verifier CPU: ${(share * 100).toFixed(0)} % of one core (${((share / os.cpus().length) * 100).toFixed(0)} % of this ${os.cpus().length}-core machine)`,
        );
        const wrk = spawnSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).stdout.trim();
        let wrkRps: number | undefined;
        if (wrk) {
            const script = path.join(os.tmpdir(), `sticky-wrk-${process.pid}.lua`);
            fs.writeFileSync(script, `request = function() return wrk.format(nil, nil, {["x-user"] = "u" .. math.random(1, 100)}) end\n`);
            const out = spawnSync(wrk, ["-t1", "-c32", "-d5s", "-s", script, proxy.url], { encoding: "utf8" }).stdout;
            fs.rmSync(script, { force: true });
            wrkRps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
            const p99 = /99%\s+(\S+)/.exec(out)?.[1];
            console.log(
                `  wrk, same proxy, 32 connections, 5 s: ${wrkRps.toFixed(0)} requests/s${p99 ? `, p99 ${p99}` : ""} (${(wrkRps / r.requestsPerSecond).toFixed(1)}× the verifier's rate)`,
            );
        } else {
            console.log("  wrk is not installed (apt-get install wrk): no comparison this run");
        }
        const mark = (ok: boolean) => (ok ? "met" : "MISSED");
        console.log(`  targets: ≥ 2000 requests/s: ${mark(r.requestsPerSecond >= 2000)}; verifier not saturated (below one core): ${mark(share < 1)}`);
        if (wrkRps) {
            console.log("  (wrk's C client leaves more of the machine's cores to nginx and the apps; the verifier's share above is what it takes from them)");
        }
    } finally {
        await proxy.stop();
        await Promise.all(pods.map((p) => p.stop()));
    }
}

main()
    .then(benchVerifier)
    .catch((e) => {
        console.error(e);
        process.exitCode = 1;
    });
