/**
 * A consumer's program, as another project writes it after `npm install istio-sticky`:
 * an IstioMesh, a StickyApp with the demo app and a GatewayTls, run under Pulumi's guide mocks.
 * It prints what was registered as JSON on its last line.
 */
import * as k8s from "@pulumi/kubernetes";
import { AffinityMode, GatewayTls, IstioMesh, StickyApp, type StickyAppArgs } from "istio-sticky";
import { settled, useGuideMocks } from "./guideMocks";

async function main(): Promise<void> {
    const registered = useGuideMocks();
    const provider = new k8s.Provider("kind", { context: "kind-consumer" });
    const mesh = new IstioMesh("mesh", { persistentSessions: true }, { providers: [provider] });
    const args: StickyAppArgs = {
        name: "cart",
        affinity: { mode: AffinityMode.Cookie, cookie: { name: "cart-session", ttl: "0s" } },
        gatewayNamespace: mesh.gatewayNamespace,
        gatewaySelector: mesh.gatewayLabels,
    };
    const app = new StickyApp("cart", args, { providers: [provider], dependsOn: [mesh] });
    // cert-manager through @pulumi/kubernetes-cert-manager's component, as the package depends on it.
    new GatewayTls(
        "tls",
        { hosts: ["cart.test"], gatewayNamespace: mesh.gatewayNamespace },
        { providers: [provider], dependsOn: [mesh] },
    );
    const affinity = await new Promise<string>((resolve) => app.affinity.apply(resolve));
    // Let the registrations that wait on Outputs arrive.
    await settled(registered);
    process.stdout.write(`${JSON.stringify({ affinity, registered })}\n`);
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
});
