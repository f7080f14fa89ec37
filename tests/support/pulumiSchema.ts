/**
 * Checks values against a Pulumi package schema (schema.json) the way a
 * program's SDK would: the Pulumi schema's object types, enums, arrays and
 * maps are turned into a JSON Schema and validated with ajv.
 */
import Ajv from "ajv";

type PulumiProperty = {
    type?: string;
    $ref?: string;
    items?: PulumiProperty;
    additionalProperties?: PulumiProperty;
};
type PulumiType = {
    type: string;
    properties?: Record<string, PulumiProperty>;
    required?: string[];
    enum?: { value: string | number }[];
};
export interface PulumiSchema {
    resources: Record<
        string,
        {
            inputProperties: Record<string, PulumiProperty & { plain?: boolean }>;
            requiredInputs?: string[];
            properties: Record<string, PulumiProperty>;
        }
    >;
    types: Record<string, PulumiType>;
}

const localName = (ref: string) => ref.replace(/^#\/types\//, "").replace(/[^A-Za-z0-9]/g, "_");

function property(p: PulumiProperty): object {
    if (p.$ref === "pulumi.json#/Any") return {};
    if (p.$ref) return { $ref: `#/definitions/${localName(p.$ref)}` };
    if (p.type === "array") return { type: "array", items: property(p.items!) };
    if (p.type === "object")
        return {
            type: "object",
            additionalProperties: p.additionalProperties ? property(p.additionalProperties) : true,
        };
    return { type: p.type };
}

function objectSchema(properties: Record<string, PulumiProperty>, required: string[] = []): object {
    return {
        type: "object",
        additionalProperties: false,
        required,
        properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, property(v)])),
    };
}

/** A validator of one resource's inputs; it reports paths and reasons. */
export function inputValidator(schema: PulumiSchema, type: string): (inputs: unknown) => string[] {
    const resource = schema.resources[type];
    if (!resource) throw new Error(`${type} is not in the schema (it has ${Object.keys(schema.resources).join(", ")})`);
    const definitions = Object.fromEntries(
        Object.entries(schema.types).map(([name, t]) => [
            localName(name),
            t.enum ? { type: t.type, enum: t.enum.map((e) => e.value) } : objectSchema(t.properties ?? {}, t.required),
        ]),
    );
    const validate = new Ajv({ allErrors: true, strict: false }).compile({
        ...objectSchema(resource.inputProperties, resource.requiredInputs),
        definitions,
    });
    return (inputs) =>
        validate(inputs)
            ? []
            : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}
