/**
 * `pulumi up` for real, offline: the package's program run by the Pulumi CLI and the Kubernetes
 * provider built here, against a Kubernetes control plane built here (loopback only, kwok making
 * pods Ready). The scenario is the up → no-change preview → refresh pattern of Pulumi's own
 * provider tests, then an edit and a destroy, each step checked in the cluster.
 */
import * as os from "os";
import * as path from "path";
import * as fs from "fs";
import { buildPlan, type Plan, parseStackConfig, demoAppSource } from "istio-sticky";
import { checkRendered, leftBehind, type ObjectCheck } from "./checks";
import { getObject } from "./kubectl";
import { projectCopy } from "./project";
import { plannedSteps, pulumi, type PulumiContext } from "./pulumi";
import { stepRecorder, tail, type Step } from "./steps";
import { EXISTING, seedCluster } from "./seed";

/** The stack the harness deploys: an app of the package's own with direct routing, and the team's existing Service. */
export const HARNESS_STACK: Record<string, unknown> = {
    "istio-sticky:mesh": { install: false, gateway: { serviceType: "NodePort" } },
    "istio-sticky:apps": [
        {
            name: "sticky",
            replicas: 2,
            affinity: { mode: "header", headerName: "x-user" },
            direct: { enabled: true, podCidr: "10.244.0.0/16" },
        },
        {
            name: "orders",
            namespace: EXISTING.namespace,
            path: "/orders",
            affinity: { mode: "cookie", cookie: { name: "o", ttl: "3600s" } },
            service: {
                name: EXISTING.service,
                port: EXISTING.port,
                targetPort: EXISTING.targetPort,
                enrolNamespace: true,
            },
        },
    ],
};

/** The same stack with one app added. */
export const HARNESS_STACK_EDITED: Record<string, unknown> = {
    ...HARNESS_STACK,
    "istio-sticky:apps": [
        ...(HARNESS_STACK["istio-sticky:apps"] as object[]),
        { name: "carts", affinity: { mode: "queryParameter", queryParameterName: "u" } },
    ],
};

export const HARNESS_STACK_NAME = "cluster";

/** The steps every scenario runs, in this order; a scenario's own checks come after RENDERED, its seed first. */
export const STEP = {
    INIT: "pulumi stack init",
    PREVIEW: "pulumi preview",
    UP: "pulumi up",
    RENDERED: "every rendered object exists with the rendered spec",
    OUTPUTS: "the stack outputs hold the ingress address and each app's pods with their IPs",
    NO_CHANGE: "pulumi preview shows no changes",
    REFRESH: "pulumi refresh shows no changes",
    AFTER_REFRESH: "pulumi preview after the refresh shows no changes",
    EDIT_PLAN: "an edited stack (one app added) creates only the new app's objects",
    EDIT_UP: "pulumi up of the edited stack",
    EDIT_CHECK: "the added app's objects exist",
    DESTROY: "pulumi destroy",
    NOTHING_LEFT: "pulumi destroy leaves nothing behind",
} as const;

/** A check of the cluster: its problems (none: it passed), or a line saying what it saw. */
export type Check = (cluster: ClusterHandle, plan: Plan) => Promise<string[]> | string[];

/** One stack run through the scenario. */
export interface Scenario {
    /** The stack's name (stacks/Pulumi.<stack>.yaml in the project's copy). */
    stack: string;
    /** Its config, keys as in a stack file ("istio-sticky:apps", …). */
    config: Record<string, unknown>;
    /** The same config with one app added. */
    edited: Record<string, unknown>;
    /** The name of the app the edit adds (its objects are named <project>-<app>-…). */
    addedApp: string;
    /** What the cluster must hold before the stack runs. */
    seed?: { name: string; run: (cluster: ClusterHandle) => string };
    /** Checks after `pulumi up`, each a step of its own, by name. */
    checks?: Record<string, Check>;
    /** Problems after `pulumi destroy`, besides the planned objects left behind. */
    afterDestroy?: Check;
}

/** The steps a scenario runs, by name, in order. */
export function stepsOf(s: Scenario): string[] {
    const all = Object.values(STEP) as string[];
    const rendered = all.indexOf(STEP.RENDERED);
    return [
        ...(s.seed ? [s.seed.name] : []),
        ...all.slice(0, rendered + 1),
        ...Object.keys(s.checks ?? {}),
        ...all.slice(rendered + 1),
    ];
}

/** The Istio this scenario finds installed, and the team's Service next to the package's own app (EXISTING_ISTIO). */
export const EXISTING_ISTIO: Scenario = {
    stack: HARNESS_STACK_NAME,
    config: HARNESS_STACK,
    edited: HARNESS_STACK_EDITED,
    addedApp: "carts",
    seed: {
        name: "the cluster holds Istio's CRDs, the gateway's Service and the team's own workload",
        run: (cluster) => {
            seedCluster(cluster);
            return "seeded";
        },
    },
    checks: {
        "the existing Service carries the patch": (cluster, plan) =>
            problemsOf(checkRendered(cluster, { ...plan, objects: plan.objects.filter((o) => o.patch) })),
    },
    afterDestroy: (cluster) => {
        const svc = getObject(cluster, {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: EXISTING.service, namespace: EXISTING.namespace },
        });
        const deploy = getObject(cluster, {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: EXISTING.deployment, namespace: EXISTING.namespace },
        });
        return !svc || !deploy ? ["the team's Deployment or Service is gone"] : [];
    },
};

export interface HarnessRun {
    steps: Step[];
    pulumiVersion: string;
}

/** What a running cluster gives the harness (lab/cluster/controlplane.ts startCluster). */
export interface ClusterHandle {
    kubeconfig: string;
    /** Where the control plane's kubectl is. */
    bin: string;
}

const planOf = (config: Record<string, unknown>): Plan =>
    buildPlan(parseStackConfig(config).value, { name: "sticky", demoAppSource: demoAppSource() });
const problemsOf = (checks: ObjectCheck[]) =>
    checks.filter((c) => c.problems.length).map((c) => `${c.kind} ${c.name}: ${c.problems.join("; ")}`);

/** The pods each app of a plan runs: its Deployment's replicas (existing Services: their own Deployment's, which the stack does not know). */
function expectedPods(plan: Plan, config: Record<string, unknown>, cluster: ClusterHandle): Record<string, number> {
    const apps = (config["istio-sticky:apps"] ?? []) as {
        name: string;
        namespace?: string;
        service?: { name?: string };
    }[];
    const out: Record<string, number> = {};
    for (const app of apps) {
        const d = plan.objects.find((o) => o.object.kind === "Deployment" && o.owner.endsWith(`-${app.name}`));
        if (d) out[app.name] = d.object.spec?.replicas ?? 1;
        else if (app.service) {
            const live = getObject(cluster, {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: EXISTING.deployment, namespace: app.namespace ?? app.name },
            });
            out[app.name] = live?.spec?.replicas ?? 1;
        }
    }
    return out;
}

/** Runs the scenario; every step is recorded, and a failed step ends the run after a best-effort destroy. */
export async function runScenario(
    scenario: Scenario,
    cluster: ClusterHandle,
    bin: string,
    plugins: string[] = [],
): Promise<HarnessRun> {
    const project = projectCopy();
    const ctx: PulumiContext = {
        cwd: project.dir,
        bin,
        plugins,
        kubeconfig: cluster.kubeconfig,
        home: path.join(project.dir, ".pulumi-home"),
    };
    const { steps, step, check, cli } = stepRecorder(ctx);
    const version = (await pulumi(ctx, ["version"])).stdout.trim();
    const { stack, config, edited: editedConfig } = scenario;
    try {
        project.writeStack(stack, config);
        const plan = planOf(config);
        let ran =
            !scenario.seed ||
            (await step(scenario.seed.name, () => ({ ok: true, detail: scenario.seed!.run(cluster) })));
        ran =
            ran &&
            (await cli(STEP.INIT, ["stack", "init", stack, "--secrets-provider", "passphrase"])) &&
            (await cli(STEP.PREVIEW, ["preview", "--diff"])) &&
            (await cli(STEP.UP, ["up", "--yes", "--skip-preview"])) &&
            (await check(
                STEP.RENDERED,
                () => problemsOf(checkRendered(cluster, plan)),
                `${plan.objects.length} planned objects checked`,
            ));
        for (const [name, f] of Object.entries(scenario.checks ?? {}))
            ran = ran && (await check(name, () => f(cluster, plan), "as expected"));
        ran =
            ran &&
            (await step(STEP.OUTPUTS, async () => {
                const r = await pulumi(ctx, ["stack", "output", "--json", "--show-secrets"]);
                const out = JSON.parse(r.stdout || "{}");
                const problems: string[] = [];
                if (!out.ingress?.nodePorts?.http && !out.ingress?.url)
                    problems.push(`ingress: ${JSON.stringify(out.ingress)}`);
                for (const [app, want] of Object.entries(expectedPods(plan, config, cluster))) {
                    const pods = out.pods?.[app] ?? [];
                    if (
                        pods.length !== want ||
                        !pods.every((p: { ip?: string }) => /^\d+\.\d+\.\d+\.\d+$/.test(p.ip ?? ""))
                    )
                        problems.push(`pods of ${app}: ${JSON.stringify(pods)} (want ${want} with IPs)`);
                }
                return {
                    ok: problems.length === 0,
                    detail: problems.join("\n") || JSON.stringify({ ingress: out.ingress, pods: out.pods }),
                };
            })) &&
            (await cli(STEP.NO_CHANGE, ["preview", "--expect-no-changes"]));
        // A refresh that finds changes records them and changes nothing in the cluster: the edit still runs.
        if (ran) {
            await cli(STEP.REFRESH, ["refresh", "--yes", "--expect-no-changes", "--skip-preview", "--diff"]);
            // The state now holds what the cluster holds (status updates included): still nothing to do.
            await cli(STEP.AFTER_REFRESH, ["preview", "--expect-no-changes", "--diff"]);
        }
        if (ran) {
            project.writeStack(stack, editedConfig);
            const edited = planOf(editedConfig);
            const added = new Set(
                edited.objects.map((o) => o.key).filter((k) => !plan.objects.some((o) => o.key === k)),
            );
            (await step(STEP.EDIT_PLAN, async () => {
                const r = await pulumi(ctx, ["preview", "--json"]);
                if (r.code !== 0) return { ok: false, detail: tail(r) };
                const changed = plannedSteps(r.stdout).filter((s) => s.op !== "same" && s.op !== "read");
                const wrong = changed.filter(
                    (s) =>
                        !(s.op === "create" && (added.has(s.name) || s.name.startsWith(`sticky-${scenario.addedApp}`))),
                );
                const missing = [...added].filter((k) => !changed.some((s) => s.name === k));
                return {
                    ok: wrong.length === 0 && missing.length === 0,
                    detail: `changes: ${changed.map((s) => `${s.op} ${s.name}`).join(", ")}${wrong.length ? `\nunexpected: ${wrong.map((s) => `${s.op} ${s.name}`).join(", ")}` : ""}${missing.length ? `\nnot planned: ${missing.join(", ")}` : ""}`,
                };
            })) &&
                (await cli(STEP.EDIT_UP, ["up", "--yes", "--skip-preview"])) &&
                (await check(
                    STEP.EDIT_CHECK,
                    () => problemsOf(checkRendered(cluster, edited)),
                    `${edited.objects.length} planned objects checked`,
                ));
        }
        // Nothing to destroy when the stack was never created.
        if (!steps.some((s) => s.name === STEP.INIT && s.ok)) return { steps, pulumiVersion: version };
        await cli(STEP.DESTROY, ["destroy", "--yes", "--skip-preview"]);
        await check(
            STEP.NOTHING_LEFT,
            async () => [
                ...leftBehind(cluster, planOf(editedConfig)),
                ...((await scenario.afterDestroy?.(cluster, plan)) ?? []),
            ],
            "nothing left",
        );
    } finally {
        if (!process.env.KEEP_HARNESS) project.remove();
        else fs.writeFileSync(path.join(os.tmpdir(), `sticky-harness-project-${stack}`), project.dir);
    }
    return { steps, pulumiVersion: version };
}
