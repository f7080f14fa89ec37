/**
 * The Pulumi CLI as a user runs it, offline: the harness's own builds first on PATH (the CLI
 * uses a plugin found there before downloading one), a Pulumi home and state of the run's own,
 * and the cluster's kubeconfig.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface PulumiContext {
    /** The project folder (projectCopy). */
    cwd: string;
    /** The folder holding pulumi, pulumi-language-nodejs and pulumi-resource-kubernetes. */
    bin: string;
    kubeconfig: string;
    /** PULUMI_HOME: plugins and credentials of this run only. */
    home: string;
}

export interface PulumiResult {
    args: string[];
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** Runs `pulumi <args>` (non-interactive), bounded in time. */
export function pulumi(ctx: PulumiContext, args: string[], timeoutMs = 15 * 60_000): PulumiResult {
    fs.mkdirSync(ctx.home, { recursive: true });
    const started = performance.now();
    const r = spawnSync(path.join(ctx.bin, "pulumi"), [...args, "--non-interactive"], {
        cwd: ctx.cwd,
        encoding: "utf8",
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: {
            ...process.env,
            PATH: `${ctx.bin}${path.delimiter}${process.env.PATH ?? ""}`,
            PULUMI_HOME: ctx.home,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            KUBECONFIG: ctx.kubeconfig,
            NO_COLOR: "1",
        },
    });
    return {
        args,
        code: r.status ?? -1,
        stdout: r.stdout ?? "",
        stderr: `${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`,
        seconds: (performance.now() - started) / 1000,
    };
}

/** The operations a `pulumi preview --json` plans, by resource name (same, create, update, replace, delete, …). */
export function plannedSteps(previewJson: string): { op: string; name: string; type: string }[] {
    const doc = JSON.parse(previewJson) as { steps?: { op: string; urn: string }[] };
    return (doc.steps ?? []).map((s) => ({ op: s.op, name: s.urn.slice(s.urn.lastIndexOf("::") + 2), type: s.urn.split("::")[2]?.split("$").at(-1) ?? "" }));
}
