import type { ChildProcess } from "child_process";

/** Ends a process: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopProcess(p: ChildProcess, graceMs: number): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
}
