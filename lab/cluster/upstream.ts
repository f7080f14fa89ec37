/**
 * Upstream source the Go module proxy will not serve (the Node.js language host, the cert-manager
 * component plugin, cert-manager's programs) is not kept in this repository: the wrapper modules
 * under lab/cluster replace each such module with its folder in ../shared/upstream (see the README
 * there: one folder per repository and revision, at the repository's own paths), a sibling of the
 * repository. Without that folder, each tree is cloned at its pinned revision (UPSTREAM_SOURCES) into
 * the cache, or into ISTIO_STICKY_UPSTREAM where that names a folder; a build then uses a copy of the
 * wrapper's go.mod with its replaces pointed there.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LAB_DIR, labCache } from "../build";

/** Where the wrapper modules' go.mod files expect the trees: ../shared/upstream beside the repository. */
const SHARED_UPSTREAM = path.join(LAB_DIR, "..", "..", "shared", "upstream");

/** Where each folder comes from: its repository, the tag or branch to fetch, and the commit it must be at. */
interface UpstreamSource {
    repo: string;
    ref: string;
    commit: string;
}

const PULUMI_V3_248_0: UpstreamSource = {
    repo: "https://github.com/pulumi/pulumi",
    ref: "v3.248.0",
    commit: "a88168d865b7fd428e5a929cc54aeceaf72d203f",
};

/** The folders of ../shared/upstream (its README), by name. */
export const UPSTREAM_SOURCES: Record<string, UpstreamSource> = {
    "pulumi-language-nodejs-v3.248.0": PULUMI_V3_248_0,
    "pulumi-language-python-v3.248.0": PULUMI_V3_248_0,
    "pulumi-language-go-v3.248.0": PULUMI_V3_248_0,
    "pulumi-kubernetes-cert-manager-v0.2.0": {
        repo: "https://github.com/pulumi/pulumi-kubernetes-cert-manager",
        ref: "v0.2.0",
        commit: "d2f7f8d82f05e7a312c9fa1f0ffd1bf1adaf8415",
    },
    "cert-manager-378ef0e28bd6": {
        repo: "https://github.com/cert-manager/cert-manager",
        ref: "release-1.21",
        commit: "378ef0e28bd67807fdcb78407929cd12cc4a140f",
    },
};

/**
 * The folder holding the trees for this build: ISTIO_STICKY_UPSTREAM if set, else ../shared/upstream
 * where it exists, else a folder of the cache that missing trees are cloned into.
 */
export function upstreamRoot(): string {
    if (process.env.ISTIO_STICKY_UPSTREAM) return path.resolve(process.env.ISTIO_STICKY_UPSTREAM);
    if (fs.existsSync(SHARED_UPSTREAM)) return path.resolve(SHARED_UPSTREAM);
    return path.resolve(labCache(), "..", "upstream");
}

/**
 * Clones `source` into `root/folder` with only `inner` checked out, at exactly its commit (a partial
 * clone: blobs are fetched for the checked-out paths only). Throws with git's answer when it cannot.
 */
export function cloneUpstream(root: string, folder: string, inner: string, source: UpstreamSource): void {
    const target = path.join(root, folder);
    const partial = `${target}.partial-${process.pid}`;
    const git = (args: string[], cwd = partial) =>
        execFileSync("git", args, {
            cwd,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 30 * 60_000,
        }).trim();
    fs.mkdirSync(root, { recursive: true });
    fs.rmSync(partial, { recursive: true, force: true });
    try {
        git(
            ["clone", "--quiet", "--filter=blob:none", "--no-checkout", "--branch", source.ref, source.repo, partial],
            root,
        );
        git(["sparse-checkout", "set", "--no-cone", `/${inner}/`, "/LICENSE"]);
        git(["checkout", "--quiet", "--detach", source.commit]);
        const head = git(["rev-parse", "HEAD"]);
        if (head !== source.commit)
            throw new Error(`${source.repo} ${source.ref} checked out ${head}, expected ${source.commit}`);
        fs.renameSync(partial, target);
    } catch (e) {
        const said = (e as { stderr?: string }).stderr?.trim();
        throw new Error(
            `could not clone ${source.repo} at ${source.ref} (${source.commit}) into ${target}: ${said || (e as Error).message}`,
        );
    } finally {
        fs.rmSync(partial, { recursive: true, force: true });
    }
}

interface UpstreamReplace {
    module: string;
    /** The tree's folder in the upstream root, and the path inside it. */
    folder: string;
    inner: string;
    /** Where the module's source is for this build. */
    dir: string;
}

/** The replaces of a wrapper module's go.mod that name an upstream tree, resolved for this build; throws for a tree that is missing. */
export function upstreamReplaces(moduleDir: string): UpstreamReplace[] {
    const gomod = fs.readFileSync(path.join(moduleDir, "go.mod"), "utf8");
    const found = [...gomod.matchAll(/^\s*(?:replace\s+)?(\S+) => \S*\/shared\/upstream\/([^/\s]+)\/(\S+)$/gm)].map(
        ([, module, folder, inner]) => ({
            module,
            folder,
            inner,
            dir: path.join(upstreamRoot(), folder, inner),
        }),
    );
    for (const r of found) {
        if (fs.existsSync(path.join(r.dir, "go.mod"))) continue;
        const source = UPSTREAM_SOURCES[r.folder];
        const where = `${path.relative(LAB_DIR, moduleDir)} builds ${r.module} from ${r.dir}, which is not there`;
        if (!source) throw new Error(`${where}, and lab/cluster/upstream.ts does not say where ${r.folder} comes from`);
        if (path.resolve(SHARED_UPSTREAM) === upstreamRoot())
            throw new Error(
                `${where}: ../shared/upstream lacks ${r.folder} (its README lists the trees), or set ISTIO_STICKY_UPSTREAM to another folder`,
            );
        cloneUpstream(upstreamRoot(), r.folder, r.inner, source);
    }
    return found;
}

/** Every file of the upstream trees a wrapper module builds (absolute paths, sorted), for its cache key. */
export function upstreamFiles(moduleDir: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) out.push(p);
        }
    };
    for (const r of upstreamReplaces(moduleDir)) walk(r.dir);
    return out.sort();
}

/**
 * The folder to build a wrapper module in: the module itself when its replaces reach the trees in
 * ../shared/upstream, else a copy of its go.mod and go.sum in `scratch` with those replaces pointed
 * at the trees of ISTIO_STICKY_UPSTREAM (the module's own packages, if any, are then not there).
 */
export function wrapperBuildDir(moduleDir: string, scratch: string): string {
    const replaces = upstreamReplaces(moduleDir);
    if (upstreamRoot() === path.resolve(SHARED_UPSTREAM)) return moduleDir;
    fs.mkdirSync(scratch, { recursive: true });
    for (const f of ["go.mod", "go.sum"]) fs.copyFileSync(path.join(moduleDir, f), path.join(scratch, f));
    const edits = replaces.map((r) => `-replace=${r.module}=${r.dir}`);
    if (edits.length)
        execFileSync("go", ["mod", "edit", ...edits], {
            cwd: scratch,
            stdio: ["ignore", "ignore", "inherit"],
            timeout: 60_000,
        });
    return scratch;
}
