/**
 * The mesh lab for one stack: istiod's xDS for its objects, held against its
 * settings; then the gateway's configuration in a real Envoy, in front of demo
 * app processes on the pods' loopback addresses, measured by istio-sticky-verify;
 * then one more pod per app, the configuration regenerated, and the share of
 * sessions that moved.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    parseVerifyOptions,
    verifyStickiness,
    type Report,
    type VerifyOptions,
    parseVerifyArgs,
} from "istio-sticky/verify";
import { verifyArgsFor, directHeaders, isHashMode, isPersistentMode, podPort } from "istio-sticky/plan";
import {
    buildPlan,
    type Plan,
    AffinityMode,
    DirectContext,
    type AppSettings,
    parseStackConfig,
    type StackSettings,
} from "istio-sticky";
import { ENVOY_WHEEL, ensureEnvoy, ensureXds, envoyVersion, istioModule } from "./build";
import { gatewayBootstrap, startEnvoy, REMOVED, type Removal, type RunningEnvoy } from "./envoy";
import { checkXds, type StackXds } from "./expect";
import { startPods, stopPods, type RunningPod } from "./pods";
import { buildWorld, LAB_POD_NET, type LabPod, type LabWorld } from "./world";
import { generateXds, type XdsResult } from "./xds";

/** Where direct routing points in the lab: its pods' loopback network, and the clients allowed to use it. */
export const LAB_DIRECT = {
    podCidr: `${LAB_POD_NET}.0.0/16`,
    allowedClients: ["127.0.8.0/24"],
    allowedClient: "127.0.8.1",
    refusedClient: "127.0.7.1",
};
/** Source addresses of sessions (one per session). */
const SOURCE_NET = "127.0.3";
// (LAB_SESSIONS addresses from SOURCE_NET.1 on: at most 254.)

export const LAB_SESSIONS = 200;
export const LAB_REQUESTS = 10;

export interface EnvoyFigures {
    sessions: number;
    /** The app's pods. */
    pods: number;
    /** Mean share of a session's requests on its most-used pod. */
    stickiness: number;
    /** The lowest such share of any session (the least sticky session). */
    worstSession: number;
    podsUsed: number;
    /** Successful requests per pod. */
    requestsByPod: Record<string, number>;
    /** The largest pod's share of requests (round robin's spread). */
    maxRequestShare: number;
    errors: number;
    /** Share of sessions on another pod after one pod was added (null: not measured for the mode). */
    movedOnScaleUp: number | null;
    podsAfterScaleUp?: number;
    /** Direct routing: every pod reached by name, and the guard's refusals. */
    direct?: { podsReached: number; pods: number; refusedOutsideClients: boolean; refusedOutsidePodCidr: boolean };
    /** Header-routed: every answer came from this app's pods. */
    onlyOwnPods: boolean;
    /** Measured over HTTPS with the self-signed certificate. */
    https?: { ok: number; stickiness: number };
}

export interface LabApp {
    name: string;
    mode: AffinityMode;
    xds: { ok: boolean; problems: string[] };
    seen: string[];
    envoy?: EnvoyFigures;
    /** Why `envoy` is absent. */
    notMeasured?: string;
}

export interface LabReport {
    stack: string;
    dataplane: string;
    istio: string;
    envoy: string;
    /** The Istio whose control plane generated the configuration (lab/xds/go.mod). */
    istioControlPlane: { release: string; commit: string };
    /** Problems of the stack as a whole (validation errors, TLS, route order). */
    problems: string[];
    warnings: string[];
    apps: LabApp[];
    /** What the lab changed in the stack to run it on loopback (direct routing's addresses). */
    labAddresses: string[];
    /** The lab's removals; `changes` counts what the xds program's pass (lab/xds/strip) changed for the gateway. */
    removedFromEnvoyConfig: (Removal & { changes?: number })[];
    /** Seconds: building the xds program and installing Envoy (0 when cached), generating, measuring. */
    timings: { xdsBuild: number; envoyInstall: number; generate: number; measure: number };
    ok: boolean;
}

/** The settings with direct routing moved onto the lab's loopback addresses (validation refuses loopback in a real stack). */
export function onLabAddresses(stack: StackSettings): { settings: StackSettings; changes: string[] } {
    const changes: string[] = [];
    const apps = stack.apps.map((a) => {
        if (!a.direct.enabled) return a;
        changes.push(
            `${a.name}: direct.podCidr ${a.direct.podCidr} → ${LAB_DIRECT.podCidr}, direct.allowedClients ${a.direct.allowedClients.join(", ")} → ${LAB_DIRECT.allowedClients.join(", ")}`,
        );
        return {
            ...a,
            direct: { ...a.direct, podCidr: LAB_DIRECT.podCidr, allowedClients: LAB_DIRECT.allowedClients },
        };
    });
    return { settings: { ...stack, apps }, changes };
}

/**
 * The verify options for an app: the command the stack exports for it (verifyArgsFor, the
 * `verify` output), with the lab's session count, an address per session, and the flags
 * given (later flags win).
 */
function labVerify(a: AppSettings, url: string, ...flags: string[]): VerifyOptions {
    // Every session from an address of its own, as users come: source-IP hashing needs it, and so does
    // a cookie Envoy sets, whose value Envoy derives from the connection's addresses (sessions sharing a
    // connection would share one cookie, and move together).
    const sourceIp = ["--source-addresses", `${SOURCE_NET}.1-${SOURCE_NET}.${LAB_SESSIONS}`];
    return parseVerifyArgs([
        ...verifyArgsFor(a, url),
        ...[
            "--sessions",
            String(LAB_SESSIONS),
            "--requests",
            String(LAB_REQUESTS),
            "--timeout-ms",
            "5000",
            "--max-seconds",
            "60",
        ],
        ...sourceIp,
        ...flags,
    ]);
}

/** Flags for an HTTPS-only endpoint: the certificate's host as SNI, and the self-signed certificate accepted. */
/**
 * The Host (and over HTTPS the SNI) a request to the app names: one of the app's own hosts (a
 * wildcard's "*" made "lab"), else over HTTPS the certificate's first host; the self-signed
 * certificate accepted.
 */
function hostFlags(a: AppSettings, ep: Endpoint, https: boolean): string[] {
    const host = a.hosts?.[0]?.replace(/^\*/, "lab") ?? (https ? ep.servername : undefined);
    return host ? [...(https ? ["--insecure"] : []), "--servername", host] : [];
}

const podsUsed = (r: Report) => Object.keys(r.distribution.requestsByPod).length;

interface Endpoint {
    http?: string;
    https?: string;
    servername?: string;
}

function endpointOf(plan: Plan, envoy: RunningEnvoy, gatewayPorts: Record<number, number>): Endpoint {
    const http = envoy.ports[gatewayPorts[80] ?? 80];
    const https = envoy.ports[gatewayPorts[443] ?? 443];
    const tls = plan.settings.tls;
    return {
        // With the redirect on, plain HTTP only answers 301: sessions go over HTTPS.
        ...(http && !(tls.enabled && tls.httpsRedirect) ? { http: `http://127.0.0.1:${http}` } : {}),
        ...(https && tls.enabled ? { https: `https://127.0.0.1:${https}`, servername: tls.hosts[0] } : {}),
    };
}

/**
 * How verify names the pod that answered: the demo app's pod name from its body, or for an
 * existing Service, the address the route's response header gives (the pod's IP and port).
 */
function podId(a: AppSettings, p: LabPod): string {
    return a.service?.podHeader ? `${p.ip}:${podPort(a)}` : p.name;
}

async function measureApp(a: AppSettings, world: LabWorld, ep: Endpoint, stateDir: string): Promise<EnvoyFigures> {
    const base = ep.http ?? ep.https!;
    const tlsOnly = !ep.http;
    const url = `${base}${a.path}/lab`;
    const report = await verifyStickiness(
        labVerify(a, url, ...hostFlags(a, ep, tlsOnly), "--save", path.join(stateDir, `${a.name}.json`)),
    );
    const own = world.pods.filter((p) => p.app === a.name).map((p) => podId(a, p));
    const figures: EnvoyFigures = {
        sessions: report.sessions,
        pods: own.length,
        stickiness: report.meanTopShare,
        worstSession: Math.min(...report.perSession.filter((x) => x.ok > 0).map((x) => x.topShare), 1),
        podsUsed: podsUsed(report),
        requestsByPod: report.distribution.requestsByPod,
        maxRequestShare: report.distribution.maxRequestShare,
        errors: report.errors,
        movedOnScaleUp: null,
        onlyOwnPods: Object.keys(report.distribution.requestsByPod).every((p) => own.includes(p)),
    };
    if (ep.https && !tlsOnly) {
        const r = await verifyStickiness(
            labVerify(a, `${ep.https}${a.path}/lab`, "--sessions", "10", "--requests", "10", ...hostFlags(a, ep, true)),
        );
        figures.https = { ok: r.ok, stickiness: r.meanTopShare };
    } else if (tlsOnly) {
        figures.https = { ok: report.ok, stickiness: report.meanTopShare };
    }
    if (a.direct.enabled && a.direct.contexts.includes(DirectContext.Gateway))
        figures.direct = await measureDirect(a, world, base, hostFlags(a, ep, tlsOnly).at(-1));
    return figures;
}

/** Direct routing: each pod by its address from an allowed client; refusals from outside the allowed clients, and for an address outside the pod network. */
async function measureDirect(
    a: AppSettings,
    world: LabWorld,
    base: string,
    servername?: string,
): Promise<EnvoyFigures["direct"]> {
    const pods = world.pods.filter((p) => p.app === a.name);
    const podHeader = parseVerifyArgs(verifyArgsFor(a, `${base}${a.path}/lab`)).podHeader;
    // The headers of the stack's exported direct-routing curl (directCurl), to a pod address.
    const one = (ip: string, from: string) =>
        verifyStickiness(
            parseVerifyOptions({
                url: `${base}${a.path}/lab`,
                mode: "none",
                sessions: 1,
                requests: 5,
                minStickiness: 0,
                sourceAddresses: [from],
                headers: directHeaders(a, { ip }),
                // How the exported verify command tells the pods apart (an existing Service's pod header).
                ...(podHeader ? { podHeader } : {}),
                ...(servername ? { insecure: true, servername } : {}),
            }),
        );
    let reached = 0;
    for (const p of pods) {
        const r = await one(p.ip, LAB_DIRECT.allowedClient);
        if (r.ok === 5 && r.distribution.requestsByPod[podId(a, p)] === 5) reached++;
    }
    const outsideClient = await one(pods[0].ip, LAB_DIRECT.refusedClient);
    const outsideCidr = await one("127.0.0.1", LAB_DIRECT.allowedClient);
    return {
        podsReached: reached,
        pods: pods.length,
        refusedOutsideClients: outsideClient.ok === 0 && outsideClient.errorKinds["HTTP 403"] === 5,
        refusedOutsidePodCidr: outsideCidr.ok === 0 && outsideCidr.errorKinds["HTTP 403"] === 5,
    };
}

/** The share of the saved sessions now on another pod. */
async function scaleUpMoved(a: AppSettings, ep: Endpoint, stateDir: string): Promise<number> {
    const base = ep.http ?? ep.https!;
    const r = await verifyStickiness(
        labVerify(
            a,
            `${base}${a.path}/lab`,
            ...hostFlags(a, ep, !ep.http),
            "--resume",
            path.join(stateDir, `${a.name}.json`),
        ),
    );
    return r.comparison?.movedShare ?? NaN;
}

export interface LabOptions {
    /** Run Envoy and measure (default true); false: xDS only. */
    measure?: boolean;
    /** Change the rendered objects before the lab runs them (tests break one to see it caught). */
    mutate?: (plan: Plan) => void;
    /** Write what istiod sent each proxy, and the gateway's Envoy bootstrap, into this folder. */
    out?: string;
}

/** What istiod sent each proxy (`<proxy>.json`: listeners, clusters, routes, endpoints) and the bootstrap the lab's Envoy runs. */
function writeConfigs(dir: string, result: XdsResult, world: LabWorld): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, config] of Object.entries(result.proxies)) {
        const file = path.join(dir, `${name.replace(/[^A-Za-z0-9.-]+/g, "-")}.json`);
        fs.writeFileSync(file, JSON.stringify(config, null, 2));
    }
    if (result.proxies.gateway) {
        const ports = Object.fromEntries(Object.values(world.gatewayPorts).map((p) => [p, p]));
        const file = path.join(dir, "gateway-envoy-bootstrap.json");
        fs.writeFileSync(file, JSON.stringify(gatewayBootstrap(result.proxies.gateway, world, ports, 15000), null, 2));
    }
}

/** The lab for one stack's configuration (the `config:` of its stack file). */
export async function runLab(
    stack: string,
    config: Record<string, unknown>,
    opts: LabOptions = {},
): Promise<LabReport> {
    const xdsBuild = ensureXds();
    const envoyBin = opts.measure === false ? undefined : ensureEnvoy();
    const started = performance.now();
    const parsed = parseStackConfig(config);
    const { settings, changes } = onLabAddresses(parsed.value);
    const plan = buildPlan(settings, { demoAppSource: "lab" });
    opts.mutate?.(plan);
    const world = buildWorld(plan, { name: stack });
    const [result] = generateXds([world.xds]);
    const check: StackXds = checkXds(plan, result, world.gatewayPorts);
    if (opts.out) writeConfigs(opts.out, result, world);
    const generated = performance.now();
    const apps: LabApp[] = check.apps.map((a) => ({
        name: a.name,
        mode: a.mode,
        xds: { ok: a.ok, problems: a.problems },
        seen: a.seen,
    }));
    const report: LabReport = {
        stack,
        dataplane: settings.mesh.dataplane,
        istio: settings.mesh.version,
        envoy: envoyBin ? envoyVersion(envoyBin.path) : ENVOY_WHEEL.version,
        istioControlPlane: { release: istioModule().release, commit: istioModule().commit },
        problems: check.problems,
        warnings: [...parsed.warnings, ...check.warnings],
        apps,
        labAddresses: changes,
        removedFromEnvoyConfig: REMOVED.map((r) =>
            r.in.includes("live") ? { ...r, changes: result.proxies.gateway?.removals?.[r.id] ?? 0 } : { ...r },
        ),
        timings: {
            xdsBuild: xdsBuild.seconds,
            envoyInstall: envoyBin?.seconds ?? 0,
            generate: (generated - started) / 1000,
            measure: 0,
        },
        ok: check.ok,
    };
    if (!envoyBin || !result.proxies.gateway) {
        for (const a of apps)
            a.notMeasured = envoyBin
                ? "istiod generated no gateway configuration"
                : "measuring was not asked for (--xds-only)";
        return report;
    }
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-lab-state-"));
    let pods: RunningPod[] = [];
    let envoy: RunningEnvoy | undefined;
    try {
        pods = await startPods(world.pods);
        envoy = await startEnvoy(envoyBin.path, result.proxies.gateway, world);
        const ep = endpointOf(plan, envoy, world.gatewayPorts);
        for (const a of settings.apps) {
            apps.find((x) => x.name === a.name)!.envoy = await measureApp(a, world, ep, stateDir);
        }
        await envoy.stop();
        envoy = undefined;
        // One more pod per app; the configuration regenerated and a new Envoy started on it.
        const extra = Object.fromEntries(settings.apps.map((a) => [a.name, 1]));
        const scaled = buildWorld(plan, { name: `${stack} +1 pod`, extraPods: extra });
        const [after] = generateXds([scaled.xds]);
        pods.push(...(await startPods(scaled.pods.filter((p) => !world.pods.some((q) => q.name === p.name)))));
        envoy = await startEnvoy(envoyBin.path, after.proxies.gateway, scaled);
        const ep2 = endpointOf(plan, envoy, scaled.gatewayPorts);
        for (const a of settings.apps) {
            if (!keepsSessions(a)) continue;
            const figures = apps.find((x) => x.name === a.name)!.envoy!;
            figures.movedOnScaleUp = await scaleUpMoved(a, ep2, stateDir);
            figures.podsAfterScaleUp = scaled.pods.filter((p) => p.app === a.name).length;
        }
    } finally {
        await envoy?.stop();
        await stopPods(pods);
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
    report.timings.measure = (performance.now() - generated) / 1000;
    report.ok =
        check.ok &&
        apps.every(
            (a) =>
                measuredOk(
                    a,
                    settings.apps.find((s) => s.name === a.name)!,
                ).length === 0,
        );
    return report;
}

/** A mode that keeps a session on one pod (every mode but round robin). */
const keepsSessions = (a: AppSettings) => isHashMode(a.affinity.mode) || isPersistentMode(a.affinity.mode);

/** What the measured figures must show for the app's mode (empty when they do). */
export function measuredOk(app: LabApp, a: AppSettings): string[] {
    const e = app.envoy;
    if (!e) return [];
    const out: string[] = [];
    const pods = Object.keys(e.requestsByPod);
    if (e.errors > 0) out.push(`${e.errors} requests failed`);
    if (keepsSessions(a)) {
        if (e.stickiness < 0.99) out.push(`stickiness ${(e.stickiness * 100).toFixed(1)} % < 99 %`);
        else if (e.worstSession < 0.99)
            out.push(`a session kept only ${(e.worstSession * 100).toFixed(1)} % of its requests on one pod (< 99 %)`);
        if (e.podsUsed < 2)
            out.push(`sessions reached ${e.podsUsed} pod(s): the hash or the placement does not spread them`);
        if (isPersistentMode(a.affinity.mode) && e.movedOnScaleUp !== null && e.movedOnScaleUp > 0)
            out.push(`${(e.movedOnScaleUp * 100).toFixed(1)} % of sessions moved on a scale-up`);
    } else if (pods.length >= 3 && e.maxRequestShare > 0.5) {
        out.push(`round robin put ${(e.maxRequestShare * 100).toFixed(1)} % of requests on one pod`);
    }
    if (!e.onlyOwnPods) out.push(`answers came from other apps' pods: ${pods.join(", ")}`);
    if (e.direct) {
        if (e.direct.podsReached !== e.direct.pods)
            out.push(`direct routing reached ${e.direct.podsReached} of ${e.direct.pods} pods by address`);
        if (!e.direct.refusedOutsideClients)
            out.push(`direct routing was not refused from ${LAB_DIRECT.refusedClient}, outside the allowed clients`);
        if (!e.direct.refusedOutsidePodCidr)
            out.push("direct routing was not refused for an address outside the pod network");
    }
    if (e.https && (e.https.ok === 0 || (keepsSessions(a) && e.https.stickiness < 0.99)))
        out.push(`HTTPS: ${e.https.ok} requests answered, stickiness ${(e.https.stickiness * 100).toFixed(1)} %`);
    return out;
}
