import { COMMON_LABELS, K8sObject } from "./types";

export interface IstioGatewayOptions {
    name: string;
    namespace: string;
    /** The gateway pods' labels, exactly as the gateway chart was given them. */
    selector: Record<string, string>;
    hosts: string[];
}

/** An Istio Gateway with one HTTP server on port 80. */
export function buildIstioGateway(o: IstioGatewayOptions): K8sObject {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name: o.name, namespace: o.namespace, labels: { ...COMMON_LABELS } },
        spec: {
            selector: { ...o.selector },
            servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [...o.hosts] }],
        },
    };
}

/** How a VirtualService names a gateway in another namespace. */
export function gatewayRef(name: string, namespace: string): string {
    return `${namespace}/${name}`;
}
