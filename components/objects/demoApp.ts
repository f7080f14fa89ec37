import * as fs from "fs";
import * as path from "path";

/**
 * Where `npm run build:app` (run by `npm install`) writes the demo app, seen from
 * this file as source (components/objects) or as the built package (dist/components/objects).
 */
export const DEMO_APP_SCRIPT =
    [path.join(__dirname, "..", "..", "app", "dist", "server.js"), path.join(__dirname, "..", "..", "..", "app", "dist", "server.js")].find(
        (p) => fs.existsSync(p),
    ) ?? path.join(__dirname, "..", "..", "app", "dist", "server.js");
/** The public image the demo app runs on; no image build or registry needed. */
export const DEMO_APP_IMAGE = "node:22-alpine";

let cached: string | undefined;

/** The demo app's JavaScript, shipped to the cluster in a ConfigMap. */
export function demoAppSource(): string {
    if (cached === undefined) {
        if (!fs.existsSync(DEMO_APP_SCRIPT)) {
            throw new Error(`the demo app is not built (${DEMO_APP_SCRIPT} is missing): run "npm run build:app"`);
        }
        cached = fs.readFileSync(DEMO_APP_SCRIPT, "utf8");
    }
    return cached;
}
