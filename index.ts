/**
 * The per-environment program: `pulumi up -s dev|staging|prod` deploys what
 * stacks/Pulumi.<stack>.yaml asks for. Config is validated before anything is
 * registered; a bad key or value stops the run with every problem listed.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StickySessions } from "./components";

const { value: stack } = parseStackConfig(pulumi.runtime.allConfig());

const sticky = new StickySessions("sticky", { mesh: stack.mesh, apps: stack.apps, tls: stack.tls });

/** Where clients reach the ingress gateway. */
export const ingress = sticky.ingress;
/** Per app: namespace, Service host, path, policy, URL, a probe loop, pods and direct-routing curls. */
export const apps = sticky.endpoints;
/** Per app, the ready pods as [{name, ip}]: a snapshot taken at `pulumi up` / `pulumi refresh`. */
export const pods = sticky.endpoints.apply((e) =>
    Object.fromEntries(Object.entries(e).map(([name, app]) => [name, app.pods])),
);
/** The gateway pod labels, also the Istio Gateway's selector. */
export const gatewayLabels = sticky.gatewayLabels;
export const istioVersion = stack.mesh.install ? stack.mesh.version : "existing";
/** What an existing Istio must provide (empty when this stack installs Istio). */
export const meshRequirements = sticky.meshRequirements;
