/** Go modules from the module proxy (through Go's module cache), for what the lab builds or reads from source. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";

const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

/** One module at one version from the proxy (or the module cache): its folder, go.mod and commit time. */
export interface GoModule {
    dir: string;
    goMod: string;
    /** The time of the version's commit (the proxy's .info). */
    time: string;
}

export function downloadModule(module: string, version: string): GoModule {
    let out: string;
    try {
        // Outside any module: only the one named is downloaded.
        out = execFileSync("go", ["mod", "download", "-json", `${module}@${version}`], {
            cwd: os.tmpdir(),
            encoding: "utf8",
            timeout: DOWNLOAD_TIMEOUT_MS,
            stdio: ["ignore", "pipe", "pipe"],
        });
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        const reported = /"Error":\s*"([^"]*)"/.exec(err.stdout ?? "")?.[1];
        throw new Error(`go mod download ${module}@${version}: ${reported ?? err.stderr ?? err.message}`);
    }
    const info = JSON.parse(out) as { Dir?: string; GoMod?: string; Info?: string; Error?: string };
    if (info.Error || !info.Dir || !info.GoMod || !info.Info)
        throw new Error(`go mod download ${module}@${version}: ${info.Error ?? out}`);
    const time = (JSON.parse(fs.readFileSync(info.Info, "utf8")) as { Time: string }).Time;
    return { dir: info.Dir, goMod: fs.readFileSync(info.GoMod, "utf8"), time };
}
