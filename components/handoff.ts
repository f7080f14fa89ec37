import type { AppSettings } from "./settings/schema";
import type { Plan } from "./plan/stack";
import type { Registrar } from "./registration/registrar";

/**
 * How StickySessions hands a child component its part of the stack's plan:
 * the validated, planned settings (no second parse) and the registrar that
 * holds what the part waits for. Not part of the public API.
 */
export const PLANNED = Symbol("istio-sticky.planned");

export interface Handoff {
    plan: Plan;
    registrar: Registrar;
    /** For a StickyApp: its app's settings. */
    app?: AppSettings;
}

export type WithHandoff<A> = A & { [PLANNED]?: Handoff };

export function handoffOf<A extends object>(args: A): Handoff | undefined {
    return (args as WithHandoff<A>)[PLANNED];
}
