/**
 * `npm run bench`: how long building a stack takes, under Pulumi mocks and
 * through render, for the dev stack and for 20 apps; how it grows with the
 * number of apps; how many readiness waits a deploy takes one after another;
 * render and istio-sticky-import at 100, 1,000 and 5,000 apps or Ingresses
 * (tests/bench/render.ts, import.ts); and the verifier's throughput.
 * Prints figures against the targets; it asserts nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { parseStackConfig, StackSettings, buildPlan, planYaml, demoAppSource, StickySessions } from "istio-sticky";
import { PROJECT_DIR, readStackConfig } from "../cli/stackFiles";
import { installMocks, Recorder, valueOf } from "./support/mocks";
import { sequentialWaits } from "./support/graph";
import { ALL_MODES, stackWith } from "./support/fixtures";
import { startDemoApp } from "./support/demoApp";
import { startNginx } from "./support/proxies";
import { verifyStickiness } from "../verify/run";
import { parseVerifyOptions } from "../verify/options";
import { benchRender, formatRenderRows } from "./bench/render";
import { benchImport, formatImportRows } from "./bench/import";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The sizes render and import are measured at. */
const SCALE = [100, 1000, 5000];

/** Direct routing and autoscaling, switched on for every app of the largest stack. */
const EVERYTHING = {
    direct: { enabled: true, podCidr: "10.244.0.0/16", contexts: ["gateway", "sidecar"] },
    autoscaling: { minReplicas: 2, maxReplicas: 6 },
};

/** The dev stack's mesh with `apps` apps, cycling through every affinity mode. */
function stackOf(apps: number, extra: Record<string, unknown> = {}): StackSettings {
    const devMesh = readStackConfig(PROJECT_DIR, "dev")["istio-sticky:mesh"] as Record<string, unknown>;
    return stackWith(
        Array.from({ length: apps }, (_, i) => ALL_MODES[i % ALL_MODES.length]),
        devMesh,
        extra,
    );
}

async function minOf(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
        const t = process.hrtime.bigint();
        await fn();
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
    }
    return best;
}

const rec = new Recorder();
let round = 0;

/** Builds the stack under mocks and waits until every resource of it is registered. */
async function underMocks(stack: StackSettings, expected?: number): Promise<number> {
    // One program for every round (its registrations still arriving would meet a new one): a cluster, a provider, each.
    rec.forget();
    const name = `s${round++}`;
    const sticky = new StickySessions(
        name,
        { mesh: stack.mesh, apps: stack.apps },
        { provider: new k8s.Provider(`${name}-cluster`, {}) },
    );
    await valueOf(pulumi.all([sticky.endpoints, sticky.meshRequirements]));
    for (let i = 0; i < 10_000 && expected !== undefined && rec.resources.length < expected; i++)
        await new Promise((r) => setImmediate(r));
    return rec.resources.length;
}

function throughRender(stack: StackSettings): string {
    return planYaml(buildPlan(stack, { demoAppSource: demoAppSource() }));
}

async function main() {
    await installMocks(rec, { gatewayService: { type: "NodePort" } });
    pulumi.log.warn = async () => {}; // warnings are not what is measured here
    const dev = parseStackConfig(readStackConfig(PROJECT_DIR, "dev")).value;
    const fmt = (ms: number) => `${ms.toFixed(1).padStart(8)} ms`;
    const mark = (ok: boolean) => (ok ? "met" : "MISSED");
    console.log(`istio-sticky bench (node ${process.version}, minimum of 3 runs after a warm-up)\n`);
    console.log(
        "(apps cycle through every affinity mode, with direct routing for gateway and sidecars and autoscaling on every app)\n",
    );
    console.log(
        `${"stack".padEnd(10)}${"under mocks".padStart(14)}${"per app".padStart(12)}${"render".padStart(14)}${"per app".padStart(12)}`,
    );
    const devMocks = await minOf(3, () => underMocks(dev));
    const devRender = await minOf(3, () => throughRender(dev));
    console.log(`${"dev".padEnd(10)}${fmt(devMocks).padStart(14)}${"".padStart(12)}${fmt(devRender).padStart(14)}`);
    for (const n of [10, 50, 200]) {
        const stack = stackOf(n, EVERYTHING);
        const expected = await underMocks(stack); // warm-up, and the number of resources to wait for
        const mocks = await minOf(3, () => underMocks(stack, expected));
        const render = await minOf(3, () => throughRender(stack));
        console.log(
            `${`${n} apps`.padEnd(10)}${fmt(mocks).padStart(14)}${fmt(mocks / n).padStart(12)}${fmt(render).padStart(14)}${fmt(render / n).padStart(12)}`,
        );
    }
    const twenty = stackOf(20);
    await underMocks(twenty, await underMocks(twenty));
    const { waits, chain } = sequentialWaits(rec.resources);
    console.log(`sequential waits on the critical path: ${waits} (${chain.join(" → ")})`);
    console.log(
        `\ntargets: dev < 500 ms: ${mark(Math.max(devMocks, devRender) < 500)}; at most 3 sequential waits: ${mark(waits <= 3)}\n`,
    );
}

/** Render and import at 100, 1,000 and 5,000 apps or Ingresses, in this process and through the built bins. */
async function benchScale() {
    console.log(formatRenderRows(await benchRender(SCALE)));
    console.log("");
    console.log(formatImportRows(await benchImport(SCALE)));
}

/** The verifier against nginx + 3 demo apps on loopback, and wrk against the same proxy. */
async function benchVerifier() {
    const pods = await Promise.all(
        [1, 2, 3].map((i) =>
            startDemoApp(
                { POD_NAME: `pod-${i}`, SESSION_SOURCE: "header", SESSION_KEY: "x-user" },
                { keepLogs: false },
            ),
        ),
    );
    const proxy = await startNginx(
        pods.map((p) => Number(new URL(p.url).port)),
        "hash $http_x_user consistent;",
    );
    try {
        const opts = parseVerifyOptions({
            url: proxy.url,
            mode: "header",
            sessions: 100,
            requests: 50,
            concurrency: 32,
        });
        await verifyStickiness({ ...opts, sessions: 16, requests: 20 }); // warm-up
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await verifyStickiness(opts);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const share = (cpu.user + cpu.system) / 1000 / wall;
        console.log(
            `\nverifier vs nginx (hash $http_x_user consistent) + 3 demo apps on 127.0.0.1, 100 sessions × 50 requests, concurrency 32:`,
        );
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
            fs.writeFileSync(
                script,
                `request = function() return wrk.format(nil, nil, {["x-user"] = "u" .. math.random(1, 100)}) end\n`,
            );
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
        console.log(
            `  targets: ≥ 2000 requests/s: ${mark(r.requestsPerSecond >= 2000)}; verifier not saturated (below one core): ${mark(share < 1)}`,
        );
        if (wrkRps) {
            console.log(
                "  (wrk's C client leaves more of the machine's cores to nginx and the apps; the verifier's share above is what it takes from them)",
            );
        }
    } finally {
        await proxy.stop();
        await Promise.all(pods.map((p) => p.stop()));
    }
}

main()
    .then(benchScale)
    .then(benchVerifier)
    .catch((e) => {
        console.error(e);
        process.exitCode = 1;
    });
