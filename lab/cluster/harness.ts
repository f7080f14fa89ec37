/**
 * `pulumi up` for real, offline: the package's program run by the Pulumi CLI and the Kubernetes
 * provider built here, against a Kubernetes control plane built here (loopback only, kwok making
 * pods Ready). The scenario is the up → no-change preview → refresh pattern of Pulumi's own
 * provider tests, then an edit and a destroy, each step checked in the cluster.
 */
import * as os from "os";
import * as path from "path";
import * as fs from "fs";
import { buildPlan, type Plan } from "../../components/plan/stack";
import { parseStackConfig } from "../../components/settings/validate";
import { demoAppSource } from "../../components/registration/demoAppScript";
import { checkRendered, leftBehind, type ObjectCheck } from "./checks";
import { getObject } from "./kubectl";
import { projectCopy } from "./project";
import { plannedSteps, pulumi, type PulumiContext, type PulumiResult } from "./pulumi";
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
            service: { name: EXISTING.service, port: EXISTING.port, targetPort: EXISTING.targetPort, enrolNamespace: true },
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

/** The harness's steps, in the order they run. */
export const STEP = {
    SEED: "the cluster holds Istio's CRDs, the gateway's Service and the team's own workload",
    INIT: "pulumi stack init",
    PREVIEW: "pulumi preview",
    UP: "pulumi up",
    RENDERED: "every rendered object exists with the rendered spec; the existing Service carries the patch",
    OUTPUTS: "the stack outputs hold the ingress address and each app's pods with their IPs",
    NO_CHANGE: "pulumi preview shows no changes",
    REFRESH: "pulumi refresh shows no changes",
    EDIT_PLAN: "an edited stack (one app added) creates only the new app's objects",
    EDIT_UP: "pulumi up of the edited stack",
    EDIT_CHECK: "the added app's objects exist",
    DESTROY: "pulumi destroy",
    NOTHING_LEFT: "pulumi destroy leaves nothing behind, and the team's Service and namespace as they were",
} as const;

export interface Step {
    name: string;
    ok: boolean;
    detail: string;
    seconds: number;
}

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

const tail = (r: PulumiResult, n = 60) => `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-n).join("\n");
const planOf = (config: Record<string, unknown>): Plan => buildPlan(parseStackConfig(config).value, { name: "sticky", demoAppSource: demoAppSource() });
const problemsOf = (checks: ObjectCheck[]) => checks.filter((c) => c.problems.length).map((c) => `${c.kind} ${c.name}: ${c.problems.join("; ")}`);

/** Runs the scenario; every step is recorded, and a failed step ends the run after a best-effort destroy. */
export async function runHarness(cluster: ClusterHandle, bin: string): Promise<HarnessRun> {
    const steps: Step[] = [];
    const project = projectCopy();
    const ctx: PulumiContext = { cwd: project.dir, bin, kubeconfig: cluster.kubeconfig, home: path.join(project.dir, ".pulumi-home") };
    const step = async (name: string, run: () => Promise<{ ok: boolean; detail: string }> | { ok: boolean; detail: string }) => {
        const started = performance.now();
        let result: { ok: boolean; detail: string };
        try {
            result = await run();
        } catch (e) {
            result = { ok: false, detail: (e as Error).stack ?? String(e) };
        }
        steps.push({ name, ...result, seconds: (performance.now() - started) / 1000 });
        return result.ok;
    };
    const cli = (name: string, args: string[], ok: (r: PulumiResult) => boolean = (r) => r.code === 0) =>
        step(name, () => {
            const r = pulumi(ctx, args);
            return { ok: ok(r), detail: `pulumi ${args.join(" ")} → exit ${r.code} in ${r.seconds.toFixed(1)} s\n${tail(r)}` };
        });
    const version = pulumi(ctx, ["version"]).stdout.trim();
    try {
        project.writeStack(HARNESS_STACK_NAME, HARNESS_STACK);
        const plan = planOf(HARNESS_STACK);
        const ran =
            (await step(STEP.SEED, () => {
                seedCluster(cluster);
                return { ok: true, detail: "seeded" };
            })) &&
            (await cli(STEP.INIT, ["stack", "init", HARNESS_STACK_NAME, "--secrets-provider", "passphrase"])) &&
            (await cli(STEP.PREVIEW, ["preview", "--diff"])) &&
            (await cli(STEP.UP, ["up", "--yes", "--skip-preview"])) &&
            (await step(STEP.RENDERED, async () => {
                const problems = problemsOf(checkRendered(cluster, plan));
                return { ok: problems.length === 0, detail: problems.join("\n") || `${plan.objects.length} planned objects checked` };
            })) &&
            (await step(STEP.OUTPUTS, () => {
                const r = pulumi(ctx, ["stack", "output", "--json", "--show-secrets"]);
                const out = JSON.parse(r.stdout || "{}");
                const problems: string[] = [];
                if (!out.ingress?.nodePorts?.http && !out.ingress?.url) problems.push(`ingress: ${JSON.stringify(out.ingress)}`);
                for (const [app, want] of [
                    ["sticky", 2],
                    ["orders", 2],
                ] as const) {
                    const pods = out.pods?.[app] ?? [];
                    if (pods.length !== want || !pods.every((p: { ip?: string }) => /^\d+\.\d+\.\d+\.\d+$/.test(p.ip ?? "")))
                        problems.push(`pods of ${app}: ${JSON.stringify(pods)} (want ${want} with IPs)`);
                }
                return { ok: problems.length === 0, detail: problems.join("\n") || JSON.stringify({ ingress: out.ingress, pods: out.pods }) };
            })) &&
            (await cli(STEP.NO_CHANGE, ["preview", "--expect-no-changes"]));
        // A refresh that finds changes records them and changes nothing in the cluster: the edit still runs.
        if (ran) await cli(STEP.REFRESH, ["refresh", "--yes", "--expect-no-changes", "--skip-preview", "--diff"]);
        if (ran) {
            project.writeStack(HARNESS_STACK_NAME, HARNESS_STACK_EDITED);
            const edited = planOf(HARNESS_STACK_EDITED);
            const added = new Set(edited.objects.map((o) => o.key).filter((k) => !plan.objects.some((o) => o.key === k)));
            (await step(STEP.EDIT_PLAN, () => {
                const r = pulumi(ctx, ["preview", "--json"]);
                if (r.code !== 0) return { ok: false, detail: tail(r) };
                // A read (the gateway Service's) is taken again by every preview: it changes nothing.
                const changed = plannedSteps(r.stdout).filter((s) => s.op !== "same" && s.op !== "read");
                const wrong = changed.filter((s) => !(s.op === "create" && (added.has(s.name) || s.name.startsWith("sticky-carts"))));
                const missing = [...added].filter((k) => !changed.some((s) => s.name === k));
                return {
                    ok: wrong.length === 0 && missing.length === 0,
                    detail: `changes: ${changed.map((s) => `${s.op} ${s.name}`).join(", ")}${wrong.length ? `\nunexpected: ${wrong.map((s) => `${s.op} ${s.name}`).join(", ")}` : ""}${missing.length ? `\nnot planned: ${missing.join(", ")}` : ""}`,
                };
            })) &&
                (await cli(STEP.EDIT_UP, ["up", "--yes", "--skip-preview"])) &&
                (await step(STEP.EDIT_CHECK, async () => {
                    const problems = problemsOf(checkRendered(cluster, edited));
                    return { ok: problems.length === 0, detail: problems.join("\n") || `${edited.objects.length} planned objects checked` };
                }));
        }
        // Nothing to destroy when the stack was never created.
        if (!steps.some((s) => s.name === STEP.INIT && s.ok)) return { steps, pulumiVersion: version };
        await cli(STEP.DESTROY, ["destroy", "--yes", "--skip-preview"]);
        await step(STEP.NOTHING_LEFT, async () => {
            const problems = [...leftBehind(cluster, planOf(HARNESS_STACK_EDITED))];
            const svc = getObject(cluster, { apiVersion: "v1", kind: "Service", metadata: { name: EXISTING.service, namespace: EXISTING.namespace } });
            const deploy = getObject(cluster, {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: EXISTING.deployment, namespace: EXISTING.namespace },
            });
            if (!svc || !deploy) problems.push("the team's Deployment or Service is gone");
            return { ok: problems.length === 0, detail: problems.join("\n") || "nothing left" };
        });
    } finally {
        if (!process.env.KEEP_HARNESS) project.remove();
        else fs.writeFileSync(path.join(os.tmpdir(), "sticky-harness-project"), project.dir);
    }
    return { steps, pulumiVersion: version };
}
