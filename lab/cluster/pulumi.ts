/**
 * The Pulumi CLI as a user runs it, offline: the harness's own builds first on PATH (the CLI
 * uses a plugin found there before downloading one), a Pulumi home and state of the run's own,
 * and the cluster's kubeconfig.
 */
import { spawn } from "child_process";
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
    /** More folders of plugins (`pulumi-resource-<name>`), after `bin` on PATH. */
    plugins?: string[];
    /** More environment, e.g. PULUMI_BACKEND_URL for a project whose Pulumi.yaml names no backend. */
    env?: Record<string, string>;
}

export interface PulumiResult {
    args: string[];
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/**
 * Runs `pulumi <args>` (non-interactive), bounded in time. Asynchronous: the artifact server, the
 * pod processes' runner and the load balancer live in the caller's process and must keep
 * answering while the CLI runs.
 */
export function pulumi(ctx: PulumiContext, args: string[], timeoutMs = 15 * 60_000): Promise<PulumiResult> {
    fs.mkdirSync(ctx.home, { recursive: true });
    const started = performance.now();
    const child = spawn(path.join(ctx.bin, "pulumi"), [...args, "--non-interactive"], {
        cwd: ctx.cwd,
        // A group of its own, ended with this process: the CLI's plugins and language host are its children.
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
            ...process.env,
            PATH: [ctx.bin, ...(ctx.plugins ?? []), process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_HOME: ctx.home,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            KUBECONFIG: ctx.kubeconfig,
            NO_COLOR: "1",
            ...ctx.env,
        },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
    }, timeoutMs);
    const endGroup = () => {
        try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
            // already gone
        }
    };
    process.once("exit", endGroup);
    return new Promise((resolve) => {
        const done = (code: number | null, failure?: Error) => {
            process.removeListener("exit", endGroup);
            clearTimeout(timer);
            resolve({
                args,
                code: code ?? -1,
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: `${Buffer.concat(err).toString("utf8")}${failure ? `\n${failure.message}` : ""}${timedOut ? `\nkilled after ${timeoutMs / 1000} s` : ""}`,
                seconds: (performance.now() - started) / 1000,
            });
        };
        child.once("error", (e) => done(-1, e));
        child.once("close", (code) => done(code));
    });
}

/** A resource's name: the last part of its URN. */
export const resourceName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** The operations a `pulumi preview --json` plans, by resource name (same, create, update, replace, delete, …). */
export function plannedSteps(previewJson: string): { op: string; name: string; type: string }[] {
    const doc = JSON.parse(previewJson) as { steps?: { op: string; urn: string }[] };
    return (doc.steps ?? []).map((s) => ({
        op: s.op,
        name: resourceName(s.urn),
        type: s.urn.split("::")[2]?.split("$").at(-1) ?? "",
    }));
}
