import { createHash } from "crypto";
import { COMMON_LABELS, K8sObject } from "./types";

/** The public image the demo app runs on; no image build or registry needed. */
export const DEMO_APP_IMAGE = "node:22-alpine";
/** The key of the demo script in its ConfigMap, and the file the container runs. */
export const DEMO_SCRIPT_KEY = "server.js";
export const DEMO_SCRIPT_DIR = "/app";

/** The demo script as the apps of one namespace mount it: its ConfigMap's name and a digest that rolls the pods when it changes. */
export interface DemoScriptRef {
    configMap: string;
    sha256: string;
}

export function demoScriptRef(configMap: string, source: string): DemoScriptRef {
    return { configMap, sha256: createHash("sha256").update(source).digest("hex") };
}

/** The ConfigMap holding the demo script, once per namespace whatever the number of demo apps in it. */
export function buildDemoScript(ref: DemoScriptRef, namespace: string, source: string): K8sObject {
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
            name: ref.configMap,
            namespace,
            labels: { ...COMMON_LABELS, "app.kubernetes.io/name": "istio-sticky-demo-app" },
        },
        data: { [DEMO_SCRIPT_KEY]: source },
    };
}
