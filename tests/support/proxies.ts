/** Real sticky proxies from Debian, run on 127.0.0.1 for the verify tests. */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../../lab/envoy";

export { freePort };

export interface RunningProxy {
    url: string;
    proc: ChildProcess;
    stop(): Promise<void>;
}

function binary(name: string): string {
    for (const p of [`/usr/sbin/${name}`, `/usr/bin/${name}`]) if (fs.existsSync(p)) return p;
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (found) return found;
    throw new Error(`${name} is not installed: run "bash tests/install-proxies.sh"`);
}

async function waitForHttp(url: string, proc: ChildProcess, logFile?: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
        if (proc.exitCode !== null) break;
        try {
            await fetch(url, { signal: AbortSignal.timeout(500) });
            return;
        } catch {
            await new Promise((r) => setTimeout(r, 50));
        }
    }
    const log = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
    throw new Error(`proxy at ${url} did not answer within 5 s (exit ${proc.exitCode})\n${log}`);
}

function stopper(proc: ChildProcess, dir: string) {
    return async () => {
        if (proc.exitCode === null) {
            const exited = new Promise((r) => proc.once("exit", r));
            proc.kill("SIGTERM");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (proc.exitCode === null) proc.kill("SIGKILL");
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
}

/**
 * nginx in front of `backends`; `balance` is the upstream's balancing line,
 * e.g. "hash $http_x_user consistent;" or "" for round robin.
 */
export async function startNginx(backends: number[], balance: string, extra = ""): Promise<RunningProxy> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-nginx-"));
    const port = await freePort();
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .map((t) => `${t}_temp_path ${dir}/${t};`)
        .join("\n    ");
    fs.writeFileSync(
        path.join(dir, "nginx.conf"),
        `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    ${temp}
    upstream app {
        ${balance}
        ${backends.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join("\n        ")}
        keepalive 32;
    }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            ${extra}
        }
    }
}
`,
    );
    const proc = spawn(binary("nginx"), ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`], {
        stdio: "ignore",
    });
    const url = `http://127.0.0.1:${port}/`;
    await waitForHttp(url, proc, `${dir}/error.log`);
    return { url, proc, stop: stopper(proc, dir) };
}

/** haproxy in front of `backends`, round robin, keeping each client on a server with an inserted cookie. */
export async function startHaproxy(backends: number[], cookie = "SRV"): Promise<RunningProxy> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-haproxy-"));
    const port = await freePort();
    fs.writeFileSync(
        path.join(dir, "haproxy.cfg"),
        `global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend web
    bind 127.0.0.1:${port}
    default_backend app
backend app
    balance roundrobin
    cookie ${cookie} insert indirect nocache
${backends.map((p, i) => `    server s${i + 1} 127.0.0.1:${p} cookie s${i + 1}`).join("\n")}
`,
    );
    const proc = spawn(binary("haproxy"), ["-db", "-f", path.join(dir, "haproxy.cfg")], {
        stdio: ["ignore", "ignore", "pipe"],
    });
    const url = `http://127.0.0.1:${port}/`;
    await waitForHttp(url, proc);
    return { url, proc, stop: stopper(proc, dir) };
}
