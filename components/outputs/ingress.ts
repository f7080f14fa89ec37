/** The part of a Service the ingress address is read from. */
export interface ServiceView {
    metadata?: { name?: string; namespace?: string };
    spec?: { type?: string; ports?: { name?: string; port?: number; nodePort?: number }[] };
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** Node ports of the gateway's HTTP and HTTPS listeners. */
export interface NodePorts {
    http?: number;
    https?: number;
}

export interface IngressAddress {
    /** The gateway Service type: LoadBalancer, NodePort or ClusterIP, or NotRead when nothing was read (under Pulumi's mocks). */
    type: string;
    /** A load balancer's IP or hostname; absent for NodePort and ClusterIP. */
    host?: string;
    /** The port to use with `host` (80 for a load balancer). */
    port?: number;
    /** Node ports of the HTTP and HTTPS listeners (NodePort Services). */
    nodePorts?: NodePorts;
    /** A base URL to put in front of an app's path, when one can be known. */
    url?: string;
    /** How to reach the gateway when there is no single address. */
    howToReach: string;
}

function portOf(svc: ServiceView, name: string, number: number) {
    return svc.spec?.ports?.find((p) => p.name === name || p.port === number);
}

/** The type an ingress address has when its gateway Service was not read. */
export const NOT_READ = "NotRead";

/**
 * The ingress address of a gateway Service whose read holds nothing: a program under Pulumi's mocks,
 * which give a resource its inputs as its state. Its apps' URLs then start with $INGRESS.
 */
export function ingressNotRead(namespace: string, name: string): IngressAddress {
    return {
        type: NOT_READ,
        howToReach: `not read from a cluster (the gateway Service ${namespace}/${name}): find its address with "kubectl -n ${namespace} get svc ${name}", then export INGRESS=http://<address> (the apps' commands start with "$INGRESS")`,
    };
}

/** Reads where clients reach the ingress gateway from its Service. */
export function ingressFromService(svc: ServiceView): IngressAddress {
    const type = svc.spec?.type ?? "ClusterIP";
    const ns = svc.metadata?.namespace ?? "istio-ingress";
    const name = svc.metadata?.name ?? "istio-ingressgateway";
    const http = portOf(svc, "http2", 80) ?? portOf(svc, "http", 80);
    const https = portOf(svc, "https", 443);
    if (type === "LoadBalancer") {
        const lb = svc.status?.loadBalancer?.ingress?.[0];
        const host = lb?.ip ?? lb?.hostname;
        if (host) {
            return {
                type,
                host,
                port: http?.port ?? 80,
                url: `http://${host}${http?.port && http.port !== 80 ? `:${http.port}` : ""}`,
                howToReach: `http://${host}`,
            };
        }
        return {
            type,
            howToReach: `the load balancer has no address yet: run "pulumi refresh" later, or "kubectl -n ${ns} get svc ${name}"`,
        };
    }
    if (type === "NodePort") {
        const nodePorts = { http: http?.nodePort, https: https?.nodePort };
        return {
            type,
            nodePorts,
            howToReach:
                `export INGRESS=http://<node-ip>:${nodePorts.http ?? "<node-port>"} (the apps' commands start with "$INGRESS"); node IPs: "kubectl get nodes -o wide" ` +
                `(minikube: "minikube ip"; kind: the node container's IP, or map the port with extraPortMappings)`,
        };
    }
    return {
        type,
        howToReach: `kubectl -n ${ns} port-forward svc/${name} 8080:80, then export INGRESS=http://127.0.0.1:8080 (the apps' commands start with "$INGRESS")`,
    };
}
