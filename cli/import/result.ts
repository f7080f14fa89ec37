/**
 * What the import makes of a cluster's Ingresses, before it becomes a stack file (config.ts): the
 * apps, the gateway's hosts, TLS and the report.
 */
import type { ImportedAffinity } from "./affinity";
import type { ReportEntry } from "./report";

export type AppProtocol = "http" | "http2" | "grpc";

export interface ImportedService {
    name: string;
    port: number;
    targetPort?: number;
    appProtocol?: AppProtocol;
    enrolNamespace: boolean;
}

/** One app of the stack config (components/settings/schema.ts: appSchema with `service`). */
export interface ImportedApp {
    name: string;
    namespace: string;
    /** The hosts of the rules its path came from; absent when one of them has no host (every host). */
    hosts?: string[];
    path: string;
    stripPath: boolean;
    affinity: ImportedAffinity;
    service: ImportedService;
}

export interface ImportedTls {
    enabled: true;
    hosts: string[];
    issuer?: "acme";
    acme?: { email: string };
    httpsRedirect?: boolean;
}

export interface ImportResult {
    apps: ImportedApp[];
    gatewayHosts: string[];
    tls?: ImportedTls;
    report: ReportEntry[];
}
