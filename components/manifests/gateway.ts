import { COMMON_LABELS, K8sObject } from "./types";

export interface IstioGatewayOptions {
    name: string;
    namespace: string;
    /** The gateway pods' labels, exactly as the gateway chart was given them. */
    selector: Record<string, string>;
    hosts: string[];
    /** An HTTPS server on 443 for `hosts` with this Secret (in the gateway's namespace), and HTTP redirected to it when asked. */
    tls?: { credentialName: string; hosts: string[]; httpsRedirect: boolean };
}

/** An Istio Gateway: HTTP on port 80, and with `tls` HTTPS on 443 (SIMPLE, the certificate from credentialName). */
export function buildIstioGateway(o: IstioGatewayOptions): K8sObject {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name: o.name, namespace: o.namespace, labels: { ...COMMON_LABELS } },
        spec: {
            selector: { ...o.selector },
            servers: [
                {
                    port: { number: 80, name: "http", protocol: "HTTP" },
                    hosts: [...o.hosts],
                    ...(o.tls?.httpsRedirect ? { tls: { httpsRedirect: true } } : {}),
                },
                ...(o.tls
                    ? [
                          {
                              port: { number: 443, name: "https", protocol: "HTTPS" },
                              hosts: [...o.tls.hosts],
                              tls: { mode: "SIMPLE", credentialName: o.tls.credentialName },
                          },
                      ]
                    : []),
            ],
        },
    };
}

/** How a VirtualService names a gateway in another namespace. */
export function gatewayRef(name: string, namespace: string): string {
    return `${namespace}/${name}`;
}
