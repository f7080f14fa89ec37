/**
 * Pulumi mocks that record every registration with its parent and dependencies
 * (wrapping the mock monitor, since mock newResource calls do not carry them).
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { EndpointSliceView, podsFromEndpointSlices } from "../../components/outputs/pods";

export interface Registered {
    type: string;
    name: string;
    urn: string;
    parent: string;
    /** Names (not URNs) of the resources this one waits for, explicit and implicit. */
    dependsOn: string[];
    inputs: Record<string, any>;
    custom: boolean;
    /** The provider reference a custom resource was registered with ("<urn>::<id>"), else "". */
    provider: string;
    /** A component's providers by package, as its children inherit them. */
    providers: Record<string, string>;
}

export interface MockOptions {
    /** Run as `pulumi preview` (isDryRun). Default false. */
    preview?: boolean;
    /** What the gateway Service read returns (httpPort: its HTTP port, default 80). */
    gatewayService?: { type: string; ip?: string; hostname?: string; httpPort?: number };
}

/**
 * The EndpointSlices of Service `name`, as the API returns them: two ready pods
 * in two slices, one that is not ready, and an IPv6 slice of the same pods.
 */
export function endpointSlicesOf(name: string): EndpointSliceView[] {
    const pod = (ip: string, suffix: string, ready: boolean) => ({
        addresses: [ip],
        conditions: { ready },
        targetRef: { kind: "Pod", name: `${name}-7d9f-${suffix}` },
    });
    return [
        { addressType: "IPv4", endpoints: [pod("10.244.2.12", "b", true), pod("10.244.3.13", "c", false)] },
        { addressType: "IPv4", endpoints: [pod("10.244.1.11", "a", true)] },
        { addressType: "IPv6", endpoints: [pod("fd00::11", "a", true)] },
    ];
}

/** The type token of the ready-pods read (a dynamic resource). */
export const READY_PODS_TYPE = "pulumi-nodejs:dynamic/istio-sticky:ReadyPods";

/** The type token of the gateway Service read (a dynamic resource). */
export const GATEWAY_SERVICE_TYPE = "pulumi-nodejs:dynamic/istio-sticky:GatewayService";

/** The gateway Service as a read returns it: the status port, HTTP and HTTPS with node ports, and the load balancer's address if any. */
function gatewayServiceState(opts: MockOptions, namespace: string, name: string) {
    const svc = opts.gatewayService ?? { type: "LoadBalancer", ip: "203.0.113.10" };
    return {
        metadata: { name, namespace },
        spec: {
            type: svc.type,
            ports: [
                { name: "status-port", port: 15021, nodePort: 31021 },
                { name: "http2", port: svc.httpPort ?? 80, nodePort: 31080 },
                { name: "https", port: 443, nodePort: 31443 },
            ],
        },
        status: { loadBalancer: { ingress: svc.ip || svc.hostname ? [{ ip: svc.ip, hostname: svc.hostname }] : [] } },
    };
}

export const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

export class Recorder {
    readonly resources: Registered[] = [];
    private readonly byName = new Map<string, Registered>();
    /** Installs the mocks again: a new program (a new resource monitor) for the next registrations. */
    restart?: () => void;

    byNameOf(name: string): Registered {
        const r = this.byName.get(name);
        if (!r) throw new Error(`no resource named ${name}; have: ${[...this.byName.keys()].join(", ")}`);
        return r;
    }
    ofType(type: string): Registered[] {
        return this.resources.filter((r) => r.type === type);
    }
    record(r: Registered): void {
        this.resources.push(r);
        this.byName.set(r.name, r);
    }
    /** Fills in inputs once the mock has seen them (registerResource carries them serialized). */
    setInputs(name: string, inputs: Record<string, any>): void {
        const r = this.byName.get(name);
        if (r) r.inputs = inputs;
    }
    /** Forgets every registration, in the same program. */
    forget(): void {
        this.resources.length = 0;
        this.byName.clear();
    }
    /** Forgets every registration and starts a new program, as a new `pulumi up` would (one Istio per cluster is per program). */
    reset(): void {
        this.forget();
        this.restart?.();
    }
}

/** Installs the mocks (the monitor at once, so registrations right after reach the recorder); `recorder.reset()` installs them again. */
export function installMocks(recorder: Recorder, opts: MockOptions = {}): Promise<void> {
    const installed = pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                // The package reads the cluster through dynamic resources (registration/reads.ts), never a `get` by id.
                if (args.id !== undefined && args.id !== "")
                    throw new Error(`unexpected read of ${args.type} ${args.id}`);
                recorder.setInputs(args.name, args.inputs);
                const extra =
                    args.type === "kubernetes:helm.sh/v3:Release"
                        ? {
                              status: {
                                  name: args.inputs.name,
                                  namespace: args.inputs.namespace,
                                  status: "deployed",
                                  version: args.inputs.version,
                              },
                          }
                        : args.type === READY_PODS_TYPE
                          ? { pods: podsFromEndpointSlices(endpointSlicesOf(args.inputs.service)) }
                          : args.type === GATEWAY_SERVICE_TYPE
                            ? { view: gatewayServiceState(opts, args.inputs.namespace, args.inputs.service) }
                            : {};
                // The API server's resourceVersion changes whenever the object does; a Deployment's generation, whenever its spec does.
                const version = createHash("sha256").update(JSON.stringify(args.inputs)).digest("hex").slice(0, 8);
                const generation =
                    args.inputs.kind === "Deployment" ? { generation: parseInt(version.slice(0, 6), 16) } : {};
                const metadata = args.inputs.metadata
                    ? { metadata: { ...args.inputs.metadata, resourceVersion: version, ...generation } }
                    : {};
                return { id: `${args.name}-id`, state: { ...args.inputs, ...metadata, ...extra } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        "istio-sticky",
        "test",
        opts.preview ?? false,
    );
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const deps = new Set<string>(req.getDependenciesList());
        req.getPropertydependenciesMap().forEach((v: any) => v.getUrnsList().forEach((u: string) => deps.add(u)));
        recorder.record({
            type: req.getType(),
            name: req.getName(),
            urn: "",
            parent: req.getParent() ? nameOfUrn(req.getParent()) : "",
            dependsOn: [...deps].map(nameOfUrn).sort(),
            inputs: {},
            custom: req.getCustom(),
            provider: req.getProvider(),
            providers: Object.fromEntries(req.getProvidersMap().toArray()),
        });
        return register(req, callback);
    };
    recorder.restart = () => void installMocks(recorder, opts);
    return installed;
}

/** Resolves an Output's value (mocks run with preview off, so values are known). */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Waits until no new registration has arrived for a few turns of the event loop. */
export async function settle(recorder: Recorder): Promise<void> {
    let last = -1;
    let stable = 0;
    for (let i = 0; i < 500 && stable < 5; i++) {
        await new Promise((r) => setTimeout(r, 2));
        stable = recorder.resources.length === last ? stable + 1 : 0;
        last = recorder.resources.length;
    }
}
