/**
 * The lab's pods: one demo app process per pod, listening on the pod's
 * loopback address and port, with the environment its pod template gives it.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "./build";
import type { LabPod } from "./world";

export const DEMO_APP_JS = path.join(PROJECT_DIR, "dist", "app", "server.js");

export interface RunningPod {
    pod: LabPod;
    proc: ChildProcess;
}

function startOne(pod: LabPod): Promise<RunningPod> {
    const port = pod.ports.http ?? Object.values(pod.ports)[0];
    const proc = spawn(process.execPath, [DEMO_APP_JS], {
        env: {
            PATH: process.env.PATH ?? "",
            ...pod.env,
            DRAIN_TIMEOUT_MS: "0",
            HOST: pod.ip,
            PORT: String(port),
            POD_NAME: pod.name,
            POD_IP: pod.ip,
            POD_NAMESPACE: pod.namespace,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    proc.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    return new Promise((resolve, reject) => {
        let buffered = "";
        const timer = setTimeout(
            () => (
                proc.kill("SIGKILL"),
                reject(new Error(`pod ${pod.name} did not listen on ${pod.ip}:${port} within 10 s: ${err}`))
            ),
            10_000,
        );
        const onData = (chunk: Buffer) => {
            buffered += chunk.toString();
            if (/"event":"listening"/.test(buffered)) {
                clearTimeout(timer);
                proc.stdout!.off("data", onData);
                proc.stdout!.resume();
                resolve({ pod, proc });
            }
        };
        proc.stdout!.on("data", onData);
        proc.once(
            "exit",
            (code) => (
                clearTimeout(timer),
                reject(new Error(`pod ${pod.name} exited (${code}) before listening: ${err}`))
            ),
        );
    });
}

/** Starts every pod; on a failure, stops those started and throws. */
export async function startPods(pods: readonly LabPod[]): Promise<RunningPod[]> {
    if (!fs.existsSync(DEMO_APP_JS)) throw new Error(`${DEMO_APP_JS} is missing: run "npm run build:app" first`);
    const settled = await Promise.allSettled(pods.map(startOne));
    const running = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
        await stopPods(running);
        throw failed.reason;
    }
    return running;
}

export async function stopPods(pods: readonly RunningPod[]): Promise<void> {
    await Promise.all(
        pods.map(
            (p) =>
                new Promise<void>((resolve) => {
                    if (p.proc.exitCode !== null || p.proc.signalCode !== null) return resolve();
                    const timer = setTimeout(() => (p.proc.kill("SIGKILL"), resolve()), 5000);
                    p.proc.once("exit", () => (clearTimeout(timer), resolve()));
                    p.proc.kill("SIGTERM");
                }),
        ),
    );
}
