/**
 * Validates objects against CustomResourceDefinitions as a Kubernetes API
 * server would: the structural openAPIV3Schema (types, required fields, enums,
 * no unknown fields unless x-kubernetes-preserve-unknown-fields) with ajv, and
 * the x-kubernetes-validations CEL rules with a CEL evaluator.
 */
import Ajv, { ValidateFunction } from "ajv";
import type { K8sObject } from "../../components/manifests/types";

// @marcbachmann/cel-js is ESM-only; a native import() keeps the CommonJS transform from turning it into require().
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

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
        if (k.startsWith("x-kubernetes-") || k === "description" || k === "format" || k === "nullable") continue;
        if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, toJsonSchema(ps as Schema)]));
        else if (k === "items" || k === "additionalProperties" || k === "not") out[k] = typeof v === "object" ? toJsonSchema(v as Schema) : v;
        else if (k === "oneOf" || k === "anyOf" || k === "allOf") out[k] = (v as Schema[]).map(toJsonSchema);
        else out[k] = v;
    }
    if (s["x-kubernetes-int-or-string"]) {
        delete out.type;
        out.anyOf = [{ type: "integer" }, { type: "string" }];
    }
    if (s.nullable && out.type) out.type = [out.type, "null"];
    // Unknown fields are pruned (or, with strict field validation, refused): either way they are lost.
    if (out.type === "object" && out.properties && out.additionalProperties === undefined && !s["x-kubernetes-preserve-unknown-fields"])
        out.additionalProperties = false;
    return out;
}

export class CrdValidator {
    private readonly byGvk = new Map<string, Compiled>();
    private cel: any;

    private constructor(crds: readonly any[]) {
        const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
        for (const crd of crds) {
            for (const v of crd.spec.versions ?? []) {
                if (!v.served) continue;
                const schema = v.schema?.openAPIV3Schema;
                if (!schema) continue;
                const root = toJsonSchema(schema);
                // The API server handles these on every object; CRD schemas leave them out.
                root.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...root.properties };
                this.byGvk.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, { schema, validate: ajv.compile(root) });
            }
        }
    }

    static async from(docs: readonly any[]): Promise<CrdValidator> {
        const v = new CrdValidator(docs.filter((d) => d.kind === "CustomResourceDefinition"));
        v.cel = await importEsm("@marcbachmann/cel-js");
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
        const out: string[] = [];
        if (!c.validate(doc)) {
            for (const e of c.validate.errors ?? [])
                out.push(`${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""}`);
        }
        this.celRules(c.schema, doc, "", out);
        return out;
    }

    /** Runs the CEL rules of every schema node the object has a value for. */
    private celRules(schema: Schema, value: unknown, at: string, out: string[]): void {
        if (value === undefined || value === null || !schema) return;
        for (const rule of schema["x-kubernetes-validations"] ?? []) {
            let ok: unknown;
            try {
                ok = this.cel.evaluate(rule.rule, { self: value });
            } catch (e) {
                out.push(`${at || "/"}: CEL rule ${JSON.stringify(rule.rule)} could not be evaluated: ${(e as Error).message.split("\n")[0]}`);
                continue;
            }
            if (ok !== true) out.push(`${at || "/"}: ${rule.message ?? rule.rule}`);
        }
        if (Array.isArray(value) && schema.items) value.forEach((v, i) => this.celRules(schema.items, v, `${at}/${i}`, out));
        else if (typeof value === "object" && !Array.isArray(value)) {
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
                if (sub) this.celRules(sub, v, `${at}/${k}`, out);
            }
        }
    }
}
