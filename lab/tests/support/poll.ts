/**
 * Polls `check` every 500 ms, at most `count` times, until it returns a value. An error counts as
 * "not yet" (the last one is reported), unless `fatal` says it ends the wait at once.
 */
export async function poll<T>(
    what: string,
    count: number,
    check: () => T | undefined | Promise<T | undefined>,
    fatal: (e: unknown) => boolean = () => false,
): Promise<T> {
    let last = "";
    for (let i = 0; i < count; i++) {
        try {
            const r = await check();
            if (r !== undefined) return r;
        } catch (e) {
            if (fatal(e)) throw e;
            last = String(e);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${what}: not after ${count} tries (${count / 2} s) ${last}`);
}
