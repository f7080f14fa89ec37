/**
 * The artifacts the shipped stacks install, served from 127.0.0.1 so that the real code paths fetch
 * them: Helm repositories for Istio's and cert-manager's charts (the Kubernetes provider's embedded
 * Helm reads index.yaml and pulls the .tgz it names), and the Gateway API's release layout
 * (`<version>/standard-install.yaml`). A stack points at them with its mirror settings:
 * `mesh.chartRepository`, `tls.chartRepository` and `mesh.gatewayApiCrdsRepository`.
 *
 * Everything is built from the Go module proxy, once per machine, into the cache
 * (`<cache>/cluster/helm-<hash>` and `<cache>/cluster/artifacts-<hash>`):
 *
 * - `helm`: the CLI, helm.sh/helm/v3/cmd/helm at HELM_VERSION (its go.mod has no replace
 *   directives, so `go install` at the version builds it), with the -ldflags of its Makefile;
 * - Istio's charts base, istiod, gateway, cni and ztunnel from the Istio module the lab builds
 *   against (lab/xds/go.mod), stamped as Istio's release build (istio/release-builder
 *   pkg/build/helm.go) stamps them: version and appVersion set to the release, and in values.yaml
 *   the testing hub replaced by docker.io/istio and `tag: latest` by the release;
 * - cert-manager's chart from its module, assembled as its Makefile does (make/manifests.mk):
 *   version, appVersion and the artifacthub.io annotations in Chart.yaml, README.md from its template;
 * - the Gateway API's standard-install.yaml, concatenated from config/crd/standard as its
 *   hack/build-install-yaml.sh does, for each release in GATEWAY_API_VERSIONS.
 *
 * The charts are packaged with `helm package` and indexed with `helm repo index` without a base
 * URL: the index names each chart relative to the repository, and Helm resolves that against the
 * repository URL it was given (pkg/repo/chartrepo.go: ResolveReferenceURL), so the folder can be
 * served from a port known only at run time.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { parse, parseDocument } from "yaml";
import { ISTIO_IMAGE_HUB, ISTIO_LINES, DEFAULT_CERT_MANAGER_VERSION } from "istio-sticky/plan";
import { istioModule, labCache, once } from "../build";
import { downloadModule, type GoModule } from "../goModule";

/** The newest Helm v3 release the Go module proxy serves (`go list -m -versions helm.sh/helm/v3`). */
export const HELM_VERSION = "v3.22.0";
const HELM_MODULE = "helm.sh/helm/v3";
const HELM_PACKAGE = `${HELM_MODULE}/cmd/helm`;

/** cert-manager's chart: the version the package installs by default. */
export const CERT_MANAGER_VERSION = DEFAULT_CERT_MANAGER_VERSION;
const CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager";

/** The Gateway API releases whose standard CRDs are served: each supported Istio line's, newest first (the version table, components/settings/versions.ts). */
export const GATEWAY_API_VERSIONS: readonly string[] = ISTIO_LINES.map((l) => l.gatewayApi).reverse();
const GATEWAY_API_MODULE = "sigs.k8s.io/gateway-api";

/** Where Istio's release build publishes images: the hub its stamped charts default to (release-builder release/build.sh). */
const ISTIO_RELEASE_HUB = ISTIO_IMAGE_HUB;

/** Istio's charts by name, with their folder in the Istio module's manifests/charts. */
const ISTIO_CHARTS: Readonly<Record<string, string>> = {
    base: "base",
    istiod: "istio-control/istio-discovery",
    gateway: "gateway",
    cni: "istio-cni",
    ztunnel: "ztunnel",
};

/** Bumped when the way the artifacts are built changes, so the cache key changes with it. */
const RECIPE = 1;

/** Each `go` command may take this long before it is stopped. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface Helm {
    /** The folder holding `helm`. */
    bin: string;
    /** The executable. */
    helm: string;
    /** What `helm version` reports: HELM_VERSION. */
    version: string;
    /** Seconds the build took; 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

function goVersion(): string {
    return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8", timeout: 60_000 }).trim();
}

/** `helm version --template {{.Version}}` of an executable. */
export function helmVersion(helm: string): string {
    return execFileSync(helm, ["version", "--template", "{{.Version}}"], { encoding: "utf8", timeout: 60_000 }).trim();
}

/**
 * The Helm CLI at HELM_VERSION, built with the machine's Go from the module proxy, with the
 * -ldflags of Helm's Makefile: its version, and the Kubernetes version its `helm template` and
 * lint assume (one minor past the client-go it builds with, as the Makefile computes it; without
 * it Helm assumes Kubernetes 1.20, which charts' kubeVersion constraints refuse).
 */
export function ensureHelm(): Helm {
    const go = goVersion();
    const hash = createHash("sha256").update(JSON.stringify({ recipe: RECIPE, helm: HELM_VERSION, go }));
    const target = path.join(labCache(), "..", "cluster", `helm-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        const bin = path.join(partial, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const module = downloadModule(HELM_MODULE, HELM_VERSION);
        const clientGo = /^\s*k8s\.io\/client-go v(\d+)\.(\d+)\.\d+/m.exec(module.goMod);
        if (!clientGo) throw new Error(`${HELM_MODULE}@${HELM_VERSION}: its go.mod does not require k8s.io/client-go`);
        const k8sMajor = String(Number(clientGo[1]) + 1);
        const k8sMinor = clientGo[2];
        const ldflags = [
            "-w -s",
            `-X ${HELM_MODULE}/internal/version.version=${HELM_VERSION}`,
            `-X ${HELM_MODULE}/internal/version.gitTreeState=clean`,
            `-X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMajor=${k8sMajor}`,
            `-X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMinor=${k8sMinor}`,
            `-X ${HELM_MODULE}/pkg/chartutil.k8sVersionMajor=${k8sMajor}`,
            `-X ${HELM_MODULE}/pkg/chartutil.k8sVersionMinor=${k8sMinor}`,
        ].join(" ");
        execFileSync("go", ["install", "-trimpath", "-ldflags", ldflags, `${HELM_PACKAGE}@${HELM_VERSION}`], {
            cwd: partial,
            stdio: ["ignore", "ignore", "inherit"],
            timeout: BUILD_TIMEOUT_MS,
            env: { ...process.env, CGO_ENABLED: "0", GOBIN: bin },
        });
        const reported = helmVersion(path.join(bin, "helm"));
        if (reported !== HELM_VERSION) throw new Error(`the built helm reports ${reported}, expected ${HELM_VERSION}`);
    });
    const bin = path.join(built.path, "bin");
    return { bin, helm: path.join(bin, "helm"), version: HELM_VERSION, seconds: built.seconds, cached: built.cached };
}

/** Helm's environment with its cache, configuration and data in `home` (the user's are left alone). */
export function helmEnv(home: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        HELM_CACHE_HOME: path.join(home, "cache"),
        HELM_CONFIG_HOME: path.join(home, "config"),
        HELM_DATA_HOME: path.join(home, "data"),
    };
}

export interface ArtifactVersions {
    helm: string;
    /** The Istio release the charts are stamped with, and the module version they come from. */
    istio: { release: string; module: string };
    certManager: string;
    gatewayApi: string[];
    go: string;
}

export interface Artifacts {
    /** The folder to serve. */
    dir: string;
    /** Istio's Helm repository folder: index.yaml and base, istiod, gateway, cni, ztunnel .tgz. */
    istioCharts: string;
    /** cert-manager's Helm repository folder: index.yaml and cert-manager-<version>.tgz. */
    certManagerCharts: string;
    /** The Gateway API's releases: <version>/standard-install.yaml. */
    gatewayApi: string;
    versions: ArtifactVersions;
    /** Seconds the build took (the Helm build included); 0 when it came from the cache. */
    seconds: number;
    cached: boolean;
}

function copyTree(from: string, to: string): void {
    fs.cpSync(from, to, { recursive: true, dereference: true });
    // Files from the module cache are read-only; the copies are edited.
    const writable = (p: string) => {
        const st = fs.statSync(p);
        fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
        if (st.isDirectory()) for (const e of fs.readdirSync(p)) writable(path.join(p, e));
    };
    writable(to);
}

/** The values.yaml of an Istio chart as Istio's release build leaves it: hub and tag of the release (release-builder updateValues). */
export function stampIstioValues(values: string, release: string, hub: string = ISTIO_RELEASE_HUB): string {
    let out = values;
    for (const testing of ["gcr.io/istio-testing", "gcr.io/istio-release", "registry.istio.io/testing"]) {
        out = out.split(`hub: ${testing}`).join(`hub: ${hub}`);
        out = out.split(`"hub": "${testing}"`).join(`"hub": "${hub}"`);
    }
    for (const tag of [/tag: .*-latest-daily/g, /tag: latest/g, /tag: 1\..-dev/g])
        out = out.replace(tag, `tag: ${release}`);
    return out.replace(/"tag": "latest"/g, `"tag": "${release}"`);
}

/** cert-manager's Chart.yaml as its Makefile writes it for a release. */
function stampCertManagerChart(chartYaml: string, signKey: string, version: string): string {
    const doc = parseDocument(chartYaml);
    doc.setIn(["annotations", "artifacthub.io/signKey"], signKey);
    doc.setIn(["annotations", "artifacthub.io/prerelease"], String(version.includes("-")));
    doc.set("version", version);
    doc.set("appVersion", version);
    return doc.toString();
}

/** The Gateway API's standard-install.yaml as hack/build-install-yaml.sh concatenates it. */
function gatewayApiStandardInstall(module: GoModule): string {
    const year = module.time.slice(0, 4);
    const header = fs
        .readFileSync(path.join(module.dir, "hack", "boilerplate", "boilerplate.sh.txt"), "utf8")
        .replace(/YEAR/g, year);
    const crds = path.join("config", "crd", "standard");
    const files = fs
        .readdirSync(path.join(module.dir, crds))
        .filter((f) => f.startsWith("gateway") && f.endsWith(".yaml"))
        .sort();
    if (!files.length) throw new Error(`${module.dir}/${crds} holds no gateway*.yaml`);
    let out = `${header}#\n# Gateway API Standard channel install\n#\n`;
    for (const f of files)
        out += `---\n#\n# ${crds}/${f}\n#\n${fs.readFileSync(path.join(module.dir, crds, f), "utf8")}`;
    return out;
}

/** `helm repo index` over a folder, then a check that every chart is named relative to the repository. */
function indexRepository(helm: string, env: NodeJS.ProcessEnv, dir: string): void {
    execFileSync(helm, ["repo", "index", dir], { env, stdio: ["ignore", "ignore", "inherit"], timeout: 120_000 });
    const index = parse(fs.readFileSync(path.join(dir, "index.yaml"), "utf8")) as {
        entries: Record<string, { urls: string[] }[]>;
    };
    for (const [name, versions] of Object.entries(index.entries)) {
        for (const v of versions) {
            for (const u of v.urls)
                if (/^[a-z][a-z0-9+.-]*:/i.test(u) || u.startsWith("/"))
                    throw new Error(`${dir}/index.yaml: ${name} at ${u} is not relative`);
        }
    }
}

/** The versions the artifacts will have. */
export function artifactVersions(): ArtifactVersions {
    const istio = istioModule();
    return {
        helm: HELM_VERSION,
        istio: { release: istio.release, module: istio.version },
        certManager: CERT_MANAGER_VERSION,
        gatewayApi: [...GATEWAY_API_VERSIONS],
        go: goVersion(),
    };
}

/**
 * The served folder, built once per machine (Helm first, then the charts and the CRD files;
 * the modules come from the Go module cache or the proxy):
 *
 *     charts/istio/{index.yaml, base-<v>.tgz, istiod-<v>.tgz, gateway-<v>.tgz, cni-<v>.tgz, ztunnel-<v>.tgz}
 *     charts/cert-manager/{index.yaml, cert-manager-<v>.tgz}
 *     gateway-api/<version>/standard-install.yaml
 *     versions.json
 */
export function ensureArtifacts(): Artifacts {
    const helm = ensureHelm();
    const versions = artifactVersions();
    const hash = createHash("sha256").update(
        JSON.stringify({ recipe: RECIPE, versions, hub: ISTIO_RELEASE_HUB, helm: helm.bin }),
    );
    const target = path.join(labCache(), "..", "cluster", `artifacts-${hash.digest("hex").slice(0, 16)}`);
    const built = once(target, (partial) => {
        const work = path.join(partial, ".work");
        const env = helmEnv(path.join(work, "helm-home"));
        const pkg = (chartDir: string, dest: string, version: string) =>
            execFileSync(
                helm.helm,
                ["package", chartDir, "--version", version, "--app-version", version, "--destination", dest],
                {
                    env,
                    stdio: ["ignore", "ignore", "inherit"],
                    timeout: 120_000,
                },
            );

        // Istio's charts.
        const istioRepo = path.join(partial, "charts", "istio");
        fs.mkdirSync(istioRepo, { recursive: true });
        const istio = downloadModule("istio.io/istio", versions.istio.module);
        for (const [name, folder] of Object.entries(ISTIO_CHARTS)) {
            const src = path.join(istio.dir, "manifests", "charts", folder);
            const declared = (parse(fs.readFileSync(path.join(src, "Chart.yaml"), "utf8")) as { name?: string }).name;
            if (declared !== name)
                throw new Error(
                    `istio.io/istio manifests/charts/${folder}/Chart.yaml names the chart ${declared}, expected ${name}`,
                );
            const copy = path.join(work, "istio", name);
            copyTree(src, copy);
            const values = path.join(copy, "values.yaml");
            fs.writeFileSync(values, stampIstioValues(fs.readFileSync(values, "utf8"), versions.istio.release));
            pkg(copy, istioRepo, versions.istio.release);
        }
        indexRepository(helm.helm, env, istioRepo);

        // cert-manager's chart: the files its Makefile copies (not its tests or lint exceptions).
        const cmRepo = path.join(partial, "charts", "cert-manager");
        fs.mkdirSync(cmRepo, { recursive: true });
        const cm = downloadModule(CERT_MANAGER_MODULE, versions.certManager);
        const cmSrc = path.join(cm.dir, "deploy", "charts", "cert-manager");
        const cmCopy = path.join(work, "cert-manager", "cert-manager");
        fs.mkdirSync(cmCopy, { recursive: true });
        copyTree(path.join(cmSrc, "templates"), path.join(cmCopy, "templates"));
        for (const f of ["values.yaml", "values.schema.json", ".helmignore"])
            copyTree(path.join(cmSrc, f), path.join(cmCopy, f));
        const readme = fs.readFileSync(path.join(cmSrc, "README.template.md"), "utf8");
        fs.writeFileSync(
            path.join(cmCopy, "README.md"),
            readme.replace(/\{\{RELEASE_VERSION\}\}/g, versions.certManager),
        );
        const signKey = fs.readFileSync(path.join(cmSrc, "signkey_annotation.txt"), "utf8");
        fs.writeFileSync(
            path.join(cmCopy, "Chart.yaml"),
            stampCertManagerChart(
                fs.readFileSync(path.join(cmSrc, "Chart.yaml"), "utf8"),
                signKey,
                versions.certManager,
            ),
        );
        pkg(cmCopy, cmRepo, versions.certManager);
        indexRepository(helm.helm, env, cmRepo);

        // The Gateway API's standard CRDs, in its releases' layout.
        for (const v of versions.gatewayApi) {
            const dir = path.join(partial, "gateway-api", v);
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(
                path.join(dir, "standard-install.yaml"),
                gatewayApiStandardInstall(downloadModule(GATEWAY_API_MODULE, v)),
            );
        }

        fs.rmSync(work, { recursive: true, force: true });
        fs.writeFileSync(path.join(partial, "versions.json"), JSON.stringify(versions, null, 4) + "\n");
    });
    return {
        dir: built.path,
        istioCharts: path.join(built.path, "charts", "istio"),
        certManagerCharts: path.join(built.path, "charts", "cert-manager"),
        gatewayApi: path.join(built.path, "gateway-api"),
        versions,
        seconds: helm.seconds + built.seconds,
        cached: built.cached && helm.cached,
    };
}

export interface ArtifactServer {
    /** For mesh.chartRepository. */
    istioChartRepository: string;
    /** For tls.chartRepository. */
    certManagerChartRepository: string;
    /** For mesh.gatewayApiCrdsRepository. */
    gatewayApiCrdsRepository: string;
    /** The server's root, "http://127.0.0.1:<port>". */
    url: string;
    /** Every request answered so far, as "GET /charts/istio/index.yaml 200". */
    requests(): string[];
    close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
    ".yaml": "application/yaml",
    ".tgz": "application/gzip",
    ".json": "application/json",
};

/**
 * A static file server for `dir` on 127.0.0.1, on a port the kernel picks: GET and HEAD of the
 * files under it (no listings); anything else is 404 (a missing file, a folder, a path outside
 * `dir`) or 405 (another method).
 */
export async function serveArtifacts(dir: string): Promise<ArtifactServer> {
    const root = fs.realpathSync(dir);
    const log: string[] = [];
    const server = http.createServer((req, res) => {
        const method = req.method ?? "";
        const answer = (status: number, headers: http.OutgoingHttpHeaders = {}, file?: string) => {
            log.push(`${method} ${req.url} ${status}`);
            res.writeHead(status, headers);
            if (file && method === "GET") fs.createReadStream(file).pipe(res);
            else res.end(status === 200 || method === "HEAD" ? undefined : `${status}\n`);
        };
        if (method !== "GET" && method !== "HEAD")
            return answer(405, { Allow: "GET, HEAD", "Content-Type": "text/plain" });
        let rel: string;
        try {
            rel = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
        } catch {
            return answer(404, { "Content-Type": "text/plain" });
        }
        const file = path.join(root, path.normalize(rel));
        let stat: fs.Stats | undefined;
        try {
            if (file.startsWith(root + path.sep) && fs.realpathSync(file).startsWith(root + path.sep))
                stat = fs.statSync(file);
        } catch {
            stat = undefined;
        }
        if (!stat?.isFile()) return answer(404, { "Content-Type": "text/plain" });
        answer(
            200,
            {
                "Content-Type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
                "Content-Length": stat.size,
            },
            file,
        );
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        istioChartRepository: `${url}/charts/istio`,
        certManagerChartRepository: `${url}/charts/cert-manager`,
        gatewayApiCrdsRepository: `${url}/gateway-api`,
        url,
        requests: () => [...log],
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
