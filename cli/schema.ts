/**
 * `npm run schema`: writes schema.json, the Pulumi package schema that
 * `pulumi package add <this repository>` infers from the components (the
 * SDK's component analyzer, run the way the plugin host runs it). Other
 * languages' SDKs are generated from it; a test keeps the committed file current.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";

export const SCHEMA_FILE = "schema.json";

/** The package name the plugin host derives from package.json ("@scope/name" → "name"), as Pulumi's run-plugin does. */
export function providerNameOf(packageName: string): string {
    return packageName.replace(/^@[^/]+\//, "").replace(/[^-a-zA-Z0-9_]/g, "-");
}

/** The schema, inferred from the built entry point's components and the TypeScript sources of `projectDir`. */
export async function inferSchema(projectDir: string): Promise<Record<string, unknown>> {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8"));
    const components = getPulumiComponents(require(path.join(projectDir, pkg.main)));
    const provider = new ComponentProvider({ components, dirname: projectDir, name: providerNameOf(pkg.name) });
    return JSON.parse(await provider.getSchema());
}

/** The schema as committed: two-space JSON with a final newline. */
export function formatSchema(schema: Record<string, unknown>): string {
    return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
    const root = path.join(__dirname, "..");
    inferSchema(root).then(
        (schema) => {
            fs.writeFileSync(path.join(root, SCHEMA_FILE), formatSchema(schema));
            process.stderr.write(`wrote ${SCHEMA_FILE}\n`);
        },
        (e) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = 1;
        },
    );
}
