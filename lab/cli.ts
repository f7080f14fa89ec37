/**
 * `npm run lab -- --stack <name> [--json] [--xds-only]`: the mesh lab for one
 * stack of this project (stacks/Pulumi.<name>.yaml). Prints, per app, what
 * istiod generated for Envoy, whether it matches the stack, and the figures a
 * real Envoy gave; `--json` prints one JSON document instead; `--out <dir>` also
 * writes what istiod sent each proxy and the bootstrap the lab's Envoy ran. Exit status 0
 * when everything matches, 1 when not, 2 on a usage error.
 */
import { parseArgs } from "util";
import { listStacks, readStackConfig } from "istio-sticky/stack-files";
import { PROJECT_DIR } from "./build";
import { parseStackConfig, SettingsError } from "istio-sticky";
import { isHashMode, isPersistentMode } from "istio-sticky/plan";
import { measuredOk, runLab, type LabReport } from "./run";

export const LAB_USAGE =
    "usage: npm run lab -- --stack <name> [--json] [--xds-only] [--out <dir>]   (--out: write what istiod sent each proxy, and the gateway's Envoy bootstrap)";

export interface LabIo {
    out: (s: string) => void;
    err: (s: string) => void;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The report as JSON: the documented shape first, the details after. */
export function labJson(r: LabReport): object {
    return {
        stack: r.stack,
        dataplane: r.dataplane,
        istio: r.istio,
        envoy: r.envoy,
        apps: r.apps.map((a) => ({
            name: a.name,
            mode: a.mode,
            xds: a.xds,
            ...(a.envoy
                ? {
                      envoy: {
                          sessions: a.envoy.sessions,
                          pods: a.envoy.pods,
                          stickiness: a.envoy.stickiness,
                          worstSession: a.envoy.worstSession,
                          podsUsed: a.envoy.podsUsed,
                          movedOnScaleUp: a.envoy.movedOnScaleUp,
                          requestsByPod: a.envoy.requestsByPod,
                          maxRequestShare: a.envoy.maxRequestShare,
                          errors: a.envoy.errors,
                          ...(a.envoy.podsAfterScaleUp ? { podsAfterScaleUp: a.envoy.podsAfterScaleUp } : {}),
                          ...(a.envoy.direct ? { direct: a.envoy.direct } : {}),
                          ...(a.envoy.https ? { https: a.envoy.https } : {}),
                      },
                  }
                : { notMeasured: a.notMeasured }),
            seen: a.seen,
        })),
        ok: r.ok,
        problems: r.problems,
        warnings: r.warnings,
        istioControlPlane: r.istioControlPlane,
        labAddresses: r.labAddresses,
        removedFromEnvoyConfig: r.removedFromEnvoyConfig,
        timings: r.timings,
    };
}

/** The report as text. */
export function formatLab(r: LabReport, settings: ReturnType<typeof parseStackConfig>["value"]): string {
    const lines = [
        `stack ${r.stack}: ${r.dataplane} data plane, Istio ${r.istio}; xDS from istiod ${r.istioControlPlane.release} (istio/istio@${r.istioControlPlane.commit}), run by Envoy ${r.envoy}`,
    ];
    for (const p of r.problems) lines.push(`  PROBLEM ${p}`);
    for (const w of r.warnings) lines.push(`  warning ${w}`);
    for (const c of r.labAddresses) lines.push(`  lab addresses: ${c}`);
    for (const a of r.apps) {
        const s = settings.apps.find((x) => x.name === a.name)!;
        lines.push("", `${a.name} (${a.mode})`);
        for (const seen of a.seen) lines.push(`  envoy got   ${seen}`);
        lines.push(`  xds         ${a.xds.ok ? "matches the stack" : "DOES NOT MATCH the stack"}`);
        for (const p of a.xds.problems) lines.push(`    - ${p}`);
        const e = a.envoy;
        if (!e) {
            lines.push(`  measured    no: ${a.notMeasured}`);
            continue;
        }
        const perPod = Object.entries(e.requestsByPod)
            .map(([p, n]) => `${p} ${n}`)
            .join(", ");
        lines.push(
            `  measured    ${e.sessions} sessions: stickiness ${pct(e.stickiness)} (least sticky session ${pct(e.worstSession)}), ${e.podsUsed} pods used, largest pod ${pct(e.maxRequestShare)} of requests, ${e.errors} errors`,
        );
        lines.push(`  per pod     ${perPod}`);
        if (e.movedOnScaleUp !== null)
            lines.push(
                `  scale-up    ${e.pods} → ${e.podsAfterScaleUp} pods: ${pct(e.movedOnScaleUp)} of sessions moved` +
                    (isHashMode(s.affinity.mode)
                        ? ` (an ideal consistent hash moves 1/${e.podsAfterScaleUp} = ${pct(1 / e.podsAfterScaleUp!)})`
                        : isPersistentMode(s.affinity.mode)
                          ? " (persistent: 0 expected)"
                          : ""),
            );
        if (e.direct)
            lines.push(
                `  direct      ${e.direct.podsReached}/${e.direct.pods} pods reached by address; refused from outside the allowed clients: ${e.direct.refusedOutsideClients ? "yes" : "NO"}, for an address outside the pod network: ${e.direct.refusedOutsidePodCidr ? "yes" : "NO"}`,
            );
        if (e.https)
            lines.push(
                `  https       ${e.https.ok} requests answered with the self-signed certificate, stickiness ${pct(e.https.stickiness)}`,
            );
        const bad = measuredOk(a, s);
        lines.push(
            `  result      ${a.xds.ok && bad.length === 0 ? "PASS" : `FAIL${bad.length ? `: ${bad.join("; ")}` : ""}`}`,
        );
    }
    lines.push(
        "",
        `times: xds build ${r.timings.xdsBuild.toFixed(1)} s${r.timings.xdsBuild === 0 ? " (cached)" : ""}, Envoy install ${r.timings.envoyInstall.toFixed(1)} s${r.timings.envoyInstall === 0 ? " (cached)" : ""}, generate ${r.timings.generate.toFixed(1)} s, measure ${r.timings.measure.toFixed(1)} s`,
        `result: ${r.ok ? "PASS" : "FAIL"}`,
    );
    return lines.join("\n") + "\n";
}

export async function runLabCommand(argv: string[], io: LabIo, projectDir = PROJECT_DIR): Promise<number> {
    let flags;
    try {
        flags = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s" },
                json: { type: "boolean" },
                "xds-only": { type: "boolean" },
                out: { type: "string", short: "o" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (e) {
        io.err(`${(e as Error).message}\n${LAB_USAGE}\n`);
        return 2;
    }
    if (flags.help) {
        io.out(`${LAB_USAGE}\n`);
        return 0;
    }
    if (!flags.stack) {
        io.err(`--stack is required (one of ${listStacks(projectDir).join(", ")})\n${LAB_USAGE}\n`);
        return 2;
    }
    let config;
    try {
        config = readStackConfig(projectDir, flags.stack);
        parseStackConfig(config);
    } catch (e) {
        io.err(e instanceof SettingsError ? `${e.message}\n` : `error: ${(e as Error).message}\n`);
        return e instanceof SettingsError ? 1 : 2;
    }
    const report = await runLab(flags.stack, config, { measure: !flags["xds-only"], out: flags.out });
    io.out(
        flags.json
            ? `${JSON.stringify(labJson(report), null, 2)}\n`
            : formatLab(report, parseStackConfig(config).value),
    );
    return report.ok ? 0 : 1;
}

if (require.main === module) {
    runLabCommand(process.argv.slice(2), {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
    }).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
            process.exitCode = 2;
        },
    );
}
