/** Starts the built demo app as a real process on 127.0.0.1 and stops it. */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";

export const DEMO_APP_JS = path.join(__dirname, "..", "..", "dist", "app", "server.js");

export interface RunningApp {
    url: string;
    proc: ChildProcess;
    /** Every line the app has written to stdout so far, parsed. */
    logs: any[];
    stop(): Promise<number | null>;
}

/** `keepLogs: false` drains the app's output unread after it starts (for benchmarks). */
export async function startDemoApp(
    env: Record<string, string>,
    opts: { keepLogs?: boolean } = {},
): Promise<RunningApp> {
    const proc = spawn(process.execPath, [DEMO_APP_JS], {
        env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
        stdio: ["ignore", "pipe", "inherit"],
    });
    const logs: any[] = [];
    let buffered = "";
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    const listening = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the demo app did not start within 5 s")), 5000);
        proc.stdout!.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            let nl;
            while ((nl = buffered.indexOf("\n")) >= 0) {
                const line = JSON.parse(buffered.slice(0, nl));
                buffered = buffered.slice(nl + 1);
                logs.push(line);
                if (line.event === "listening") {
                    clearTimeout(timer);
                    resolve(line.port);
                    if (opts.keepLogs === false) {
                        proc.stdout!.removeAllListeners("data");
                        proc.stdout!.resume();
                        return;
                    }
                }
            }
        });
        proc.once("exit", () => reject(new Error("the demo app exited before listening")));
    });
    const port = await listening;
    return {
        url: `http://127.0.0.1:${port}`,
        proc,
        logs,
        async stop() {
            if (proc.exitCode === null) proc.kill("SIGTERM");
            const timeout = new Promise<null>((r) => setTimeout(() => (proc.kill("SIGKILL"), r(null)), 5000));
            return Promise.race([exited, timeout]);
        },
    };
}
