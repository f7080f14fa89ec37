/**
 * Third-party source is read from ../shared/upstream (or ISTIO_STICKY_UPSTREAM), never kept in the
 * repository: no tracked file is one of the upstream trees' files (by git blob id, as their MANIFEST
 * lists them), and every wrapper module's replace of an upstream module reaches its tree.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cloneUpstream, upstreamReplaces, upstreamRoot, wrapperBuildDir } from "../cluster/upstream";

const ROOT = path.join(__dirname, "..", "..");
const WRAPPERS = ["certmanager/plugin", "certmanager/programs", "pulumi/cli"].map((d) =>
    path.join(ROOT, "lab", "cluster", d),
);

describe("upstream source: read from ../shared/upstream, not kept in the repository", function () {
    this.timeout(60_000);
    const manifest = path.join(upstreamRoot(), "MANIFEST");
    before(function () {
        if (!fs.existsSync(manifest)) {
            console.log(`      skipped: needs ${manifest} (../shared/upstream beside the repository)`);
            this.skip();
        }
    });

    it("tracks none of the upstream trees' files (by git blob id)", () => {
        const upstream = new Map(
            fs
                .readFileSync(manifest, "utf8")
                .trim()
                .split("\n")
                .map((l) => l.split(/\s+/) as [string, string]),
        );
        const tracked = execFileSync("git", ["ls-files", "-s"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 })
            .trim()
            .split("\n")
            .map((l) => /^\d+ ([0-9a-f]{40}) \d+\t(.+)$/.exec(l)!);
        // The project's own license is the Apache-2.0 text, as cert-manager's is: the one file that may be the same.
        const copies = tracked
            .filter(([, blob, file]) => upstream.has(blob) && file !== "LICENSE")
            .map(([, blob, file]) => `${file} = ${upstream.get(blob)}`);
        assert.deepEqual(copies, []);
        // The check sees a copy: a file of a tree, by its blob id.
        const [blob, file] = [...upstream].find(([, f]) => f.endsWith("main.go"))!;
        const id = execFileSync("git", ["hash-object", path.join(upstreamRoot(), file)], { encoding: "utf8" }).trim();
        assert.equal(id, blob);
    });

    it("replaces each unserved module of the wrapper modules with its tree there", () => {
        const replaced = WRAPPERS.flatMap((w) =>
            upstreamReplaces(w).map((r) => `${r.module} ${path.relative(upstreamRoot(), r.dir)}`),
        );
        assert.deepEqual(replaced.sort(), [
            "github.com/cert-manager/cert-manager/cainjector-binary cert-manager-378ef0e28bd6/cmd/cainjector",
            "github.com/cert-manager/cert-manager/controller-binary cert-manager-378ef0e28bd6/cmd/controller",
            "github.com/cert-manager/cert-manager/webhook-binary cert-manager-378ef0e28bd6/cmd/webhook",
            "github.com/pulumi/pulumi-kubernetes-cert-manager/provider pulumi-kubernetes-cert-manager-v0.2.0/provider",
            "github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3 pulumi-language-go-v3.248.0/sdk/go/pulumi-language-go",
            "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 pulumi-language-nodejs-v3.248.0/sdk/nodejs/cmd/pulumi-language-nodejs",
            "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 pulumi-language-python-v3.248.0/sdk/python/cmd/pulumi-language-python",
        ]);
        for (const w of WRAPPERS)
            assert.equal(wrapperBuildDir(w, "/nonexistent"), w, "built in place where ../shared/upstream is");
    });

    it("elsewhere (ISTIO_STICKY_UPSTREAM) builds from a copy of go.mod pointed there", () => {
        const saved = process.env.ISTIO_STICKY_UPSTREAM;
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-upstream-"));
        try {
            const other = path.join(scratch, "trees");
            fs.mkdirSync(other);
            fs.symlinkSync(
                path.join(upstreamRoot(), "pulumi-kubernetes-cert-manager-v0.2.0"),
                path.join(other, "pulumi-kubernetes-cert-manager-v0.2.0"),
            );
            process.env.ISTIO_STICKY_UPSTREAM = other;
            const plugin = wrapperBuildDir(WRAPPERS[0], path.join(scratch, "plugin"));
            assert.equal(plugin, path.join(scratch, "plugin"));
            assert.match(
                fs.readFileSync(path.join(plugin, "go.mod"), "utf8"),
                new RegExp(
                    `provider => ${other.replace(/[.]/g, "\\.")}/pulumi-kubernetes-cert-manager-v0\\.2\\.0/provider$`,
                    "m",
                ),
            );
        } finally {
            if (saved === undefined) delete process.env.ISTIO_STICKY_UPSTREAM;
            else process.env.ISTIO_STICKY_UPSTREAM = saved;
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });

    it("without the folder, clones a tree at its pinned commit, only the module's path and the license checked out", () => {
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-clone-"));
        const git = (cwd: string, ...args: string[]) =>
            execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
                cwd,
                encoding: "utf8",
            }).trim();
        try {
            const repo = path.join(scratch, "repo");
            for (const f of ["LICENSE", "cmd/tool/go.mod", "cmd/tool/main.go", "other/big.go"]) {
                fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
                fs.writeFileSync(path.join(repo, f), `${f}\n`);
            }
            git(scratch, "init", "-q", "-b", "main", repo);
            git(repo, "add", ".");
            git(repo, "commit", "-qm", "one");
            const pinned = git(repo, "rev-parse", "HEAD");
            git(repo, "tag", "v1.0.0");
            fs.writeFileSync(path.join(repo, "cmd/tool/main.go"), "moved on\n");
            git(repo, "commit", "-qam", "two");

            const root = path.join(scratch, "upstream");
            cloneUpstream(root, "tool-v1.0.0", "cmd/tool", { repo: `file://${repo}`, ref: "main", commit: pinned });
            const tree = path.join(root, "tool-v1.0.0");
            assert.equal(
                fs.readFileSync(path.join(tree, "cmd/tool/main.go"), "utf8"),
                "cmd/tool/main.go\n",
                "at the pinned commit, not the branch head",
            );
            assert.ok(fs.existsSync(path.join(tree, "LICENSE")));
            assert.ok(!fs.existsSync(path.join(tree, "other")), "only the module's path is checked out");

            assert.throws(
                () =>
                    cloneUpstream(root, "gone", "cmd/tool", {
                        repo: `file://${scratch}/nowhere`,
                        ref: "v1.0.0",
                        commit: pinned,
                    }),
                /could not clone file:\/\/.*nowhere at v1\.0\.0 \(\w{40}\) into .*gone: .*nowhere/,
            );
            assert.throws(
                () =>
                    cloneUpstream(root, "wrong", "cmd/tool", {
                        repo: `file://${repo}`,
                        ref: "v1.0.0",
                        commit: "0".repeat(40),
                    }),
                /could not clone/,
            );
            assert.deepEqual(fs.readdirSync(root), ["tool-v1.0.0"], "a failed clone leaves nothing behind");
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });
});
