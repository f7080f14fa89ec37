import type { AppSettings } from "./settings/schema";
import type { Plan } from "./plan/stack";
import type { Registrar } from "./registration/registrar";

/**
 * How StickySessions hands a child component its part of the stack's plan: the validated, planned
 * settings (no second parse) and the registrar that holds what the part waits for. Each component
 * takes it as the fourth parameter of a constructor overload that the published declarations leave
 * out (stripInternal); its args are then empty: the plan holds the settings.
 * @internal
 */
export interface Handoff {
    plan: Plan;
    registrar: Registrar;
    /** For a StickyApp: its app's settings. */
    app?: AppSettings;
}

/** The args a component gets with a handoff: none, the plan holds its settings. @internal */
export type NoArgs = Record<string, never>;
