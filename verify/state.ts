/**
 * The state file of --save and --resume: a run's sessions (ids, cookie jars, echoed
 * headers and the pod each was on), so a later run, for example after a scale-up,
 * continues the same sessions and counts those that landed on another pod.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";

/** A state file that cannot be read or written, is not JSON, or is no saved run of this version. */
export class VerifyStateError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "VerifyStateError";
    }
}

export const SAVED_RUN_VERSION = 1;

const savedSessionSchema = z.strictObject({
    id: z
        .string()
        .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,200}$/, { message: "must be a session id (letters, digits, - . _ …)" }),
    /** The tough-cookie jar, serialized (mode cookie). */
    cookies: z.looseObject({ cookies: z.array(z.looseObject({})) }).optional(),
    /** The header the proxy last returned (mode persistent-header). */
    echoed: z.string().optional(),
    /** The pod that served most of the session's requests. */
    topPod: z.string().optional(),
});

const savedRunSchema = z.strictObject({
    version: z.literal(SAVED_RUN_VERSION),
    url: z.string(),
    mode: z.string(),
    key: z.string().optional(),
    sessions: z.array(savedSessionSchema).min(1, { message: "must hold at least one session" }),
});

export type SavedSession = z.infer<typeof savedSessionSchema>;
export type SavedRun = z.infer<typeof savedRunSchema>;

/** Reads and checks a state file; every problem is a VerifyStateError naming the file. */
export function readSavedRun(file: string): SavedRun {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new VerifyStateError(
            `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
    }
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (e) {
        throw new VerifyStateError(`${file} is not JSON (${(e as Error).message})`);
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof json !== "object" || json === null || Array.isArray(json) || version !== SAVED_RUN_VERSION) {
        throw new VerifyStateError(
            `${file} is not a saved run of version ${SAVED_RUN_VERSION} (${version === undefined ? "no version" : `version ${JSON.stringify(version)}`})`,
        );
    }
    const r = savedRunSchema.safeParse(json);
    if (!r.success) {
        const i = r.error.issues[0];
        throw new VerifyStateError(`${file}: ${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`);
    }
    const seen = new Set<string>();
    for (const s of r.data.sessions) {
        if (seen.has(s.id)) throw new VerifyStateError(`${file}: session ${s.id} appears twice`);
        seen.add(s.id);
    }
    return r.data;
}

/** Fails before a run when its state file could not be written afterwards (no such directory, no permission). */
export function checkWritable(file: string): void {
    const dir = path.dirname(path.resolve(file));
    try {
        fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
        throw new VerifyStateError(
            `cannot write ${file}: ${dir} ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "is not writable"}`,
        );
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory())
        throw new VerifyStateError(`cannot write ${file}: it is a directory`);
}

/** Writes a saved run (through a temporary file, so a reader never sees half of it). */
export function writeSavedRun(file: string, run: SavedRun): void {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
        fs.writeFileSync(tmp, `${JSON.stringify(run, null, 2)}\n`);
        fs.renameSync(tmp, file);
    } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw new VerifyStateError(
            `cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
    }
}
