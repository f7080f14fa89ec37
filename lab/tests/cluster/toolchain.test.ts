/**
 * The cluster harness's Pulumi toolchain (lab/cluster/toolchain.ts), built here from the Go module
 * proxy: the CLI and the language host report the @pulumi/pulumi version of devDependencies, and a
 * one-Namespace Node program, offline (file backend, no update check, a home of its own), reaches
 * the Kubernetes provider plugin from PATH: `pulumi preview` runs it (its log finds the cluster unreachable), `pulumi up` makes it
 * dial the kubeconfig's server (a loopback port nobody listens on) and say the cluster is
 * unreachable, and nothing is downloaded.
 *
 * Runs when ISTIO_STICKY_CLUSTER is set (the cold build takes about 13 minutes on two cores):
 *   ISTIO_STICKY_CLUSTER=1 npx mocha --node-option import=tsx --timeout 20000 --exit lab/tests/cluster/toolchain.test.ts
 * (not with --config tests/.mocharc.json, whose spec adds every test file)
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ensurePulumiToolchain, pulumiVersion, type PulumiToolchain } from "../../cluster/toolchain";
import { PROJECT_DIR } from "../../build";

const REPO = PROJECT_DIR;

/** A loopback port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

function kubeconfig(server: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: none",
        "  cluster:",
        `    server: ${server}`,
        "    insecure-skip-tls-verify: true",
        "users:",
        "- name: none",
        "  user:",
        "    token: none",
        "contexts:",
        "- name: none",
        "  context: {cluster: none, user: none}",
        "current-context: none",
        "",
    ].join("\n");
}

/** A Node program of one Namespace on an explicit provider; node_modules links only the two SDKs. */
function writeProgram(dir: string, kubeconfigPath: string): void {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: toolchain-check\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "toolchain-check", version: "0.0.0", main: "index.js" }) + "\n",
    );
    fs.writeFileSync(
        path.join(dir, "index.js"),
        [
            `const fs = require("fs");`,
            `const k8s = require("@pulumi/kubernetes");`,
            `const provider = new k8s.Provider("nowhere", { kubeconfig: fs.readFileSync(${JSON.stringify(kubeconfigPath)}, "utf8") });`,
            `new k8s.core.v1.Namespace("check", { metadata: { name: "toolchain-check" } }, { provider });`,
            "",
        ].join("\n"),
    );
    // Only these two: the language host reports every plugin package under node_modules, and the
    // repository's node_modules also holds @pulumi/kubernetes-cert-manager, a plugin not built here.
    const scope = path.join(dir, "node_modules", "@pulumi");
    fs.mkdirSync(scope, { recursive: true });
    for (const p of ["pulumi", "kubernetes"])
        fs.symlinkSync(path.join(REPO, "node_modules", "@pulumi", p), path.join(scope, p));
}

describe("lab Pulumi toolchain (CLI, Node.js language host, Kubernetes provider plugin)", function () {
    this.timeout(90 * 60_000);
    let toolchain: PulumiToolchain;
    let tmp: string;
    let env: NodeJS.ProcessEnv;

    before(function () {
        if (!process.env.ISTIO_STICKY_CLUSTER) {
            console.log(
                "    skipped: set ISTIO_STICKY_CLUSTER=1 to build (cold: about 13 minutes) and run the lab's Pulumi toolchain",
            );
            this.skip();
        }
        toolchain = ensurePulumiToolchain();
        const warmStarted = performance.now();
        const warm = ensurePulumiToolchain();
        const warmSeconds = (performance.now() - warmStarted) / 1000;
        assert.equal(warm.bin, toolchain.bin);
        assert.ok(warm.cached);
        const size = execFileSync("du", ["-sh", path.dirname(toolchain.bin)], { encoding: "utf8" }).split("\t")[0];
        const v = toolchain.versions;
        console.log(
            `    toolchain: pulumi ${v.pulumi}, language hosts ${v.languageNodejs} (yaml ${v.languageYaml}), ` +
                `pulumi-resource-kubernetes ${v.kubernetes.reports} (provider module ${v.kubernetes.module}), ${v.go}`,
        );
        console.log(
            `    ${toolchain.cached ? "cold build not measured (cached)" : `cold build ${toolchain.seconds.toFixed(1)} s`}, ` +
                `warm ${warmSeconds.toFixed(2)} s, ${size} in ${path.dirname(toolchain.bin)}`,
        );

        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-toolchain-"));
        const home = path.join(tmp, "home");
        const state = path.join(tmp, "state");
        fs.mkdirSync(home);
        fs.mkdirSync(state);
        env = {
            ...process.env,
            PATH: `${toolchain.bin}${path.delimiter}${process.env.PATH ?? ""}`,
            HOME: home,
            PULUMI_HOME: path.join(home, ".pulumi"),
            PULUMI_BACKEND_URL: `file://${state}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DIY_BACKEND_NO_RETRY: "true",
        };
        delete env.PULUMI_IGNORE_AMBIENT_PLUGINS;
        delete env.PULUMI_ACCESS_TOKEN;
        delete env.KUBECONFIG;
    });

    after(function () {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pulumi version and the Node.js, Python and Go language hosts' -version print the @pulumi/pulumi version", function () {
        const expected = toolchain.versions.pulumi;
        assert.equal(pulumiVersion(toolchain.bin), expected);
        for (const language of ["nodejs", "python", "go"]) {
            const host = execFileSync(path.join(toolchain.bin, `pulumi-language-${language}`), ["-version"], {
                encoding: "utf8",
                timeout: 30_000,
            }).trim();
            assert.equal(host, expected, language);
        }
        for (const b of [
            "pulumi",
            "pulumi-language-nodejs",
            "pulumi-language-python",
            "pulumi-language-python-exec",
            "pulumi-language-go",
            "pulumi-language-yaml",
            "dotnetgen",
            "pulumi-resource-kubernetes",
        ]) {
            assert.ok(fs.statSync(path.join(toolchain.bin, b)).mode & 0o100, `${b} is executable`);
        }
    });

    it("pulumi preview and up of a Namespace reach the Kubernetes provider plugin from PATH (nothing downloaded)", async function () {
        const port = await closedPort();
        const dir = path.join(tmp, "program");
        fs.mkdirSync(dir);
        const kc = path.join(tmp, "kubeconfig");
        fs.writeFileSync(kc, kubeconfig(`https://127.0.0.1:${port}`));
        writeProgram(dir, kc);

        const run = (args: string[]) => {
            const started = performance.now();
            const r = spawnSync(path.join(toolchain.bin, "pulumi"), [...args, "--non-interactive"], {
                cwd: dir,
                env,
                encoding: "utf8",
                timeout: 10 * 60_000,
                maxBuffer: 64 * 1024 * 1024,
            });
            const out = `${r.stdout}\n${r.stderr}`;
            console.log(
                `    pulumi ${args.join(" ")}: exit ${r.status} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
            );
            return { code: r.status, out, detail: `\n--- pulumi ${args.join(" ")} ---\n${out.slice(-20_000)}` };
        };
        const fromPath = /warning: using pulumi-resource-kubernetes from \$PATH at (\S+)/;
        const init = run(["stack", "init", "dev"]);
        assert.equal(init.code, 0, init.detail);

        // Preview succeeds without the cluster (the provider previews a create of a kind it knows),
        // and the provider's own log (passed through by --logflow) says it could not reach it.
        const preview = run(["preview", "--logtostderr", "--logflow", "-v=3"]);
        assert.equal(preview.code, 0, preview.detail);
        assert.equal(
            fromPath.exec(preview.out)?.[1],
            path.join(toolchain.bin, "pulumi-resource-kubernetes"),
            preview.detail,
        );
        assert.match(
            preview.out,
            /provider\.go:\d+\] gvkExists check failed due to unreachable cluster/,
            preview.detail,
        );
        assert.match(preview.out, /\+ +kubernetes:core\/v1:Namespace +check +create/, preview.detail);

        // Up: the provider dials the kubeconfig's server and says the cluster is unreachable.
        const up = run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(up.code, 0, up.detail);
        assert.match(up.out, /configured Kubernetes cluster is unreachable/, up.detail);
        assert.match(up.out, new RegExp(`dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused`), up.detail);

        for (const r of [preview, up]) assert.doesNotMatch(r.out, /download|plugin install/i, r.detail);
        const plugins = path.join(env.PULUMI_HOME!, "plugins");
        const installed = fs.existsSync(plugins) ? fs.readdirSync(plugins).filter((p) => !p.startsWith(".")) : [];
        assert.deepEqual(installed, [], "no plugin was installed into PULUMI_HOME");
    });
});
