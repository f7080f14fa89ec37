/**
 * istiod for the lab's cluster: `pilot-discovery`, Istio's control plane binary, built from the Go
 * module proxy once per machine into `<cache>/cluster/istiod-<hash>/pilot-discovery`.
 *
 * lab/cluster/istiod/go.mod requires istio.io/istio at the pseudo-version of the 1.31.0 commit (the
 * same as lab/xds/go.mod) and names the program with a `tool` directive, so `go build
 * istio.io/istio/pilot/cmd/pilot-discovery` inside that module builds the main package of the
 * dependency with a complete go.sum. The build uses Istio's own release tags (`STANDARD_TAGS` in
 * Istio's Makefile.core.mk) and sets `istio.io/istio/pkg/version.build*` as Istio's
 * common/scripts/report_build_info.sh does, so `pilot-discovery version` reports the release.
 * The key is the module's go.mod and go.sum, the Go version and the recipe below.
 *
 * The module also carries Istio's Helm charts of the same commit (manifests/charts):
 * `istioChartDirs()` finds them in the module cache without the network.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LAB_DIR, labCache, once } from "../build";
import type { PodProgram } from "./podProcesses";

const MODULE_DIR = path.join(LAB_DIR, "cluster", "istiod");
const PACKAGE = "istio.io/istio/pilot/cmd/pilot-discovery";
const VERSION_PKG = "istio.io/istio/pkg/version";
/** Istio's release build tags for its control plane binaries (Makefile.core.mk: STANDARD_TAGS). */
const TAGS = "vtprotobuf,disable_pgv";
/** The image hub the release reports (`pilot-discovery version` prints it; the charts' images are pinned by the test). */
const HUB = "docker.io/istio";
/** Bumped when the build recipe below changes, so the cache key changes with it. */
const RECIPE = 1;
const BUILD_TIMEOUT_MS = 40 * 60_000;

export interface IstiodVersions {
    /** The Istio release, from the comment beside the requirement in go.mod: "1.31.0". */
    istio: string;
    /** The istio.io/istio pseudo-version built. */
    module: string;
    /** Its commit (12 hex digits). */
    commit: string;
    /** `go env GOVERSION` of the build. */
    go: string;
}

export interface Istiod {
    /** The pilot-discovery binary. */
    bin: string;
    /** What the binary reports (`pilot-discovery version -s`): "1.31.0". */
    version: string;
    versions: IstiodVersions;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

const goEnv = { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly" };

/** The Istio module lab/cluster/istiod/go.mod pins, and its release. */
export function istiodVersions(goVersion?: string): IstiodVersions {
    const gomod = fs.readFileSync(path.join(MODULE_DIR, "go.mod"), "utf8");
    const m =
        /^\s*(?:require\s+)?istio\.io\/istio (v0\.0\.0-\d{14}-([0-9a-f]{12}))\s*\/\/\s*(?:indirect;\s*)?(\d+\.\d+\.\d+\S*)/m.exec(
            gomod,
        );
    if (!m)
        throw new Error(
            "lab/cluster/istiod/go.mod does not require istio.io/istio with its release in a comment (// 1.31.0)",
        );
    return {
        istio: m[3],
        module: m[1],
        commit: m[2],
        go: goVersion ?? execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", timeout: 60_000 }).trim(),
    };
}

function ldflags(v: IstiodVersions): string {
    return [
        "-s -w",
        `-X ${VERSION_PKG}.buildVersion=${v.istio}`,
        `-X ${VERSION_PKG}.buildGitRevision=${v.commit}`,
        `-X ${VERSION_PKG}.buildStatus=Clean`,
        `-X ${VERSION_PKG}.buildTag=${v.istio}`,
        `-X ${VERSION_PKG}.buildHub=${HUB}`,
        `-X ${VERSION_PKG}.buildOS=linux`,
        `-X ${VERSION_PKG}.buildArch=amd64`,
    ].join(" ");
}

/** The release `pilot-discovery version -s` reports: "1.31.0". */
export function pilotVersion(bin: string): string {
    // It prints "client version: 1.31.0" (and may log to stderr before it).
    const out = execFileSync(bin, ["version", "-s"], {
        encoding: "utf8",
        timeout: 60_000,
        stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return /(?:^|\s)(\d+\.\d+\.\d+\S*)$/.exec(out)?.[1] ?? out;
}

/**
 * pilot-discovery built with the machine's Go from the module proxy (once per machine; then cached).
 * Needs the proxy (or a module cache that already holds Istio's dependencies) when it builds.
 */
export function ensureIstiod(): Istiod {
    const versions = istiodVersions();
    const hash = createHash("sha256");
    hash.update(`recipe ${RECIPE} ${versions.go} ${TAGS} ${ldflags(versions)}\n`);
    for (const f of ["go.mod", "go.sum"]) hash.update(fs.readFileSync(path.join(MODULE_DIR, f)));
    const target = path.join(labCache(), "..", "cluster", `istiod-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        fs.mkdirSync(partial, { recursive: true });
        execFileSync(
            "go",
            [
                "build",
                "-trimpath",
                "-tags",
                TAGS,
                "-ldflags",
                ldflags(versions),
                "-o",
                path.join(partial, "pilot-discovery"),
                PACKAGE,
            ],
            {
                cwd: MODULE_DIR,
                stdio: ["ignore", "ignore", "inherit"],
                timeout: BUILD_TIMEOUT_MS,
                env: goEnv,
            },
        );
        const reported = pilotVersion(path.join(partial, "pilot-discovery"));
        if (reported !== versions.istio)
            throw new Error(`the built pilot-discovery reports ${reported}, expected ${versions.istio}`);
        fs.writeFileSync(path.join(partial, "versions.json"), JSON.stringify(versions, null, 4) + "\n");
    });
    const bin = path.join(built.path, "pilot-discovery");
    return { bin, version: pilotVersion(bin), versions, seconds: built.seconds, cached: built.cached };
}

export interface IstioChartDirs {
    /** The istio.io/istio module's folder in the module cache. */
    module: string;
    /** manifests/charts/base: the CRDs, the istio-reader ServiceAccount, the default-revision validator. */
    base: string;
    /** manifests/charts/istio-control/istio-discovery: the istiod chart. */
    istiod: string;
}

/**
 * Istio's chart folders of the release istiod is built from, read from the module cache. Works
 * without the network (GOPROXY=off) once `go build` or `go mod download` has brought the module.
 */
export function istioChartDirs(): IstioChartDirs {
    const module = execFileSync("go", ["list", "-m", "-f", "{{.Dir}}", "istio.io/istio"], {
        cwd: MODULE_DIR,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...goEnv, GOPROXY: "off" },
    }).trim();
    if (!module || !fs.existsSync(path.join(module, "manifests", "charts"))) {
        throw new Error(
            `istio.io/istio is not in the module cache (go list -m gave "${module}"): run lab/cluster/prepare.ts first`,
        );
    }
    const charts = path.join(module, "manifests", "charts");
    return { module, base: path.join(charts, "base"), istiod: path.join(charts, "istio-control", "istio-discovery") };
}

/**
 * The pod program for istiod's chart (image `<hub>/pilot`), for lab/cluster/podProcesses.ts:
 * pilot-discovery with the chart's container args and environment, talking to the API server
 * through the lab's kubeconfig, its HTTP port bound to the pod's IP. KUBERNETES_SERVICE_HOST is never set by the runner, so istiod
 * knows it runs outside the cluster; the chart's KUBECONFIG (the optional istio-kubeconfig
 * Secret's mount) gives way to the lab's kubeconfig, which `--kubeconfig` names as well.
 *
 * What istiod reads from its working directory (the runner's root for the pod), in Istio 1.31.0:
 * - ./etc/istio/config/mesh and ./var/lib/istio/inject/{config,values}, the defaults of
 *   pilot/cmd/pilot-discovery/app/cmd.go (`--meshConfig`, `InjectionDirectory`). The 1.31 chart
 *   mounts neither, so istiod takes the ConfigMaps `istio` and `istio-sidecar-injector` through
 *   the API instead (pilot/pkg/bootstrap/mesh.go getConfigurationSources, sidecarinjector.go).
 * - ./var/run/secrets/istio-dns (its own DNS certificate, the chart's emptyDir), ./etc/cacerts
 *   (the optional `cacerts` Secret: absent, so istiod makes its own CA in the istio-ca-secret
 *   Secret), ./var/run/secrets/istiod/{tls,ca} (pkg/config/constants).
 * - ./var/run/secrets/kubernetes.io/serviceaccount/ca.crt only with a Kubernetes signer as
 *   PILOT_CERT_PROVIDER (pilot/pkg/bootstrap/certcontroller.go); the chart says `istiod`.
 * The CA server reads its istio-ca token at the absolute /var/run/secrets/tokens/istio-token
 * (pilot/pkg/security/model/authentication.go), which the runner does not write (it writes the
 * projected token under the root only): istiod then adds no out-of-cluster JWT authenticator (so
 * no OIDC discovery against the issuer) and its CA keeps the Kubernetes TokenReview one.
 */
export function istiodPodProgram(bin: string): PodProgram {
    return {
        bin,
        image: /\/pilot$/,
        // Its HTTP port (8080: readiness, debug) on the pod's IP rather than on every address: in the
        // harness's network namespace all pod IPs are local, and the demo app's pods listen on 8080.
        extraArgs: (ctx) => ["--kubeconfig", ctx.kubeconfig, "--httpAddr", `${ctx.pod.status?.podIP ?? ""}:8080`],
        env: (ctx) => ({ KUBECONFIG: ctx.kubeconfig }),
    };
}
