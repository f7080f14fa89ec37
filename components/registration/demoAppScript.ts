import * as fs from "fs";
import * as path from "path";

/**
 * Where `npm run build:app` (part of the build the package ships) writes the
 * demo app, dist/app/server.js, seen from this file in the built package
 * (dist/components/registration) or as source (components/registration).
 * Looked up when first needed, not at import.
 */
function demoAppScriptPath(): string {
    const candidates = [
        path.join(__dirname, "..", "..", "app", "server.js"),
        path.join(__dirname, "..", "..", "dist", "app", "server.js"),
    ];
    return candidates.find((p) => fs.existsSync(p)) ?? candidates[0];
}

let cached: string | undefined;

/** The demo app's JavaScript, shipped to the cluster in a ConfigMap. */
export function demoAppSource(): string {
    if (cached === undefined) {
        const file = demoAppScriptPath();
        if (!fs.existsSync(file))
            throw new Error(`the demo app is not built (${file} is missing): run "npm run build:app"`);
        cached = fs.readFileSync(file, "utf8");
    }
    return cached;
}
