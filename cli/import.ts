#!/usr/bin/env node
/**
 * `istio-sticky-import [files...]`: ingress-nginx Ingresses (`kubectl get
 * ingress,service -A -o yaml`, manifests, JSON) → a stack file for this package,
 * on stdout, once the package's own validation takes it; the report on stderr
 * says for every Ingress, path and annotation what became of it. The mapping
 * lives in cli/import/; docs/ingress-nginx.md explains it.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { SettingsError } from "../components/settings/validate";
import { validateStackFile } from "./import/config";
import { ImportedStack, importStack } from "./import/ingresses";
import { ImportError } from "./import/mapping";
import { InputError, readInput, Source } from "./import/input";
import { writeReport } from "./import/report";

export const IMPORT_USAGE = `usage: istio-sticky-import [options] [files...]   (no files, or "-": standard input)

Reads ingress-nginx Ingresses (kubectl get ingress,service -A -o yaml; manifests; JSON) and
writes a stack config for istio-sticky to stdout (or --out), the report to stderr. Nothing is
written unless the stack config validates.

  --class <name>        an ingress class served by ingress-nginx (repeatable; default: nginx)
  --without-class       also import Ingresses without any class (ingress-nginx's --watch-ingress-without-class)
  --namespace <name>    the namespace of objects that name none (default: default)
  --acme-email <email>  issue the gateway's certificate from Let's Encrypt (default: self-signed)
  -o, --out <file>      write the stack config to <file> (through a temporary file renamed into place,
                        only once it validates) instead of stdout; an existing file only with --force
  --force               let --out replace an existing file
  -h, --help            this text

Example: kubectl get ingress,service -A -o yaml | npx istio-sticky-import --out stacks/Pulumi.migrated.yaml`;

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
                out: { type: "string", short: "o" },
                force: { type: "boolean" },
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
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)
        return usage(`--namespace "${namespace}" is not a namespace name`);
    const acmeEmail = values["acme-email"];
    if (acmeEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(acmeEmail))
        return usage(`--acme-email "${acmeEmail}" is not an email address`);
    const out = values.out;
    if (out !== undefined && out.trim() === "") return usage("--out needs a file name");
    if (values.force && out === undefined) return usage("--force goes with --out");
    if (out !== undefined && fs.existsSync(out) && !values.force) {
        io.err(`error: --out ${out} exists; nothing was written (add --force to replace it)\n`);
        return 1;
    }

    const sources: Source[] = [];
    const files = positionals.length ? positionals : ["-"];
    for (const f of files) {
        try {
            sources.push(
                f === "-" ? { name: "<stdin>", text: stdin() } : { name: f, text: fs.readFileSync(f, "utf8") },
            );
        } catch (e) {
            io.err(`error: cannot read ${f === "-" ? "standard input" : f}: ${(e as Error).message}\n`);
            return 1;
        }
    }

    let stack: ImportedStack;
    const names = sources.map((s) => s.name).join(", ");
    try {
        // The texts are read into the model here, and let go of after it (10 MB for 5,000 Ingresses).
        const input = readInput(sources.splice(0), namespace);
        const opts = { classes, withoutClass: values["without-class"] === true, ...(acmeEmail ? { acmeEmail } : {}) };
        stack = importStack(input, opts, (result) => [
            `Made by istio-sticky-import from ${names}: ${result.apps.length} app(s) from ingress-nginx Ingresses.`,
            "Every app is an existing Service; the report the import printed says what was mapped exactly, approximately, or not.",
            "enrolNamespace is false everywhere: the gateway applies the affinity without sidecars (true labels the namespace for the mesh).",
        ]);
    } catch (e) {
        if (e instanceof InputError || e instanceof ImportError) {
            io.err(`error: ${e.message}\nnothing was written.\n`);
            return 1;
        }
        throw e;
    }
    const { result, text } = stack;
    writeReport(result.report, io.err);
    if (result.apps.length === 0 || text === undefined) {
        io.err("error: no path of an ingress-nginx Ingress could be imported (see above); nothing was written.\n");
        return 1;
    }
    let validation = stack.validation;
    if (!validation) {
        try {
            validation = { warnings: validateStackFile(text).warnings };
        } catch (e) {
            if (!(e instanceof SettingsError)) throw e;
            validation = { refused: e };
        }
    }
    if ("refused" in validation) {
        io.err(
            `error: the stack config made from these Ingresses does not validate, so nothing was written:\n${validation.refused.message}\n`,
        );
        return 1;
    }
    validation.warnings.forEach((w) => io.err(`warning: ${w}\n`));
    if (out === undefined) {
        io.out(text);
        return 0;
    }
    try {
        writeAtomically(out, text);
    } catch (e) {
        io.err(`error: cannot write --out ${out}: ${(e as Error).message}; nothing was written\n`);
        return 1;
    }
    io.err(`wrote ${out}\n`);
    return 0;
}

/** Writes `file` whole or not at all: a temporary file beside it (same file system), renamed over it once written. */
function writeAtomically(file: string, text: string): void {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        fs.writeFileSync(temp, text, { flag: "wx" });
        fs.renameSync(temp, file);
    } finally {
        fs.rmSync(temp, { force: true });
    }
}

if (require.main === module) {
    process.exitCode = runImport(process.argv.slice(2), {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
    });
}
