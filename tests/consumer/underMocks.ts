/**
 * Runs a compiled Pulumi program (argv[2]) under Pulumi's guide mocks, as a unit test imports it
 * after setting them, and prints on its last line what it registered and what it exports.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { settled, useGuideMocks } from "./guideMocks";

async function main(): Promise<void> {
    const registered = useGuideMocks();
    const program: Record<string, unknown> = require(path.resolve(process.argv[2]));
    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(program)) {
        if (pulumi.Output.isInstance(value)) outputs[name] = await new Promise((resolve) => value.apply(resolve));
    }
    await settled(registered);
    process.stdout.write(`${JSON.stringify({ registered: registered.map(({ inputs, ...r }) => r), outputs })}\n`);
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
});
