/**
 * A TypeScript program (index.ts in the working directory) run the way `pulumi up` runs it: what
 * @pulumi/pulumi's cmd/run/run.js does for a CommonJS project (its non-ESM branch) — ts-node, the
 * project's typescript (else Pulumi's vendored one), the project's tsconfig.json over Pulumi's
 * defaults — then under Pulumi's guide mocks. Prints the program's exports' names on its last line.
 */
import * as pulumi from "@pulumi/pulumi";
import { settled, useGuideMocks } from "./guideMocks";

const tsutils = require("@pulumi/pulumi/tsutils");

async function main(): Promise<void> {
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
    require(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly: compilerOptions.noCheck,
        project: "tsconfig.json",
        skipProject: false,
        compilerOptions: {
            target: "ES2020",
            module: "nodenext",
            moduleResolution: "nodenext",
            sourceMap: "true",
            ...compilerOptions,
        },
    });
    const registered = useGuideMocks();
    const program: Record<string, unknown> = require(`${process.cwd()}/index.ts`);
    const exported = Object.keys(program).filter((k) => pulumi.Output.isInstance(program[k]));
    for (const k of exported) await new Promise((resolve) => (program[k] as pulumi.Output<unknown>).apply(resolve));
    await settled(registered);
    process.stdout.write(
        `${JSON.stringify({ typescript: require(typescriptRequire).version, exported, registered: registered.length })}\n`,
    );
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
});
