/**
 * A loop the harness runs beside the Pulumi CLI (the load balancer, the Job gates): `tick` every
 * `pollMs`, for at most `maxSeconds`, until stopped. A tick that fails (the API server starting or
 * stopping) is tried again at the next.
 */
export interface Background {
    /** Ends the loop after the tick under way, and waits for it. */
    stop(): Promise<void>;
}

export function inBackground(
    tick: () => Promise<void>,
    opts: { pollMs?: number; maxSeconds?: number } = {},
): Background {
    const pollMs = opts.pollMs ?? 1000;
    const polls = Math.ceil(((opts.maxSeconds ?? 7200) * 1000) / pollMs);
    let stopping = false;
    const loop = (async () => {
        for (let i = 0; i < polls && !stopping; i++) {
            try {
                await tick();
            } catch {
                // tried again at the next poll
            }
            await new Promise((r) => setTimeout(r, pollMs));
        }
    })();
    return {
        stop: async () => {
            stopping = true;
            await loop;
        },
    };
}
