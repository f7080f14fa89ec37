/**
 * cert-manager for the cluster harness, built from Go sources once per machine into a cache outside
 * the repository (`<cache>/cluster/certmanager-<hash>/`; see lab/cluster/certmanager/README.md):
 *
 * - `pulumi-resource-kubernetes-cert-manager`: the Pulumi component plugin that
 *   `@pulumi/kubernetes-cert-manager` 0.2.0 asks for, from the files of its v0.2.0 release
 *   (lab/cluster/certmanager/plugin), reporting v0.2.0 as the release build does;
 * - `cert-manager-controller`, `cert-manager-webhook`, `cert-manager-cainjector`: cert-manager's
 *   programs against its root module at the chart's version (lab/cluster/certmanager/programs);
 * - `crds/`: cert-manager's CustomResourceDefinitions from that module's deploy/crds.
 *
 * `CERT_MANAGER_PROGRAMS` says which program plays which container of the chart's pods, and what
 * each needs besides the pod's own args to run outside a pod on a shared host.
 * The plugin's and the programs' own source comes from ../shared/upstream (lab/cluster/upstream.ts).
 * The build is keyed by a hash of lab/cluster/certmanager/**, the upstream trees it builds, the recipe
 * and `go env GOVERSION`.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LAB_DIR, labCache, once } from "../build";
import { upstreamFiles, wrapperBuildDir } from "./upstream";

const MODULES_DIR = path.join(LAB_DIR, "cluster", "certmanager");
const PLUGIN_DIR = path.join(MODULES_DIR, "plugin");
const PROGRAMS_DIR = path.join(MODULES_DIR, "programs");

const PLUGIN_MODULE = "github.com/pulumi/pulumi-kubernetes-cert-manager/provider";
const PLUGIN_PACKAGE = `${PLUGIN_MODULE}/cmd/pulumi-resource-kubernetes-cert-manager`;
const PLUGIN_SDK_MODULE = "github.com/pulumi/pulumi-kubernetes-cert-manager/sdk";
const CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager";
/** The release's own -ldflags (.goreleaser.yml of pulumi-kubernetes-cert-manager; cert-manager's make/00_mod.mk). */
const PLUGIN_VERSION_VAR = `${PLUGIN_MODULE}/pkg/version.Version`;
const CERT_MANAGER_VERSION_VAR = `${CERT_MANAGER_MODULE}/pkg/util.AppVersion`;
/** Bumped when the build recipe below changes, so the cache key changes with it. */
const RECIPE = 2;

/** The programs of the programs module, by the file name they get in `bin`. */
const PROGRAM_PACKAGES = {
    "cert-manager-controller": `${CERT_MANAGER_MODULE}/controller-binary`,
    "cert-manager-webhook": `${CERT_MANAGER_MODULE}/webhook-binary`,
    "cert-manager-cainjector": `${CERT_MANAGER_MODULE}/cainjector-binary`,
} as const;

/** Each `go build` may take this long before it is stopped. */
const BUILD_TIMEOUT_MS = 40 * 60_000;

export interface CertManagerVersions {
    plugin: {
        /** What the plugin reports (GetPluginInfo): the release tag, "v0.2.0". */
        reports: string;
        /** The release whose provider files are built, and its commit. */
        release: string;
        commit: string;
        /** The SDK module the provider is built against (upstream replaces it with the release's tree). */
        sdk: string;
    };
    certManager: {
        /** The root module version built against, and what the programs report: "v1.21.2". */
        module: string;
        /** The commit of cert-manager's repository whose cmd/ files the programs are built from. */
        programsCommit: string;
    };
    /** `go env GOVERSION` of the build. */
    go: string;
}

export interface CertManagerBuild {
    /** pulumi-resource-kubernetes-cert-manager, cert-manager-controller, cert-manager-webhook, cert-manager-cainjector. */
    bin: string;
    /** cert-manager's CRDs at `versions.certManager.module`, one YAML file each (deploy/crds of the module). */
    crds: string;
    versions: CertManagerVersions;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

function readGoMod(dir: string): string {
    return fs.readFileSync(path.join(dir, "go.mod"), "utf8");
}

/** The version `module` is required at in the go.mod of `dir`. */
function goModRequire(dir: string, module: string): string {
    const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, "\\$&")} (v\\S+)`, "m").exec(readGoMod(dir));
    if (!m) throw new Error(`${path.relative(LAB_DIR, dir)}/go.mod does not require ${module}`);
    return m[1];
}

/** The go.mod comment of `dir` as one line. */
function goModComment(dir: string): string {
    return readGoMod(dir)
        .split("\n")
        .filter((l) => l.startsWith("//"))
        .map((l) => l.replace(/^\/\/\s?/, ""))
        .join(" ");
}

/** The versions the build will have, from the modules' go.mod files (and their comments, which name the commits). */
export function certManagerVersions(goVersion: string): CertManagerVersions {
    const plugin = /files at tag (v\d+\.\d+\.\d+) \(commit ([0-9a-f]{40})\)/.exec(goModComment(PLUGIN_DIR));
    if (!plugin)
        throw new Error("lab/cluster/certmanager/plugin/go.mod does not name the release tag and commit of provider/");
    const programsCommit = /commit ([0-9a-f]{40})/.exec(goModComment(PROGRAMS_DIR))?.[1];
    if (!programsCommit) throw new Error("lab/cluster/certmanager/programs/go.mod does not name the commit of cmd/");
    return {
        plugin: {
            reports: plugin[1],
            release: plugin[1],
            commit: plugin[2],
            sdk: goModRequire(PLUGIN_DIR, PLUGIN_SDK_MODULE),
        },
        certManager: { module: goModRequire(PROGRAMS_DIR, CERT_MANAGER_MODULE), programsCommit },
        go: goVersion,
    };
}

/** Every file under dir (relative paths, sorted), for the cache key. */
function filesUnder(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const r = path.join(rel, e.name);
            if (e.isDirectory()) walk(r);
            else if (e.isFile()) out.push(r);
        }
    };
    walk("");
    return out.sort();
}

const GO_ENV = { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local" };

function goBuild(cwd: string, ldflags: string, out: string, pkg: string): void {
    execFileSync("go", ["build", "-mod=readonly", "-trimpath", "-ldflags", ldflags, "-o", out, pkg], {
        cwd,
        stdio: ["ignore", "ignore", "inherit"],
        timeout: BUILD_TIMEOUT_MS,
        env: GO_ENV,
    });
}

/**
 * The cert-manager component plugin and cert-manager's controller, webhook and cainjector, built
 * with the machine's Go from the module proxy (cold: about 6 minutes on two cores with empty Go caches,
 * downloads included; then cached).
 */
export function ensureCertManager(): CertManagerBuild {
    const goVersion = execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", timeout: 60_000 }).trim();
    const versions = certManagerVersions(goVersion);
    const hash = createHash("sha256");
    hash.update(`recipe ${RECIPE}\n${JSON.stringify(versions)}\n`);
    for (const f of filesUnder(MODULES_DIR)) {
        hash.update(`${f}\0`);
        hash.update(fs.readFileSync(path.join(MODULES_DIR, f)));
    }
    for (const f of [...upstreamFiles(PLUGIN_DIR), ...upstreamFiles(PROGRAMS_DIR)]) hash.update(fs.readFileSync(f));
    const target = path.join(labCache(), "..", "cluster", `certmanager-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        const bin = path.join(partial, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const pluginDir = wrapperBuildDir(PLUGIN_DIR, path.join(partial, "plugin"));
        const programsDir = wrapperBuildDir(PROGRAMS_DIR, path.join(partial, "programs"));
        goBuild(
            pluginDir,
            `-s -w -X ${PLUGIN_VERSION_VAR}=${versions.plugin.reports}`,
            path.join(bin, "pulumi-resource-kubernetes-cert-manager"),
            PLUGIN_PACKAGE,
        );
        const cmLdflags = `-s -w -X ${CERT_MANAGER_VERSION_VAR}=${versions.certManager.module}`;
        for (const [name, pkg] of Object.entries(PROGRAM_PACKAGES))
            goBuild(programsDir, cmLdflags, path.join(bin, name), pkg);

        const moduleDir = execFileSync("go", ["list", "-mod=readonly", "-m", "-f", "{{.Dir}}", CERT_MANAGER_MODULE], {
            cwd: programsDir,
            encoding: "utf8",
            timeout: 120_000,
            env: GO_ENV,
        }).trim();
        const crds = path.join(partial, "crds");
        fs.mkdirSync(crds);
        for (const f of fs.readdirSync(path.join(moduleDir, "deploy", "crds")).filter((f) => f.endsWith(".yaml"))) {
            fs.copyFileSync(path.join(moduleDir, "deploy", "crds", f), path.join(crds, f));
        }
        fs.writeFileSync(path.join(partial, "versions.json"), JSON.stringify(versions, null, 4) + "\n");
        for (const copy of ["plugin", "programs"])
            fs.rmSync(path.join(partial, copy), { recursive: true, force: true });
    });
    return {
        bin: path.join(built.path, "bin"),
        crds: path.join(built.path, "crds"),
        versions,
        seconds: built.seconds,
        cached: built.cached,
    };
}

/** A program that plays the containers of a chart's pods whose image matches. */
export interface CertManagerProgram {
    /** Matches the container image the chart sets (`quay.io/jetstack/cert-manager-controller:v1.21.2`). */
    image: RegExp;
    /** Its file name in `ensureCertManager().bin`. */
    binary: string;
    /**
     * Arguments to append after the pod's own (the programs take the last of a repeated flag), so
     * that it runs outside a pod: the API server from a kubeconfig instead of the in-cluster
     * service-account files, and listeners that do not collide with the other programs on one host.
     */
    extraArgs: (kubeconfig: string) => string[];
    /** Environment to add to the pod's own, for the same purpose. */
    extraEnv: (kubeconfig: string) => Record<string, string>;
}

/**
 * cert-manager's programs as the chart runs them (templates/deployment.yaml, webhook-deployment.yaml,
 * cainjector-deployment.yaml of chart v1.21.1). What a runner must give each besides its pod's args,
 * read from cert-manager's source (cmd/... as in lab/cluster/certmanager/programs; internal/... and
 * pkg/... of the root module v1.21.2):
 *
 * - All three read the pod's env `POD_NAMESPACE` (a fieldRef to metadata.namespace), which the
 *   chart's args use as `$(POD_NAMESPACE)`: expand it the way the kubelet does.
 * - Without `--kubeconfig` they take the in-cluster config (/var/run/secrets/kubernetes.io/...).
 * - Leader election (controller and cainjector) uses Leases in `--leader-election-namespace`, which
 *   the chart sets to kube-system (global.leaderElection.namespace), the API server's own namespace;
 *   nothing pod-specific. A replacement process waits out the lease of one killed without
 *   releasing it (60 s by default).
 * - The controller and the cainjector both default their metrics to 0.0.0.0:9402, and the webhook
 *   too (internal/apis/config/{controller,cainjector,webhook}/v1alpha1/defaults.go).
 */
export const CERT_MANAGER_PROGRAMS: Record<"controller" | "webhook" | "cainjector", CertManagerProgram> = {
    controller: {
        image: /(^|\/)cert-manager-controller(:|@|$)/,
        binary: "cert-manager-controller",
        // The controller always serves metrics (cmd/controller/app/controller.go: server.Listen of
        // --metrics-listen-address, no "0" to disable) and healthz on 0.0.0.0:9403 (the hidden
        // --internal-healthz-listen-address): both on loopback ports the kernel picks. The chart's
        // --cluster-resource-namespace=$(POD_NAMESPACE) and --leader-election-namespace=kube-system stay.
        extraArgs: (kubeconfig) => [
            `--kubeconfig=${kubeconfig}`,
            "--metrics-listen-address=127.0.0.1:0",
            "--internal-healthz-listen-address=127.0.0.1:0",
        ],
        extraEnv: () => ({}),
    },
    webhook: {
        image: /(^|\/)cert-manager-webhook(:|@|$)/,
        binary: "cert-manager-webhook",
        // The chart's args make it serve TLS on every address at --secure-port=10250 (the port its
        // Service targets as "https") with a certificate from its own CA, kept in the Secret
        // --dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE) / --dynamic-serving-ca-secret-name=
        // <webhook fullname>-ca (cert-manager-webhook-ca for release cert-manager), which it creates,
        // for the --dynamic-serving-dns-names of that Service (internal/webhook/webhook.go);
        // healthz is plain HTTP on :6080 (pkg/webhook/server/server.go). Those stay; metrics (a
        // controller-runtime server on :9402, pkg/webhook/options/options.go) are turned off with "0".
        extraArgs: (kubeconfig) => [`--kubeconfig=${kubeconfig}`, "--metrics-listen-address=0"],
        extraEnv: () => ({}),
    },
    cainjector: {
        image: /(^|\/)cert-manager-cainjector(:|@|$)/,
        binary: "cert-manager-cainjector",
        // A controller-runtime manager: metrics on :9402 unless "0" (cmd/cainjector/app/options/options.go),
        // no health probe listener (cmd/cainjector/app/controller.go sets no HealthProbeBindAddress).
        // Its --kubeconfig is parsed but not used: cmd/cainjector/app/controller.go takes its config
        // from controller-runtime's GetConfigOrDie, and the options register controller-runtime's own
        // --kubeconfig after cert-manager's flag of that name, so pflag's AddGoFlag skips it.
        // GetConfig then reads KUBECONFIG, else the in-cluster config: with the flag alone it exits
        // with "unable to load in-cluster config".
        extraArgs: (kubeconfig) => [`--kubeconfig=${kubeconfig}`, "--metrics-listen-address=0"],
        extraEnv: (kubeconfig) => ({ KUBECONFIG: kubeconfig }),
    },
};
