/**
 * A live run: a stack (and one demo app per affinity mode) deployed by `pulumi up` into the
 * harness's cluster, the gateway's Envoy fed live by istiod through the relay, the apps' pods run
 * as processes, and sessions measured through the gateway across each scenario:
 *
 * - steady: after the up, nothing changes;
 * - podKilled: one pod of each live app killed (kept down), then back (podReturned figures);
 * - istiodRestart: istiod's process killed and started again while traffic runs;
 * - scaleUp: every live app 3 → 4 replicas through `pulumi up`;
 * - rollout: every live app's pods replaced (its demo app's TARGET changed) through `pulumi up`;
 * - policyEdit: the hash apps' ring hash → maglev through `pulumi up`;
 * - sabotage (only when asked): the header app's hash removed through `pulumi up`, which the
 *   figures must show as a stickiness drop.
 */
import * as path from "path";
import type { ArtifactServer } from "../cluster/artifacts";
import type { Kubectl } from "../cluster/kubectl";
import type { PodProcesses } from "../cluster/podProcesses";
import { projectCopy } from "../cluster/project";
import { pulumi, type PulumiContext, type PulumiResult } from "../cluster/pulumi";
import { mirroredConfig, shippedConfig } from "../cluster/stacks";
import { LIVE_MODES, LIVE_REPLICAS, liveAppName, liveApps, withLiveApps } from "./apps";
import { activeCluster, clusterHosts, readyEndpoints, until } from "./envoyState";
import { startLiveGateway, type LiveGateway, type RelayStatus } from "./gateway";
import { acrossStep, liveVerifyArgs, stateDir, type LiveApp, type Measured } from "./traffic";

export const SCENARIOS = ["steady", "podKilled", "istiodRestart", "scaleUp", "rollout", "policyEdit"] as const;
export type ScenarioName = (typeof SCENARIOS)[number] | "podReturned" | "sabotage";

/** One figure of the table: a scenario's effect on one app's sessions. */
export interface LiveFigure {
    scenario: ScenarioName;
    app: string;
    mode: string;
    api: "istio" | "gatewayApi";
    sessions: number;
    /** The run after the step: share of requests on each session's first pod. */
    stickiness: number;
    moved: number;
    movedShare: number;
    failedRequests: number;
    /** Failed requests by kind ("HTTP 503", "ECONNRESET", …). */
    errorKinds: Record<string, number>;
    /** For comparison: the share a hash would move (scaleUp: 1/N of the new count). */
    expectedShare?: number;
    /** steady, none: the largest pod's sessions over the mean. */
    spread?: number;
    /** podKilled: sessions on the killed pod before, and the others that moved anyway. */
    killedPodSessions?: number;
    movedOthers?: number;
    /**
     * podKilled: how istiod sent the killed pod's endpoint once it was not ready: still there, as
     * UNHEALTHY (Istio 1.31's PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS), or left out.
     */
    killedPodInEds?: "unhealthy" | "removed";
    /** podReturned: of the killed pod's sessions, the share back on it once it is ready again. */
    returnedShare?: number;
}

export interface LiveRun {
    stack: string;
    istio: string;
    envoy: string;
    scenarios: LiveFigure[];
    relay: RelayStatus;
    /** Seconds each phase took. */
    seconds: Record<string, number>;
}

export interface LiveEnvironment {
    kubectl: Kubectl;
    /** The Pulumi CLI's folder and plugin folders (lab/cluster/toolchain, cert-manager's plugin). */
    pulumiBin: string;
    plugins: string[];
    served: ArtifactServer;
    istioRelease: string;
    envoyVersion: string;
    processes: PodProcesses;
    /** The istiod pod program's name in `processes`. */
    istiodProgram: string;
}

type Config = Record<string, unknown>;

const ensureOk = (what: string, r: PulumiResult) => {
    if (r.code !== 0)
        throw new Error(
            `${what}: exit ${r.code}\n${`${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-40).join("\n")}`,
        );
    return r;
};

/** The ingress API the stack's mesh uses. */
function apiOf(config: Config): "istio" | "gatewayApi" {
    const mesh = (config["istio-sticky:mesh"] ?? {}) as { gateway?: { api?: string } };
    return mesh.gateway?.api === "gatewayApi" ? "gatewayApi" : "istio";
}

/** The affinity mode of each app of the config, by name. */
function modesOf(config: Config): Record<string, string> {
    const apps = (config["istio-sticky:apps"] ?? []) as { name: string; affinity?: { mode?: string } }[];
    return Object.fromEntries(apps.map((a) => [a.name, a.affinity?.mode ?? "none"]));
}

export async function runLive(
    env: LiveEnvironment,
    stack: string,
    opts: { sabotage?: boolean; log?: (s: string) => void } = {},
): Promise<LiveRun> {
    const log = opts.log ?? (() => undefined);
    const seconds: Record<string, number> = {};
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
        const t = performance.now();
        log(`${name}…`);
        try {
            return await f();
        } finally {
            seconds[name] = (performance.now() - t) / 1000;
            log(`${name}: ${seconds[name].toFixed(1)} s`);
        }
    };
    const base = mirroredConfig(shippedConfig(stack), env.served, env.istioRelease);
    const config = withLiveApps(base);
    const api = apiOf(config);
    const project = projectCopy();
    const ctx: PulumiContext = {
        cwd: project.dir,
        bin: env.pulumiBin,
        plugins: env.plugins,
        kubeconfig: env.kubectl.kubeconfig,
        home: path.join(project.dir, ".pulumi-home"),
    };
    const up = async (c: Config) => {
        project.writeStack(stack, c);
        ensureOk("pulumi up", await pulumi(ctx, ["up", "--yes", "--skip-preview"]));
    };
    let gateway: LiveGateway | undefined;
    let created = false;
    try {
        ensureOk("pulumi stack init", await pulumi(ctx, ["stack", "init", stack, "--secrets-provider", "passphrase"]));
        created = true;
        await timed("pulumi up", () => up(config));
        const gw = (gateway = await timed("the gateway's Envoy fed by istiod", () =>
            startLiveGateway(env.kubectl, { istioVersion: env.istioRelease }),
        ));
        const out = JSON.parse(ensureOk("outputs", await pulumi(ctx, ["stack", "output", "--json"])).stdout);
        const modes = modesOf(config);
        const apps: LiveApp[] = Object.entries(out.apps as Record<string, { verifyArgs: string[] }>).map(
            ([name, a]) => ({
                name,
                mode: modes[name],
                args: liveVerifyArgs(a.verifyArgs, `http://${gw.ip}`),
            }),
        );
        const hostOf = (app: string) => out.apps[app].serviceHost as string;
        const live = apps.filter((a) => LIVE_MODES.some((m) => liveAppName(m.mode) === a.name));
        await timed("every app's pods healthy in Envoy", () =>
            Promise.all(
                apps.map((a) =>
                    until(`${a.name}'s pods healthy in the gateway's Envoy`, 180, async () => {
                        const want = (out.pods[a.name] ?? []).length;
                        const { healthy } = await clusterHosts(gw, hostOf(a.name));
                        return want > 0 && healthy.length >= want ? true : undefined;
                    }),
                ),
            ),
        );
        const dir = stateDir();
        const figures: LiveFigure[] = [];
        const figure = (scenario: ScenarioName, m: Measured, extra: Partial<LiveFigure> = {}): LiveFigure => ({
            scenario,
            app: m.app.name,
            mode: m.app.mode,
            api,
            sessions: m.compared,
            stickiness: m.after.stickiness,
            moved: m.moved,
            movedShare: m.compared ? m.moved / m.compared : 0,
            failedRequests: m.failedRequests,
            errorKinds: m.errorKinds,
            ...extra,
        });

        // a. steady state
        const steady = await timed("steady", () => acrossStep(apps, dir, "steady", async () => undefined));
        for (const m of steady)
            figures.push(
                figure("steady", m, m.app.mode === "none" ? { spread: m.before.distribution.maxOverMean } : {}),
            );

        // d. one pod of each live app killed, then back
        const victims = Object.fromEntries(
            live.map((a) => [a.name, (out.pods[a.name] as { name: string; ip: string }[])[0]]),
        );
        const victimId = (a: string) => `${out.apps[a].namespace}/${victims[a].name}`;
        const inEds: Record<string, "unhealthy" | "removed"> = {};
        const killed = await timed("podKilled", () =>
            acrossStep(live, dir, "podKilled", async () => {
                for (const a of live) await env.processes.hold(victimId(a.name));
                await Promise.all(
                    live.map((a) =>
                        until(`${a.name}: the killed pod out of Envoy's healthy hosts`, 120, async () => {
                            const { all, healthy } = await clusterHosts(gw, hostOf(a.name));
                            const at = (h: string) => h.startsWith(`${victims[a.name].ip}:`);
                            if (healthy.some(at)) return undefined;
                            inEds[a.name] = all.some(at) ? "unhealthy" : "removed";
                            return true;
                        }),
                    ),
                );
            }),
        );
        for (const m of killed) {
            const on = m.before.perSession.filter((s) => s.topPod === victims[m.app.name].name).map((s) => s.id);
            const after = new Map(m.after.perSession.map((s) => [s.id, s.topPod]));
            const movedOthers = m.before.perSession.filter(
                (s) => s.topPod && !on.includes(s.id) && after.get(s.id) && after.get(s.id) !== s.topPod,
            ).length;
            figures.push(
                figure("podKilled", m, {
                    killedPodSessions: on.length,
                    movedOthers,
                    killedPodInEds: inEds[m.app.name],
                }),
            );
        }
        const returned = await timed("podReturned", () =>
            acrossStep(
                live,
                dir,
                "podReturned",
                async () => {
                    for (const a of live) env.processes.release(victimId(a.name));
                    await Promise.all(
                        live.map((a) =>
                            until(`${a.name}: the pod back among Envoy's healthy hosts`, 120, async () => {
                                const { healthy } = await clusterHosts(gw, hostOf(a.name));
                                return healthy.some((h) => h.startsWith(`${victims[a.name].ip}:`)) ? true : undefined;
                            }),
                        ),
                    );
                },
                { from: killed },
            ),
        );
        for (const m of returned) {
            const k = killed.find((x) => x.app.name === m.app.name)!;
            const victim = victims[m.app.name].name;
            const on = k.before.perSession.filter((s) => s.topPod === victim).map((s) => s.id);
            const back = m.after.perSession.filter((s) => on.includes(s.id) && s.topPod === victim).length;
            figures.push(
                figure("podReturned", m, {
                    killedPodSessions: on.length,
                    returnedShare: on.length ? back / on.length : 0,
                }),
            );
        }

        // e. istiod restarted during traffic
        const restarted = await timed("istiodRestart", () =>
            acrossStep(apps, dir, "istiodRestart", async () => {
                const istiod = env.processes.started().find((p) => p.program === env.istiodProgram && !p.exit);
                if (!istiod) throw new Error("istiod's process is not running");
                const pushes = (st: RelayStatus) => Object.values(st.pushes).reduce((a, b) => a + b, 0);
                const before = await gw.relay();
                await env.processes.hold(istiod.pod);
                const broken = await until("the relay's stream to istiod broken", 60, async () => {
                    const st = await gw.relay();
                    return st.upstreamErrors.length > before.upstreamErrors.length ? st : undefined;
                });
                env.processes.release(istiod.pod);
                // Envoy's stream again, and istiod's first pushes on it (CDS, LDS, and what they name).
                await until("istiod pushing to Envoy again", 180, async () => {
                    const st = await gw.relay();
                    return st.streams > broken.streams && pushes(st) >= pushes(broken) + 2 ? true : undefined;
                });
            }),
        );
        for (const m of restarted) figures.push(figure("istiodRestart", m));

        // b. scale-up through the stack
        const scaled = withLiveApps(
            base,
            liveApps((_m, a) => ({ ...a, replicas: LIVE_REPLICAS + 1 })),
        );
        const scaledUp = await timed("scaleUp", () =>
            acrossStep(live, dir, "scaleUp", async () => {
                await up(scaled);
                await Promise.all(
                    live.map((a) =>
                        until(`${a.name}: ${LIVE_REPLICAS + 1} healthy hosts in Envoy`, 180, async () =>
                            (await clusterHosts(gw, hostOf(a.name))).healthy.length >= LIVE_REPLICAS + 1
                                ? true
                                : undefined,
                        ),
                    ),
                );
            }),
        );
        for (const m of scaledUp) figures.push(figure("scaleUp", m, { expectedShare: 1 / (LIVE_REPLICAS + 1) }));

        // c. a rolling update of every live app through the stack (its demo app's TARGET changes)
        const rolledOut = (a: Record<string, unknown>) => ({
            ...a,
            replicas: LIVE_REPLICAS + 1,
            target: `${a.name}-v2`,
        });
        const rollout = await timed("rollout", () =>
            acrossStep(live, dir, "rollout", async () => {
                await up(
                    withLiveApps(
                        base,
                        liveApps((_m, a) => rolledOut(a)),
                    ),
                );
                await Promise.all(
                    live.map((a) =>
                        // pulumi up has waited for the rollout; Envoy then holds exactly the new pods, healthy.
                        until(`${a.name}: Envoy's healthy hosts the rolled-out pods`, 300, async () => {
                            const ready = await readyEndpoints(env.kubectl, out.apps[a.name].namespace, hostOf(a.name));
                            const { all, healthy } = await clusterHosts(gw, hostOf(a.name));
                            const same = (x: string[]) =>
                                x.length === ready.length && x.every((h) => ready.includes(h));
                            return ready.length === LIVE_REPLICAS + 1 && same(all) && same(healthy) ? true : undefined;
                        }),
                    ),
                );
            }),
        );
        for (const m of rollout) figures.push(figure("rollout", m));

        // g. a policy edit: ring hash → maglev on the hash modes
        const HASH = ["header", "cookie", "queryParameter", "sourceIp"];
        const edited = withLiveApps(
            base,
            liveApps((mode, a) => ({
                ...rolledOut(a),
                ...(HASH.includes(mode) ? { affinity: { ...(a.affinity as object), algorithm: "maglev" } } : {}),
            })),
        );
        const hashApps = live.filter((a) => HASH.includes(a.mode));
        const policy = await timed("policyEdit", () =>
            acrossStep(hashApps, dir, "policyEdit", async () => {
                await up(edited);
                await Promise.all(
                    hashApps.map((a) =>
                        until(`${a.name}: maglev in Envoy`, 120, async () =>
                            (await activeCluster(gw, hostOf(a.name)))?.lb_policy === "MAGLEV" ? true : undefined,
                        ),
                    ),
                );
            }),
        );
        for (const m of policy) figures.push(figure("policyEdit", m));

        if (opts.sabotage) {
            const target = live.filter((a) => a.mode === "header");
            const sabotaged = withLiveApps(
                base,
                liveApps((mode, a) => ({
                    ...rolledOut(a),
                    ...(HASH.includes(mode) && mode !== "header"
                        ? { affinity: { ...(a.affinity as object), algorithm: "maglev" } }
                        : {}),
                    ...(mode === "header" ? { affinity: { mode: "none" } } : {}),
                })),
            );
            const s = await timed("sabotage", () =>
                acrossStep(target, dir, "sabotage", async () => {
                    await up(sabotaged);
                    await Promise.all(
                        target.map((a) =>
                            until(`${a.name}: no hash in Envoy`, 120, async () => {
                                const c = await activeCluster(gw, hostOf(a.name));
                                return c && c.lb_policy !== "RING_HASH" && c.lb_policy !== "MAGLEV" ? true : undefined;
                            }),
                        ),
                    );
                }),
            );
            for (const m of s) figures.push(figure("sabotage", m));
        }
        return {
            stack,
            istio: env.istioRelease,
            envoy: env.envoyVersion,
            scenarios: figures,
            relay: await gw.relay(),
            seconds,
        };
    } catch (e) {
        if (gateway) (e as Error).message += `\n${gateway.logs().slice(-4000)}`;
        throw e;
    } finally {
        await gateway?.stop();
        if (created) await timed("pulumi destroy", () => pulumi(ctx, ["destroy", "--yes", "--skip-preview"]));
        project.remove();
    }
}
