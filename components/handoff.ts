import type { AppSettings } from "./settings/schema";
import type { Plan } from "./plan/stack";
import type { Registrar } from "./registration/registrar";

/**
 * How StickySessions hands a child component its part of the stack's plan: the validated, planned
 * settings (no second parse) and the registrar that holds what the part waits for. Each component
 * takes it as the last parameter of its one constructor (Pulumi's component analyzer, which infers
 * schema.json, reads exactly one); programs leave it out.
 */
export interface Handoff {
    plan: Plan;
    registrar: Registrar;
    /** For a StickyApp: its app's settings. */
    app?: AppSettings;
}
