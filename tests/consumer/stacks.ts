/**
 * A consumer's per-environment program, as this repository's index.ts is, on the installed
 * package: one stack's config (a JSON file, as `pulumi.runtime.allConfig()` gives it) validated,
 * then StickySessions registered under Pulumi's guide mocks. It prints, on its last line, what was
 * registered beside what render plans for the same config.
 */
import * as fs from "fs";
import { buildPlan, demoAppSource, parseStackConfig, StickySessions } from "istio-sticky";
import { settled, useGuideMocks } from "./guideMocks";

async function main(): Promise<void> {
    const [configFile] = process.argv.slice(2);
    const config: Record<string, unknown> = JSON.parse(fs.readFileSync(configFile, "utf8"));
    const registrations = useGuideMocks();
    const { value } = parseStackConfig(config);
    const sticky = new StickySessions("sticky", { mesh: value.mesh, apps: value.apps, tls: value.tls });
    const endpoints = await new Promise<Record<string, unknown>>((resolve) => sticky.endpoints.apply(resolve));
    await settled(registrations);
    const registered = registrations.map((r) => r.name);
    const plan = buildPlan(value, { name: "sticky", demoAppSource: demoAppSource() });
    const result = {
        node: process.version,
        pulumi: require("@pulumi/pulumi/package.json").version,
        registered: [...new Set(registered)].sort(),
        planned: plan.objects.map((o) => o.key).sort(),
        components: plan.components.map((c) => c.key).sort(),
        reads: plan.reads.map((r) => r.key).sort(),
        apps: Object.keys(endpoints).sort(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
});
