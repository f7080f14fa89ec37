/**
 * `npm run -s args`: writes components/args.ts, the components' args as TypeScript interfaces, from
 * the one place they are declared: the validation schema (components/settings/schema.ts: each
 * field's type, whether it may be left out, its description; `.meta({ title })` names an object's
 * interface) and the table of what each component takes (components/settings/componentArgs.ts).
 * Pulumi's component analyzer infers schema.json from the interfaces (`npm run schema`); a test
 * keeps the committed file equal to this output.
 */
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { z } from "zod";
import * as enums from "../components/settings/enums";
import { affinitySchema, appSchema, meshSchema, tlsSchema } from "../components/settings/schema";
import { COMPONENT_ARGS, type ArgField } from "../components/settings/componentArgs";

export const ARGS_FILE = "components/args.ts";

/** The schemas whose objects become interfaces, each checked by the compiler against its zod input type. */
const ROOTS: readonly [string, z.ZodType][] = [
    ["appSchema", appSchema],
    ["affinitySchema", affinitySchema],
    ["meshSchema", meshSchema],
    ["tlsSchema", tlsSchema],
];

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;
const defOf = (s: Schema): Def => s._zod.def as Def;
const metaOf = (s: Schema): Record<string, unknown> => z.globalRegistry.get(s) ?? {};

/** A schema with its wrappers taken off: what a field holds, whether it may be left out, the interface it is. */
interface Resolved {
    node: Schema;
    optional: boolean;
    title?: string;
    description?: string;
}

/** Takes off optional, default and prefault (a value may be left out) and pipes (the input side; a preprocess step's target). */
function resolve(schema: Schema): Resolved {
    let node = schema;
    let optional = false;
    let named: Record<string, unknown> | undefined;
    for (;;) {
        const meta = metaOf(node);
        if (!named && typeof meta.title === "string") named = meta;
        const def = defOf(node);
        if (def.type === "optional" || def.type === "default" || def.type === "prefault") {
            optional = true;
            node = def.innerType as Schema;
        } else if (def.type === "pipe") {
            const input = def.in as Schema;
            node = defOf(input).type === "transform" ? (def.out as Schema) : input;
        } else break;
    }
    return {
        node,
        optional,
        title: named?.title as string | undefined,
        description: named?.description as string | undefined,
    };
}

/** A field's description: on its outermost schema (after `.optional()`, `.default()`), unless that is a named object's own. */
function fieldDescription(schema: Schema): string | undefined {
    const meta = metaOf(schema);
    return typeof meta.title === "string" ? undefined : (meta.description as string | undefined);
}

function enumName(entries: unknown): string {
    const found = Object.entries(enums).find(([, value]) => value === entries);
    if (!found) throw new Error(`an enum of the schema is none of components/settings/enums.ts's`);
    return found[0];
}

/** How a reference to a named interface is written: the plain name, or its `…Args` alias. */
type Naming = (title: string) => string;

function typeOf(schema: Schema, naming: Naming, used: Set<string>): string {
    const { node, title } = resolve(schema);
    const def = defOf(node);
    switch (def.type) {
        case "string":
        case "number":
        case "boolean":
            return def.type;
        case "unknown":
        case "any":
            return "any";
        case "enum": {
            const name = enumName(def.entries);
            used.add(name);
            return name;
        }
        case "array":
            return `${typeOf(def.element as Schema, naming, used)}[]`;
        case "record":
            return `Record<string, ${typeOf(def.valueType as Schema, naming, used)}>`;
        case "object":
            if (!title) throw new Error(`an object of the schema has no .meta({ title }) to name its interface`);
            return naming(title);
        default:
            throw new Error(`the schema holds a ${def.type}, which has no args type here`);
    }
}

function shapeOf(schema: Schema): Record<string, Schema> {
    const { node } = resolve(schema);
    const def = defOf(node);
    if (def.type !== "object") throw new Error(`expected an object schema, found a ${def.type}`);
    return def.shape as Record<string, Schema>;
}

function jsDoc(text: string | undefined, indent: string): string[] {
    if (text === undefined) return [];
    if (text.includes("*/")) throw new Error(`a description holds "*/": ${text}`);
    const lines = text.split("\n");
    return lines.length === 1
        ? [`${indent}/** ${text} */`]
        : [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`];
}

/** The named objects reachable from `schema`, each after the ones it refers to. */
function namedObjects(schema: Schema, found: Map<string, Schema>): void {
    const { node, title } = resolve(schema);
    const def = defOf(node);
    if (def.type === "array") return namedObjects(def.element as Schema, found);
    if (def.type === "record") return namedObjects(def.valueType as Schema, found);
    if (def.type !== "object") return;
    if (!title) throw new Error(`an object of the schema has no .meta({ title }) to name its interface`);
    if (found.has(title)) {
        if (resolve(found.get(title)!).node !== node) throw new Error(`two objects of the schema are titled ${title}`);
        return;
    }
    for (const field of Object.values(def.shape as Record<string, Schema>)) namedObjects(field, found);
    found.set(title, schema);
}

/** The plain interface of a named object: its fields as the schema takes them. */
function plainInterface(title: string, schema: Schema, used: Set<string>): string[] {
    const fields = Object.entries(shapeOf(schema)).flatMap(([key, field]) => [
        ...jsDoc(fieldDescription(field), "    "),
        `    ${key}${resolve(field).optional ? "?" : ""}: ${typeOf(field, (t) => t, used)};`,
    ]);
    return [...jsDoc(resolve(schema).description, ""), `export interface ${title} {`, ...fields, "}"];
}

const argsName: Naming = (title) => `${title}Args`;

/** A component's field: the schema's (or its own) type, plain or as a pulumi.Input. */
function componentField(component: string, key: string, field: ArgField, from: Schema | undefined): string[] {
    const schemaField = from ? shapeOf(from)[key] : undefined;
    const schema = field.type ?? schemaField;
    if (!schema) throw new Error(`${component}.${key}: neither a field of its schema nor given a type`);
    if (field.type && schemaField)
        throw new Error(`${component}.${key}: a field of its schema given a type of its own`);
    const used = new Set<string>();
    const resolved = resolve(schema);
    let type: string;
    if (field.take === "inputs") {
        const def = defOf(resolved.node);
        const item = (s: Schema) => `pulumi.Input<${typeOf(s, argsName, used)}>`;
        if (def.type === "array") type = `pulumi.Input<${item(def.element as Schema)}[]>`;
        else if (def.type === "record") type = `pulumi.Input<Record<string, ${item(def.valueType as Schema)}>>`;
        else throw new Error(`${component}.${key}: "inputs" takes a list or a map`);
    } else if (field.take === "items") {
        const def = defOf(resolved.node);
        if (def.type !== "array") throw new Error(`${component}.${key}: "items" takes a list`);
        type = `pulumi.Input<${typeOf(def.element as Schema, argsName, used)}>[]`;
    } else {
        const plain = typeOf(schema, argsName, used);
        type = field.take === "input" ? `pulumi.Input<${plain}>` : plain;
    }
    const optional = resolved.optional && !field.required;
    const description = field.description ?? (schemaField ? fieldDescription(schemaField) : undefined);
    if (field.type && description === undefined)
        throw new Error(`${component}.${key}: a field of its own needs a description`);
    return [...jsDoc(description, "    "), `    ${key}${optional ? "?" : ""}: ${type};`];
}

/** components/args.ts as `npm run -s args` writes it (formatted by Prettier with the project's settings). */
export async function generateArgs(root: string): Promise<string> {
    const named = new Map<string, Schema>();
    for (const [, schema] of ROOTS) namedObjects(schema, named);
    const usedEnums = new Set<string>();
    const interfaces = [...named].flatMap(([title, schema]) => [...plainInterface(title, schema, usedEnums), ""]);
    const components = COMPONENT_ARGS.flatMap((c) => [
        `export interface ${c.name} {`,
        ...Object.entries(c.fields).flatMap(([key, field]) => componentField(c.name, key, field, c.from)),
        "}",
        "",
    ]);
    const enumImports = [...usedEnums].sort();
    const checks = ROOTS.map(([variable, schema]) => {
        const title = resolve(schema).title!;
        return `export type ${title}ArgsAgree = Check<Agree<${title}, z.input<typeof ${variable}>>>;`;
    });
    const text = [
        "/**",
        " * The components' args, generated by `npm run -s args` (cli/args.ts): do not edit. They are declared once,",
        " * in components/settings/schema.ts (the validation schema: each field's type, default and description)",
        " * and components/settings/componentArgs.ts (which of those fields each component takes, plain or as an",
        " * Input, and its own fields); edit those and run `npm run -s args`.",
        " */",
        `import type * as pulumi from "@pulumi/pulumi";`,
        `import type { z } from "zod";`,
        `import type { ${enumImports.join(", ")} } from "./settings/enums";`,
        `import type { Agree, Check } from "./agree";`,
        `import type { ${ROOTS.map(([v]) => v)
            .sort()
            .join(", ")} } from "./settings/schema";`,
        "",
        ...interfaces,
        "// ---- The names the args go by in TypeScript ----",
        '// The interfaces above are named as other languages see them: Pulumi\'s SDK generators add "Args"',
        "// to input types (Python's sticky.AffinityArgs, Go's istiosticky.AffinityArgs).",
        "",
        ...[...named.keys()].map((title) => `export type ${title}Args = ${title};`),
        "",
        "// ---- The components' args ----",
        "// Plain fields are the ones whose value decides which resources exist; the rest take Outputs too.",
        "",
        ...components,
        "// ---- Agreement with the schema's input types, checked by the compiler ----",
        "",
        ...checks,
        "",
    ].join("\n");
    const file = path.join(root, ARGS_FILE);
    return prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file });
}

export const UPDATE_ARGS = "npm run -s args";

/** Why the committed file is not the generator's output (naming the first line that differs), or undefined when it is. */
export function staleArgs(committed: string, generated: string): string | undefined {
    if (committed === generated) return undefined;
    const [a, b] = [committed.split("\n"), generated.split("\n")];
    const i = a.findIndex((line, n) => line !== b[n]);
    const at = i === -1 ? a.length : i;
    return (
        `${ARGS_FILE} is stale (line ${at + 1}: committed ${JSON.stringify(a[at] ?? "(end)")}, ` +
        `generated ${JSON.stringify(b[at] ?? "(end)")}): run \`${UPDATE_ARGS}\` and commit it`
    );
}

if (require.main === module) {
    const root = path.join(__dirname, "..");
    generateArgs(root).then(
        (text) => {
            fs.writeFileSync(path.join(root, ARGS_FILE), text);
            process.stderr.write(`wrote ${ARGS_FILE}\n`);
        },
        (e) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = 1;
        },
    );
}
