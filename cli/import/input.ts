/**
 * What the import reads: Kubernetes objects as `kubectl get ingress,service -A -o yaml`
 * (a List), `-o json`, multi-document YAML or a JSON array give them. Ingresses,
 * Services and IngressClasses are kept, each in one plain shape (networking.k8s.io/v1;
 * v1beta1 Ingresses, which Kubernetes 1.22 stopped serving, are read as well); other
 * kinds are counted and left alone.
 */
import type * as Yaml from "yaml";
import { CORE_SCHEMA, loadAll } from "js-yaml";

/** Where a backend sends a path: a Service port by number or by name. */
export interface ServiceBackend {
    name: string;
    port: { number?: number; name?: string };
}

export interface IngressBackend {
    service?: ServiceBackend;
    /** A resource backend (spec.…backend.resource): not a Service. */
    resource?: { kind?: string; name?: string };
}

export interface IngressPath {
    path: string;
    pathType: string;
    backend: IngressBackend;
}

export interface IngressRule {
    /** Absent: the rule serves any host. */
    host?: string;
    paths: IngressPath[];
}

export interface IngressTls {
    hosts: string[];
    secretName?: string;
}

export interface Ingress {
    namespace: string;
    name: string;
    /** Where it was read from, for messages: "<file>#<document>". */
    source: string;
    annotations: Record<string, string>;
    ingressClassName?: string;
    creationTimestamp?: string;
    defaultBackend?: IngressBackend;
    rules: IngressRule[];
    tls: IngressTls[];
}

export interface ServicePort {
    name?: string;
    port: number;
    targetPort?: number | string;
    appProtocol?: string;
    protocol?: string;
}

export interface Service {
    namespace: string;
    name: string;
    type?: string;
    ports: ServicePort[];
}

export interface IngressClass {
    name: string;
    controller?: string;
}

export interface ImportInput {
    ingresses: Ingress[];
    services: Service[];
    ingressClasses: IngressClass[];
    /** Objects of other kinds, by kind, with how many of each. */
    otherKinds: Record<string, number>;
}

export interface Source {
    /** A file name, or "<stdin>". */
    name: string;
    text: string;
}

/** Input that cannot be read: its messages name the file, document and field. */
export class InputError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`cannot read the input:\n  - ${problems.join("\n  - ")}`);
        this.name = "InputError";
    }
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A kubectl List (kind List, IngressList, …) whose items are a list. */
const isList = (doc: unknown): doc is { items: unknown[] } =>
    isMap(doc) && typeof doc.kind === "string" && doc.kind.endsWith("List") && Array.isArray(doc.items);

/** Reads one source into `into`, its objects in order: JSON when it looks like JSON (for its error messages), else YAML. */
function readSource(src: Source, into: Objects, problems: string[]): void {
    const take = (obj: unknown, where: string) => into.take(obj, where);
    const trimmed = src.text.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        let docs: unknown[];
        try {
            docs = [JSON.parse(trimmed)];
        } catch (e) {
            // A YAML flow map also starts with "{": fall through to YAML when JSON fails, and report JSON's error only if YAML fails too.
            const yamlDocs = yamlLibrary().parseAllDocuments(src.text);
            const errs = (Array.isArray(yamlDocs) ? yamlDocs : []).flatMap((d) => d.errors);
            if (Array.isArray(yamlDocs) && errs.length === 0) docs = yamlDocs.map((d) => d.toJS());
            else {
                problems.push(`${src.name}: not valid JSON: ${(e as Error).message}`);
                docs = [];
            }
        }
        docs.forEach((doc, i) => flatten(doc, `${src.name}#${i + 1}`, take));
        return;
    }
    // js-yaml reads kubectl's output several times faster than the yaml library (and strings as strings: its core schema);
    // what it refuses is read again by the yaml library, whose messages name the line and column.
    if (tryLoad(src.text, (doc, i) => flatten(doc, `${src.name}#${i + 1}`, take))) return;
    const docs = yamlLibrary().parseAllDocuments(src.text);
    if (!Array.isArray(docs)) return;
    const errors = docs.flatMap((d) => d.errors);
    if (errors.length) {
        problems.push(...errors.map((e) => `${src.name}: not valid YAML: ${e.message.split("\n")[0]}`));
        return;
    }
    docs.forEach((doc, i) => flatten(doc.toJS(), `${src.name}#${i + 1}`, take));
}

/** The yaml library, loaded only for input js-yaml refuses or JSON that is not JSON: its messages name line and column. */
const yamlLibrary = (): typeof Yaml => require("yaml");

/** Parses a YAML text with js-yaml (its core schema: strings stay strings), each document to `each`; false when it refuses the text. */
function tryLoad(text: string, each: (doc: unknown, i: number) => void): boolean {
    let docs: unknown[];
    try {
        docs = loadAll(text, undefined, { schema: CORE_SCHEMA });
    } catch {
        return false;
    }
    docs.forEach(each);
    return true;
}

/** Lists (kind List, IngressList, …, or a JSON array) opened, recursively; each object given to `take`, in order. */
function flatten(doc: unknown, where: string, take: (obj: unknown, where: string) => void): void {
    if (doc === null || doc === undefined) return;
    if (Array.isArray(doc)) {
        doc.forEach((d, i) => flatten(d, `${where}[${i}]`, take));
        return;
    }
    if (isList(doc)) {
        doc.items.forEach((d, i) => flatten(d, `${where}.items[${i}]`, take));
        return;
    }
    take(doc, where);
}

class Reader {
    constructor(
        readonly where: string,
        readonly problems: string[],
    ) {}
    fail(field: string, message: string): undefined {
        this.problems.push(`${this.where}: ${field}: ${message}`);
        return undefined;
    }
    map(v: unknown, field: string): Record<string, unknown> | undefined {
        if (v === undefined || v === null) return undefined;
        return isMap(v) ? v : this.fail(field, "must be a map");
    }
    list(v: unknown, field: string): unknown[] {
        if (v === undefined || v === null) return [];
        if (Array.isArray(v)) return v;
        this.fail(field, "must be a list");
        return [];
    }
    string(v: unknown, field: string): string | undefined {
        if (v === undefined || v === null) return undefined;
        return typeof v === "string" ? v : this.fail(field, `must be a string (got ${JSON.stringify(v)})`);
    }
    port(v: unknown, field: string): number | undefined {
        if (v === undefined || v === null) return undefined;
        return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535
            ? v
            : this.fail(field, `must be a port number (got ${JSON.stringify(v)})`);
    }
}

/** Annotations are strings to Kubernetes; a hand-written file may hold a bare number or boolean, which is what it means. */
function annotationsOf(r: Reader, meta: Record<string, unknown>): Record<string, string> {
    const raw = r.map(meta.annotations, "metadata.annotations") ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
        if (typeof v === "string") out[k] = v;
        else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
        else if (v !== null && v !== undefined) r.fail(`metadata.annotations["${k}"]`, "must be a string");
    }
    return out;
}

/** A v1 backend ({service: {name, port: {number | name}}} or {resource}), or a v1beta1 one ({serviceName, servicePort}). */
function backendOf(r: Reader, raw: unknown, field: string): IngressBackend | undefined {
    const b = r.map(raw, field);
    if (!b) return r.fail(field, "is required");
    if ("serviceName" in b || "servicePort" in b) {
        const name = r.string(b.serviceName, `${field}.serviceName`);
        const sp = b.servicePort;
        const port =
            typeof sp === "number"
                ? { number: r.port(sp, `${field}.servicePort`) }
                : { name: r.string(sp, `${field}.servicePort`) };
        return name ? { service: { name, port } } : r.fail(field, "has no serviceName");
    }
    if (b.resource !== undefined) {
        const res = r.map(b.resource, `${field}.resource`) ?? {};
        return {
            resource: {
                kind: r.string(res.kind, `${field}.resource.kind`),
                name: r.string(res.name, `${field}.resource.name`),
            },
        };
    }
    const svc = r.map(b.service, `${field}.service`);
    if (!svc) return r.fail(field, "has neither service nor resource");
    const name = r.string(svc.name, `${field}.service.name`);
    const port = r.map(svc.port, `${field}.service.port`) ?? {};
    const number = r.port(port.number, `${field}.service.port.number`);
    const portName = r.string(port.name, `${field}.service.port.name`);
    if (!name) return r.fail(`${field}.service.name`, "is required");
    if (number === undefined && portName === undefined)
        return r.fail(`${field}.service.port`, "needs a number or a name");
    return {
        service: {
            name,
            port: {
                ...(number !== undefined ? { number } : {}),
                ...(portName !== undefined ? { name: portName } : {}),
            },
        },
    };
}

function ingressOf(
    obj: Record<string, unknown>,
    where: string,
    defaultNamespace: string,
    problems: string[],
): Ingress | undefined {
    const meta = isMap(obj.metadata) ? obj.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : undefined;
    const r = new Reader(`${where}: Ingress ${name ?? "(no name)"}`, problems);
    if (!name) return r.fail("metadata.name", "is required");
    const namespace = r.string(meta.namespace, "metadata.namespace") ?? defaultNamespace;
    const spec = r.map(obj.spec, "spec") ?? {};
    const v1beta1 = typeof obj.apiVersion === "string" && obj.apiVersion.endsWith("v1beta1");
    const defaultRaw = spec.defaultBackend ?? (v1beta1 ? spec.backend : undefined);
    const rules = r.list(spec.rules, "spec.rules").flatMap((rawRule, i) => {
        const rule = r.map(rawRule, `spec.rules[${i}]`) ?? {};
        const http = r.map(rule.http, `spec.rules[${i}].http`);
        const paths = r.list(http?.paths, `spec.rules[${i}].http.paths`).flatMap((rawPath, j) => {
            const field = `spec.rules[${i}].http.paths[${j}]`;
            const p = r.map(rawPath, field) ?? {};
            const backend = backendOf(r, p.backend, `${field}.backend`);
            if (!backend) return [];
            return [
                {
                    path: r.string(p.path, `${field}.path`) ?? "",
                    pathType: r.string(p.pathType, `${field}.pathType`) ?? "ImplementationSpecific",
                    backend,
                },
            ];
        });
        const host = r.string(rule.host, `spec.rules[${i}].host`);
        return [{ ...(host ? { host } : {}), paths }];
    });
    const tls = r.list(spec.tls, "spec.tls").map((rawTls, i) => {
        const t = r.map(rawTls, `spec.tls[${i}]`) ?? {};
        const hosts = r
            .list(t.hosts, `spec.tls[${i}].hosts`)
            .flatMap((h, j) => r.string(h, `spec.tls[${i}].hosts[${j}]`) ?? []);
        const secretName = r.string(t.secretName, `spec.tls[${i}].secretName`);
        return { hosts, ...(secretName ? { secretName } : {}) };
    });
    const className = r.string(spec.ingressClassName, "spec.ingressClassName");
    const created = r.string(meta.creationTimestamp, "metadata.creationTimestamp");
    const defaultBackend =
        defaultRaw === undefined
            ? undefined
            : backendOf(r, defaultRaw, v1beta1 ? "spec.backend" : "spec.defaultBackend");
    return {
        namespace,
        name,
        source: where,
        annotations: annotationsOf(r, meta),
        ...(className ? { ingressClassName: className } : {}),
        ...(created ? { creationTimestamp: created } : {}),
        ...(defaultBackend ? { defaultBackend } : {}),
        rules,
        tls,
    };
}

function serviceOf(
    obj: Record<string, unknown>,
    where: string,
    defaultNamespace: string,
    problems: string[],
): Service | undefined {
    const meta = isMap(obj.metadata) ? obj.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : undefined;
    const r = new Reader(`${where}: Service ${name ?? "(no name)"}`, problems);
    if (!name) return r.fail("metadata.name", "is required");
    const spec = r.map(obj.spec, "spec") ?? {};
    const ports = r.list(spec.ports, "spec.ports").flatMap((raw, i) => {
        const p = r.map(raw, `spec.ports[${i}]`) ?? {};
        const port = r.port(p.port, `spec.ports[${i}].port`);
        if (port === undefined) return [];
        const tp = p.targetPort;
        const targetPort =
            typeof tp === "number"
                ? r.port(tp, `spec.ports[${i}].targetPort`)
                : r.string(tp, `spec.ports[${i}].targetPort`);
        const pname = r.string(p.name, `spec.ports[${i}].name`);
        const appProtocol = r.string(p.appProtocol, `spec.ports[${i}].appProtocol`);
        const protocol = r.string(p.protocol, `spec.ports[${i}].protocol`);
        return [
            {
                port,
                ...(pname ? { name: pname } : {}),
                ...(targetPort !== undefined ? { targetPort } : {}),
                ...(appProtocol ? { appProtocol } : {}),
                ...(protocol ? { protocol } : {}),
            },
        ];
    });
    const type = r.string(spec.type, "spec.type");
    return {
        namespace: r.string(meta.namespace, "metadata.namespace") ?? defaultNamespace,
        name,
        ...(type ? { type } : {}),
        ports,
    };
}

/** The objects read, in order: the model, how many there were, and what could not be read of them. */
class Objects {
    readonly input: ImportInput = { ingresses: [], services: [], ingressClasses: [], otherKinds: {} };
    readonly problems: string[] = [];
    count = 0;

    constructor(readonly defaultNamespace: string) {}

    take(obj: unknown, where: string): void {
        this.count++;
        const { input, problems, defaultNamespace } = this;
        if (!isMap(obj) || typeof obj.kind !== "string") {
            problems.push(`${where}: not a Kubernetes object (it has no "kind")`);
            return;
        }
        if (obj.kind === "Ingress") {
            const ing = ingressOf(obj, where, defaultNamespace, problems);
            if (ing) input.ingresses.push(ing);
        } else if (obj.kind === "Service") {
            const svc = serviceOf(obj, where, defaultNamespace, problems);
            if (svc) input.services.push(svc);
        } else if (obj.kind === "IngressClass") {
            const meta = isMap(obj.metadata) ? obj.metadata : {};
            const spec = isMap(obj.spec) ? obj.spec : {};
            if (typeof meta.name === "string") {
                input.ingressClasses.push({
                    name: meta.name,
                    ...(typeof spec.controller === "string" ? { controller: spec.controller } : {}),
                });
            }
        } else {
            input.otherKinds[obj.kind] = (input.otherKinds[obj.kind] ?? 0) + 1;
        }
    }
}

/**
 * Reads every source. Objects without a namespace get `defaultNamespace`, as
 * `kubectl apply -n <namespace>` would give them.
 */
export function readInput(sources: readonly Source[], defaultNamespace: string): ImportInput {
    // What cannot be parsed comes first, then what cannot be read of the objects, in their order.
    const unparsed: string[] = [];
    const objects = new Objects(defaultNamespace);
    for (const src of sources) readSource(src, objects, unparsed);
    const { input } = objects;
    const problems = [...unparsed, ...objects.problems];
    if (problems.length) throw new InputError(problems);
    if (input.ingresses.length === 0) {
        const seen = Object.entries(input.otherKinds).map(([k, n]) => `${n} ${k}`);
        const also = [...(input.services.length ? [`${input.services.length} Service`] : []), ...seen];
        throw new InputError([
            `no Ingress in the input${also.length ? ` (it holds ${also.join(", ")})` : objects.count === 0 ? " (it is empty)" : ""}: ` +
                "give it `kubectl get ingress,service -A -o yaml` or Ingress manifests",
        ]);
    }
    return input;
}
