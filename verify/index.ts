/**
 * istio-sticky-verify as a library: measure stickiness from a script or a test.
 *
 *     const report = await verifyStickiness(parseVerifyOptions({ url, mode: "cookie" }));
 *     if (!report.pass) throw new Error(formatReport(report));
 */
export { verifyStickiness, VerifyHooks } from "./run";
export { parseVerifyOptions, VerifyMode, VerifyOptions, VerifyInput, VerifyUsageError } from "./options";
export { formatReport, Report, SessionReport, Sample } from "./report";
