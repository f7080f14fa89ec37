/**
 * The Pulumi toolchain the cluster harness runs, built from the Go module proxy once per machine
 * into a cache outside the repository (labCache()/../cluster/pulumi-<hash>/bin):
 *
 * - `pulumi`: the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at the version of @pulumi/pulumi
 *   in devDependencies (lab/cluster/pulumi/cli/go.mod pins the same), its version set by -ldflags;
 * - `pulumi-language-nodejs`, `pulumi-language-python` (with its `pulumi-language-python-exec`
 *   shim from sdk/v3) and `pulumi-language-go`: the language hosts of the same release. Their
 *   modules are not served by the proxy: lab/cluster/pulumi/cli/go.mod replaces each with its tree of
 *   that release in ../shared/upstream (lab/cluster/upstream.ts); they build against the same pkg/v3 and sdk/v3;
 * - `pulumi-language-yaml` (github.com/pulumi/pulumi-yaml v1.25.0) and `dotnetgen` (the .NET SDK
 *   generator of pkg/v3 v3.215.0): lab/cluster/pulumi/yaml-dotnet, against the older pkg/v3 they need;
 * - `pulumi-resource-kubernetes`: the Kubernetes provider plugin, from the one commit of
 *   github.com/pulumi/pulumi-kubernetes/provider/v4 the proxy serves (lab/cluster/pulumi/kubernetes/go.mod),
 *   with a main of our own and its embedded schema and terraform mapping generated (gen/) from the
 *   module's committed files. It reports the version of @pulumi/kubernetes in devDependencies, the
 *   version the Node SDK asks for.
 *
 * The CLI takes a `pulumi-<kind>-<name>` binary found on PATH before it downloads anything (unless
 * PULUMI_IGNORE_AMBIENT_PLUGINS is set), so putting `bin` first on PATH is all a run needs.
 * Each build is keyed by a hash of lab/cluster/pulumi/**, the upstream tree, the versions and `go env GOVERSION`.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LAB_DIR, labCache, once } from "../build";
import { upstreamFiles, wrapperBuildDir } from "./upstream";

const MODULES_DIR = path.join(LAB_DIR, "cluster", "pulumi");
const CLI_DIR = path.join(MODULES_DIR, "cli");
const YAML_DOTNET_DIR = path.join(MODULES_DIR, "yaml-dotnet");
const KUBERNETES_DIR = path.join(MODULES_DIR, "kubernetes");
const PACKAGE_JSON = path.join(LAB_DIR, "..", "package.json");

const CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";
/** The language hosts built from the CLI's module, by binary. */
const LANGUAGE_HOSTS = {
    "pulumi-language-nodejs": "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3",
    "pulumi-language-python": "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3",
    "pulumi-language-go": "github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3",
} as const;
const YAML_HOST_PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml";
/** The Python language host runs a program through this script of the Python SDK, found beside the host. */
const PYTHON_EXEC = "pulumi-language-python-exec";
const SDK_VERSION_VAR = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version";
const PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4";
const PROVIDER_VERSION_VAR = `${PROVIDER_MODULE}/pkg/version.Version`;

/** Each `go build` (and the schema generation) may take this long before it is stopped. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface PulumiToolchainVersions {
    /** `pulumi version`: "v3.248.0". */
    pulumi: string;
    /** `pulumi-language-nodejs -version`: the release its source comes from (the Python and Go hosts are of the same). */
    languageNodejs: string;
    /** The pulumi-yaml release the YAML language host is built from. */
    languageYaml: string;
    kubernetes: {
        /** What the plugin reports (and its embedded schema says): the @pulumi/kubernetes version. */
        reports: string;
        /** The provider module version built: a pseudo-version of one upstream commit. */
        module: string;
        /** That commit (12 hex digits). */
        commit: string;
    };
    /** `go env GOVERSION` of the build. */
    go: string;
}

export interface PulumiToolchain {
    /** A directory to put first on PATH: pulumi, the language hosts, pulumi-resource-kubernetes, dotnetgen. */
    bin: string;
    versions: PulumiToolchainVersions;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

function devDependency(name: string): string {
    const pkg = JSON.parse(fs.readFileSync(PACKAGE_JSON, "utf8")) as { devDependencies?: Record<string, string> };
    const v = pkg.devDependencies?.[name];
    if (!v || !/^\d+\.\d+\.\d+$/.test(v))
        throw new Error(`package.json devDependencies: ${name} is not pinned to an exact version (${v})`);
    return v;
}

/** The version `module` is required at in the go.mod of `dir`. */
function goModRequire(dir: string, module: string): string {
    const gomod = fs.readFileSync(path.join(dir, "go.mod"), "utf8");
    const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.]/g, "\\.")} (v\\S+)`, "m").exec(gomod);
    if (!m) throw new Error(`${path.relative(LAB_DIR, dir)}/go.mod does not require ${module}`);
    return m[1];
}

/** The versions the build will have, from package.json and the modules' go.mod files; throws where they disagree. */
export function pulumiToolchainVersions(goVersion: string): PulumiToolchainVersions {
    const sdk = devDependency("@pulumi/pulumi");
    for (const m of ["github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/sdk/v3"]) {
        const v = goModRequire(CLI_DIR, m);
        if (v !== `v${sdk}`)
            throw new Error(`lab/cluster/pulumi/cli/go.mod requires ${m} ${v}, package.json has @pulumi/pulumi ${sdk}`);
    }
    const module = goModRequire(KUBERNETES_DIR, PROVIDER_MODULE);
    const commit = /-([0-9a-f]{12})$/.exec(module)?.[1];
    if (!commit)
        throw new Error(`lab/cluster/pulumi/kubernetes/go.mod: ${PROVIDER_MODULE} ${module} is not a pseudo-version`);
    return {
        pulumi: `v${sdk}`,
        languageNodejs: `v${sdk}`,
        languageYaml: goModRequire(YAML_DOTNET_DIR, "github.com/pulumi/pulumi-yaml"),
        kubernetes: { reports: devDependency("@pulumi/kubernetes"), module, commit },
        go: goVersion,
    };
}

/** What gen writes: git-ignored, left out of the key and the build copy if it was run in place. */
const GENERATED = new Set(["schema-embed.json", "terraform-mapping-embed.json"]);

/** Every file under dir (relative paths, sorted), for the cache key and the provider's build copy. */
function filesUnder(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const r = path.join(rel, e.name);
            if (e.isDirectory()) walk(r);
            else if (e.isFile() && !GENERATED.has(e.name)) out.push(r);
        }
    };
    walk("");
    return out.sort();
}

function go(args: string[], cwd: string): void {
    execFileSync("go", args, {
        cwd,
        stdio: ["ignore", "ignore", "inherit"],
        timeout: BUILD_TIMEOUT_MS,
        env: { ...process.env, CGO_ENABLED: "0" },
    });
}

/** The plugin Pulumi runs for a Node.js dynamic provider: a script of the Node SDK. */
const DYNAMIC_PROVIDER = "pulumi-resource-pulumi-nodejs";

/**
 * The Pulumi CLI, the Node.js language host and the Kubernetes provider plugin, built with the
 * machine's Go from the module proxy (cold: about 13 minutes on two cores with empty Go caches; then cached).
 */
export function ensurePulumiToolchain(): PulumiToolchain {
    const goVersion = execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", timeout: 60_000 }).trim();
    const versions = pulumiToolchainVersions(goVersion);
    const hash = createHash("sha256");
    hash.update(JSON.stringify(versions));
    hash.update(
        `bin: pulumi, ${Object.keys(LANGUAGE_HOSTS).join(", ")}, ${PYTHON_EXEC}, pulumi-language-yaml, dotnetgen, ${DYNAMIC_PROVIDER}, pulumi-resource-kubernetes`,
    );
    for (const f of filesUnder(MODULES_DIR)) {
        hash.update(`${f}\0`);
        hash.update(fs.readFileSync(path.join(MODULES_DIR, f)));
    }
    for (const f of upstreamFiles(CLI_DIR)) hash.update(fs.readFileSync(f));
    const target = path.join(labCache(), "..", "cluster", `pulumi-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        const bin = path.join(partial, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const cliDir = wrapperBuildDir(CLI_DIR, path.join(partial, "cli"));
        const sdkLdflags = `-X ${SDK_VERSION_VAR}=${versions.pulumi}`;
        for (const [out, pkg] of [["pulumi", CLI_PACKAGE], ...Object.entries(LANGUAGE_HOSTS)]) {
            go(["build", "-mod=readonly", "-trimpath", "-ldflags", sdkLdflags, "-o", path.join(bin, out), pkg], cliDir);
        }
        go(
            ["build", "-mod=readonly", "-trimpath", "-o", path.join(bin, "pulumi-language-yaml"), YAML_HOST_PACKAGE],
            YAML_DOTNET_DIR,
        );
        go(["build", "-mod=readonly", "-trimpath", "-o", path.join(bin, "dotnetgen"), "./dotnetgen"], YAML_DOTNET_DIR);
        // The Node SDK's dynamic-provider script (the package's ready-pods read and existing-Service check run
        // through it) and the Python SDK's exec shim, which the CLI's release archive carries beside the hosts.
        const sdkDir = execFileSync(
            "go",
            ["list", "-mod=readonly", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi/sdk/v3"],
            {
                cwd: cliDir,
                encoding: "utf8",
                timeout: 120_000,
            },
        ).trim();
        for (const [from, name] of [
            [path.join(sdkDir, "nodejs", "dist"), DYNAMIC_PROVIDER],
            [path.join(sdkDir, "python", "cmd"), PYTHON_EXEC],
        ]) {
            fs.copyFileSync(path.join(from, name), path.join(bin, name));
            fs.chmodSync(path.join(bin, name), 0o755);
        }

        // The provider's main embeds files generated beside it: build from a copy, so the repository stays clean.
        const src = path.join(partial, "kubernetes-src");
        for (const f of filesUnder(KUBERNETES_DIR)) {
            fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
            fs.copyFileSync(path.join(KUBERNETES_DIR, f), path.join(src, f));
        }
        const reports = versions.kubernetes.reports;
        go(["run", "-mod=readonly", "./gen", "-version", reports, "-out", src], src);
        go(
            [
                "build",
                "-mod=readonly",
                "-trimpath",
                "-ldflags",
                `-X ${PROVIDER_VERSION_VAR}=${reports}`,
                "-o",
                path.join(bin, "pulumi-resource-kubernetes"),
                ".",
            ],
            src,
        );
        fs.rmSync(src, { recursive: true, force: true });
        fs.rmSync(path.join(partial, "cli"), { recursive: true, force: true });

        const reported = pulumiVersion(bin);
        if (reported !== versions.pulumi)
            throw new Error(`the built pulumi reports ${reported}, expected ${versions.pulumi}`);
        for (const name of Object.keys(LANGUAGE_HOSTS)) {
            const host = execFileSync(path.join(bin, name), ["-version"], { encoding: "utf8", timeout: 60_000 }).trim();
            if (host !== versions.languageNodejs)
                throw new Error(`the built ${name} reports ${host}, expected ${versions.languageNodejs}`);
        }
        fs.writeFileSync(path.join(partial, "versions.json"), JSON.stringify(versions, null, 4) + "\n");
    });
    return { bin: path.join(built.path, "bin"), versions, seconds: built.seconds, cached: built.cached };
}

/** `pulumi version` of the CLI in bin, without update checks. */
export function pulumiVersion(bin: string): string {
    return execFileSync(path.join(bin, "pulumi"), ["version"], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    }).trim();
}
