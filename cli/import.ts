#!/usr/bin/env node
/**
 * `istio-sticky-import [files...]`: ingress-nginx Ingresses (`kubectl get
 * ingress,service -A -o yaml`, manifests, JSON) → a stack file for this package,
 * on stdout, once the package's own validation takes it; the report on stderr
 * says for every Ingress, path and annotation what became of it. The mapping
 * lives in cli/import/; docs/ingress-nginx.md explains it.
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { SettingsError } from "../components/settings/validate";
import { stackConfigOf, stackFileYaml, validateStackFile } from "./import/config";
import { ImportError, importIngresses } from "./import/ingresses";
import { InputError, readInput, Source } from "./import/input";
import { formatReport } from "./import/report";

export const IMPORT_USAGE = `usage: istio-sticky-import [options] [files...]   (no files, or "-": standard input)

Reads ingress-nginx Ingresses (kubectl get ingress,service -A -o yaml; manifests; JSON) and
writes a stack config for istio-sticky to stdout, the report to stderr.

  --class <name>        an ingress class served by ingress-nginx (repeatable; default: nginx)
  --without-class       also import Ingresses without any class (ingress-nginx's --watch-ingress-without-class)
  --namespace <name>    the namespace of objects that name none (default: default)
  --acme-email <email>  issue the gateway's certificate from Let's Encrypt (default: self-signed)
  -h, --help            this text

Example: kubectl get ingress,service -A -o yaml | npx istio-sticky-import > stacks/Pulumi.prod.yaml`;

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
}

/** Runs the command; `stdin` is read only when a file is "-" or none is given. Returns the exit status. */
export function runImport(argv: string[], io: Io, stdin: () => string = () => fs.readFileSync(0, "utf8")): number {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                class: { type: "string", multiple: true },
                "without-class": { type: "boolean" },
                namespace: { type: "string", short: "n" },
                "acme-email": { type: "string" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: true,
        });
    } catch (e) {
        io.err(`${(e as Error).message}\n${IMPORT_USAGE}\n`);
        return 2;
    }
    const { values, positionals } = parsed;
    if (values.help) {
        io.out(`${IMPORT_USAGE}\n`);
        return 0;
    }
    const usage = (msg: string) => {
        io.err(`${msg}\n${IMPORT_USAGE}\n`);
        return 2;
    };
    const classes = values.class ?? [];
    if (classes.some((c) => c.trim() === "")) return usage("--class needs a class name");
    const namespace = values.namespace ?? "default";
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) return usage(`--namespace "${namespace}" is not a namespace name`);
    const acmeEmail = values["acme-email"];
    if (acmeEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(acmeEmail)) return usage(`--acme-email "${acmeEmail}" is not an email address`);

    const sources: Source[] = [];
    const files = positionals.length ? positionals : ["-"];
    for (const f of files) {
        try {
            sources.push(f === "-" ? { name: "<stdin>", text: stdin() } : { name: f, text: fs.readFileSync(f, "utf8") });
        } catch (e) {
            io.err(`error: cannot read ${f === "-" ? "standard input" : f}: ${(e as Error).message}\n`);
            return 1;
        }
    }

    let result;
    try {
        const input = readInput(sources, namespace);
        result = importIngresses(input, { classes, withoutClass: values["without-class"] === true, ...(acmeEmail ? { acmeEmail } : {}) });
    } catch (e) {
        if (e instanceof InputError || e instanceof ImportError) {
            io.err(`error: ${e.message}\nnothing was written.\n`);
            return 1;
        }
        throw e;
    }
    io.err(formatReport(result.report));
    if (result.apps.length === 0) {
        io.err("error: no path of an ingress-nginx Ingress could be imported (see above); nothing was written.\n");
        return 1;
    }
    const header = [
        `Made by istio-sticky-import from ${sources.map((s) => s.name).join(", ")}: ${result.apps.length} app(s) from ingress-nginx Ingresses.`,
        "Every app is an existing Service; the report the import printed says what was mapped exactly, approximately, or not.",
        "enrolNamespace is false everywhere: the gateway applies the affinity without sidecars (true labels the namespace for the mesh).",
    ];
    const text = stackFileYaml(stackConfigOf(result), header);
    try {
        const { warnings } = validateStackFile(text);
        warnings.forEach((w) => io.err(`warning: ${w}\n`));
    } catch (e) {
        if (!(e instanceof SettingsError)) throw e;
        io.err(`error: the stack config made from these Ingresses does not validate, so nothing was written:\n${e.message}\n`);
        return 1;
    }
    io.out(text);
    return 0;
}

if (require.main === module) {
    process.exitCode = runImport(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
}
