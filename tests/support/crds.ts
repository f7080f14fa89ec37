/**
 * Validates objects against CustomResourceDefinitions as a Kubernetes API
 * server would: defaults from the structural schema filled in first, then the
 * openAPIV3Schema (types, required fields, enums, no unknown fields unless
 * x-kubernetes-preserve-unknown-fields) with ajv, and the x-kubernetes-validations
 * CEL rules with a CEL evaluator (@bufbuild/cel, with the Kubernetes library
 * functions these CRDs call: isIP, url().getScheme()).
 */
import Ajv, { ValidateFunction } from "ajv";
import type { K8sObject } from "../../components/manifests/types";

// @bufbuild/cel's CommonJS build; loaded once, when the first validator is made.
type Cel = typeof import("@bufbuild/cel");

type Schema = Record<string, any>;

interface Compiled {
    schema: Schema;
    validate: ValidateFunction;
}

/** The schema a structural-schema API server enforces, in the JSON Schema ajv reads. */
function toJsonSchema(s: Schema): Schema {
    if (!s || typeof s !== "object") return s;
    const out: Schema = {};
    for (const [k, v] of Object.entries(s)) {
        if (
            k.startsWith("x-kubernetes-") ||
            k === "description" ||
            k === "format" ||
            k === "nullable" ||
            k === "default"
        )
            continue;
        if (k === "properties")
            out.properties = Object.fromEntries(
                Object.entries(v as Schema).map(([p, ps]) => [p, toJsonSchema(ps as Schema)]),
            );
        else if (k === "items" || k === "additionalProperties" || k === "not")
            out[k] = typeof v === "object" ? toJsonSchema(v as Schema) : v;
        else if (k === "oneOf" || k === "anyOf" || k === "allOf") out[k] = (v as Schema[]).map(toJsonSchema);
        else out[k] = v;
    }
    if (s["x-kubernetes-int-or-string"]) {
        delete out.type;
        out.anyOf = [{ type: "integer" }, { type: "string" }];
    }
    if (s.nullable && out.type) out.type = [out.type, "null"];
    // Unknown fields are pruned (or, with strict field validation, refused): either way they are lost.
    if (
        out.type === "object" &&
        out.properties &&
        out.additionalProperties === undefined &&
        !s["x-kubernetes-preserve-unknown-fields"]
    )
        out.additionalProperties = false;
    return out;
}

/** Fills in the schema's defaults where the object leaves a field out, as the API server does before it validates. */
function applyDefaults(schema: Schema | undefined, value: unknown): void {
    if (!schema || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
        for (const v of value) applyDefaults(schema.items, v);
        return;
    }
    const obj = value as Record<string, unknown>;
    for (const [k, sub] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (obj[k] === undefined && sub.default !== undefined) obj[k] = JSON.parse(JSON.stringify(sub.default));
        applyDefaults(sub, obj[k]);
    }
    if (typeof schema.additionalProperties === "object")
        for (const v of Object.values(obj)) applyDefaults(schema.additionalProperties, v);
}

/** CEL's reserved words: a property named so is reached as __<word>__ (apiextensions-apiserver cel/model escaping.go). */
const CEL_RESERVED = new Set(
    "true false null in as break const continue else for function if import let loop package namespace return var void while".split(
        " ",
    ),
);

/** A property name as CEL rules see it. */
function escapeCelProperty(name: string): string {
    if (CEL_RESERVED.has(name)) return `__${name}__`;
    return name
        .replace(/__/g, "__underscores__")
        .replace(/\./g, "__dot__")
        .replace(/-/g, "__dash__")
        .replace(/\//g, "__slash__");
}

/** A JSON value as a CEL value: maps with escaped keys, integers as CEL ints where the schema says integer. */
function toCel(schema: Schema | undefined, v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => toCel(schema?.items, x));
    if (v !== null && typeof v === "object") {
        return new Map(
            Object.entries(v as Record<string, unknown>).map(([k, x]) => [
                escapeCelProperty(k),
                toCel(
                    schema?.properties?.[k] ??
                        (typeof schema?.additionalProperties === "object" ? schema.additionalProperties : undefined),
                    x,
                ),
            ]),
        );
    }
    if (typeof v === "number" && Number.isInteger(v) && schema?.type !== "number") return BigInt(v);
    return v;
}

/** Kubernetes' CEL library functions the CRDs here call (k8s.io/apiserver/pkg/cel/library: ip.go, urls.go). */
function kubernetesLibrary(cel: Cel) {
    const { celFunc, celMethod, CelScalar } = cel;
    const isIp = (s: string) =>
        /^(\d{1,3})(\.\d{1,3}){3}$/.test(s)
            ? s.split(".").every((o) => Number(o) <= 255 && !/^0\d/.test(o))
            : /^[0-9a-fA-F:]+$/.test(s) && s.includes(":");
    return [
        celFunc("isIP", [CelScalar.STRING], CelScalar.BOOL, isIp),
        // url() is a URL value in Kubernetes; here the string it was made from, checked, with the accessors used.
        celFunc("url", [CelScalar.STRING], CelScalar.STRING, (s) => {
            if (!URL.canParse(s)) throw new Error(`URL parse error: ${s}`);
            return s;
        }),
        celFunc("isURL", [CelScalar.STRING], CelScalar.BOOL, (s) => URL.canParse(s)),
        celMethod("getScheme", CelScalar.STRING, [], CelScalar.STRING, function () {
            return new URL(this as string).protocol.replace(/:$/, "");
        }),
        celMethod("getHost", CelScalar.STRING, [], CelScalar.STRING, function () {
            return new URL(this as string).host;
        }),
    ];
}

export class CrdValidator {
    private readonly byGvk = new Map<string, Compiled>();
    private readonly rules = new Map<string, (ctx: Record<string, unknown>) => unknown>();
    private cel!: Cel;
    private env: any;

    private constructor(crds: readonly any[]) {
        const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
        for (const crd of crds) {
            for (const v of crd.spec.versions ?? []) {
                if (!v.served) continue;
                const schema = v.schema?.openAPIV3Schema;
                if (!schema) continue;
                const root = toJsonSchema(schema);
                // The API server handles these on every object; CRD schemas leave them out.
                root.properties = {
                    apiVersion: { type: "string" },
                    kind: { type: "string" },
                    metadata: { type: "object" },
                    ...root.properties,
                };
                this.byGvk.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, {
                    schema,
                    validate: ajv.compile(root),
                });
            }
        }
    }

    static async from(docs: readonly any[]): Promise<CrdValidator> {
        const v = new CrdValidator(docs.filter((d) => d.kind === "CustomResourceDefinition"));
        v.cel = await import("@bufbuild/cel");
        const { strings } = await import("@bufbuild/cel/ext");
        v.env = v.cel.celEnv({ funcs: [...strings, ...kubernetesLibrary(v.cel)] });
        return v;
    }

    /** Kinds this validator holds, as group/version/kind. */
    get kinds(): string[] {
        return [...this.byGvk.keys()];
    }

    knows(obj: K8sObject): boolean {
        return this.byGvk.has(`${obj.apiVersion}/${obj.kind}`);
    }

    /** Every problem the API server would report for the object; [] when it would admit it. */
    problems(obj: K8sObject): string[] {
        const c = this.byGvk.get(`${obj.apiVersion}/${obj.kind}`);
        if (!c) return [`no CRD serves ${obj.apiVersion}/${obj.kind}`];
        const doc = JSON.parse(JSON.stringify(obj));
        applyDefaults(c.schema, doc);
        const out: string[] = [];
        if (!c.validate(doc)) {
            for (const e of c.validate.errors ?? [])
                out.push(
                    `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""}`,
                );
        }
        this.celRules(c.schema, doc, "", out);
        return out;
    }

    private compiled(rule: string): (ctx: Record<string, unknown>) => unknown {
        let run = this.rules.get(rule);
        if (!run) {
            run = this.cel.plan(this.env, this.cel.parse(rule)) as (ctx: Record<string, unknown>) => unknown;
            this.rules.set(rule, run);
        }
        return run;
    }

    /** Runs the CEL rules of every schema node the object has a value for (transition rules, which need oldSelf, only run on updates). */
    private celRules(schema: Schema, value: unknown, at: string, out: string[]): void {
        if (value === undefined || value === null || !schema) return;
        for (const rule of schema["x-kubernetes-validations"] ?? []) {
            if (/\boldSelf\b/.test(rule.rule)) continue;
            let ok: unknown;
            try {
                ok = this.compiled(rule.rule)({ self: toCel(schema, value) });
            } catch (e) {
                ok = e;
            }
            if (this.cel.isCelError(ok) || ok instanceof Error) {
                out.push(
                    `${at || "/"}: CEL rule ${JSON.stringify(rule.rule)} could not be evaluated: ${(ok as Error).message.split("\n")[0]}`,
                );
            } else if (ok !== true) out.push(`${at || "/"}: ${rule.message ?? rule.rule}`);
        }
        if (Array.isArray(value) && schema.items)
            value.forEach((v, i) => this.celRules(schema.items, v, `${at}/${i}`, out));
        else if (typeof value === "object" && !Array.isArray(value)) {
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                const sub =
                    schema.properties?.[k] ??
                    (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
                if (sub) this.celRules(sub, v, `${at}/${k}`, out);
            }
        }
    }
}
