/**
 * istio-sticky-verify as a library: measure stickiness from a script or a test.
 *
 *     const report = await verifyStickiness(parseVerifyOptions({ url, mode: "cookie" }));
 *     if (!report.pass) throw new Error(formatReport(report));
 *
 * Sessions moved by a change (a scale-up): run with `save: "before.json"`, change the
 * deployment, run again with `resume: "before.json"` and read `report.comparison`.
 */
export { verifyStickiness, VerifyHooks } from "./run";
export { parseVerifyArgs } from "./cli";
export {
    parseVerifyOptions,
    sourceAddressRange,
    MAX_SOURCE_ADDRESSES,
    VerifyMode,
    VerifyOptions,
    VerifyInput,
    VerifyUsageError,
} from "./options";
export { compareRuns, formatReport, MAX_MOVED_IDS, Report, RunComparison, SessionReport, Sample } from "./report";
export { readSavedRun, writeSavedRun, SAVED_RUN_VERSION, SavedRun, SavedSession, VerifyStateError } from "./state";
