/**
 * istio-sticky-import: ingress-nginx Ingresses → a stack config of existing-Service apps.
 * The affinity examples of ingress-nginx's own documentation (tests/cli/import/*.yaml, each
 * with its expected stack config), then one test per mapping, per refusal, per input form
 * and per exit status.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { IMPORT_USAGE, runImport } from "../../cli/import";
import { KNOWN_ANNOTATIONS } from "../../cli/import/annotations";
import { validateStackFile } from "../../cli/import/config";
import { planDocuments, buildPlan, Plan, StackSettings } from "istio-sticky";
import { findCharts } from "../../lab/charts";
import { checkXds, StackXds } from "../../lab/expect";
import { buildWorld } from "../../lab/world";
import { generateXds } from "../../lab/xds";
import { findingsForStack } from "../support/istioRules";

const FIXTURES = path.join(__dirname, "import");
const APPS = "istio-sticky:apps";
const MESH = "istio-sticky:mesh";
const TLS = "istio-sticky:tls";

interface Run {
    code: number;
    out: string;
    err: string;
    config: Record<string, any>;
    apps: any[];
}

function run(argv: string[], stdin = ""): Run {
    let out = "";
    let err = "";
    let read = 0;
    const code = runImport(argv, { out: (s) => (out += s), err: (s) => (err += s) }, () => {
        read++;
        return stdin;
    });
    if (read > 1) throw new Error("stdin read twice");
    const config = code === 0 && out.startsWith("#") ? (parse(out).config as Record<string, any>) : {};
    return { code, out, err, config, apps: config[APPS] ?? [] };
}

interface PathSpec {
    path?: string;
    type?: string;
    service: string;
    port: number | string;
}

interface IngressSpec {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    className?: string | null;
    rules?: { host?: string; paths: PathSpec[] }[];
    tls?: { hosts?: string[]; secretName?: string }[];
    defaultBackend?: { service: string; port: number | string };
    created?: string;
}

const backendOf = (service: string, port: number | string) => ({
    service: { name: service, port: typeof port === "number" ? { number: port } : { name: port } },
});

function ingress(s: IngressSpec): object {
    const annotations = Object.fromEntries(
        Object.entries(s.annotations ?? {}).map(([k, v]) => [
            k.includes("/") ? k : `nginx.ingress.kubernetes.io/${k}`,
            v,
        ]),
    );
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: {
            name: s.name,
            namespace: s.namespace ?? "shop",
            ...(s.created ? { creationTimestamp: s.created } : {}),
            ...(Object.keys(annotations).length ? { annotations } : {}),
        },
        spec: {
            ...(s.className === null ? {} : { ingressClassName: s.className ?? "nginx" }),
            ...(s.defaultBackend ? { defaultBackend: backendOf(s.defaultBackend.service, s.defaultBackend.port) } : {}),
            ...(s.rules
                ? {
                      rules: s.rules.map((r) => ({
                          ...(r.host ? { host: r.host } : {}),
                          http: {
                              paths: r.paths.map((p) => ({
                                  path: p.path ?? "/",
                                  pathType: p.type ?? "Prefix",
                                  backend: backendOf(p.service, p.port),
                              })),
                          },
                      })),
                  }
                : {}),
            ...(s.tls ? { tls: s.tls } : {}),
        },
    };
}

/** The imported stack's VirtualServices as [hosts, destination hosts], and no error from the rules oracle. */
function assertHostRoutes(out: string, expected: [string[], string[]][]): void {
    const stack = validateStackFile(out).value;
    const docs = planDocuments(buildPlan(stack, { demoAppSource: "x" }));
    const routes = docs
        .filter((d) => d.kind === "VirtualService")
        .map((d) => [(d.spec as any).hosts, (d.spec as any).http.map((h: any) => h.route[0].destination.host)]);
    assert.deepEqual(routes.sort(), expected);
    assert.deepEqual(
        findingsForStack(stack, docs).filter((f) => f.severity === "error"),
        [],
    );
}

/** An Ingress of one rule: one host and its paths. */
function hostIngress(name: string, host: string, paths: PathSpec[]): object {
    return ingress({ name, rules: [{ host, paths }] });
}

function service(
    name: string,
    ports: { name?: string; port: number; targetPort?: number | string; appProtocol?: string }[],
    extra: object = {},
): object {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "shop" },
        spec: { selector: { app: name }, ports, ...extra },
    };
}

const docs = (...objs: object[]) => objs.map((o) => stringify(o)).join("---\n");

/** One Ingress on shop.example.com: path /cart to Service cart:80, with these annotations. */
function cart(annotations: Record<string, string> = {}, more: Partial<IngressSpec> = {}): object {
    return ingress({
        name: "cart",
        annotations,
        rules: [{ host: "shop.example.com", paths: [{ path: "/cart", service: "cart", port: 80 }] }],
        ...more,
    });
}

function importOf(objs: object[], argv: string[] = []): Run {
    return run(argv, docs(...objs));
}

/** The one report line that matches; fails when none or several do. */
function line(err: string, pattern: RegExp): string {
    const found = err.split("\n").filter((l) => pattern.test(l));
    assert.equal(found.length, 1, `expected one report line matching ${pattern}, found ${found.length}:\n${err}`);
    return found[0].trim();
}

const annotationLine = (err: string, name: string) =>
    line(err, new RegExp(`annotation nginx\\.ingress\\.kubernetes\\.io/${name.replace(/[-/]/g, "\\$&")}: `));

function assertImported(r: Run): void {
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.length > 0);
}

function assertRefused(r: Run, pattern: RegExp): void {
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}:\n${r.err}`);
    assert.equal(r.out, "", "nothing may be written to stdout");
    assert.match(r.err, pattern);
}

/** ingress-nginx's documented examples (docs/examples/…), and this suite's own shop (every mapping at once) and hosts (routing by host). */
const UPSTREAM_FIXTURES = ["cookie", "cookie-samesite", "chashsubset"];
const FIXTURE_NAMES = [...UPSTREAM_FIXTURES, "shop", "hosts"];

/** The command line of a fixture's expected file (its first line). */
function fixtureArgv(fixture: string): string[] {
    const expected = fs.readFileSync(path.join(FIXTURES, `${fixture}.expected.yaml`), "utf8");
    const command = /^# istio-sticky-import ((?:\S+ )*?)tests\/cli\/import\/\S+/.exec(expected.split("\n")[0]);
    assert.ok(command, `${fixture}.expected.yaml names its command`);
    return [...command[1].split(" ").filter(Boolean), path.join(FIXTURES, `${fixture}.yaml`)];
}

/** Each fixture's stack as the import writes it and the package validates it. */
function fixtureStack(fixture: string): StackSettings {
    const r = run(fixtureArgv(fixture));
    assertImported(r);
    return validateStackFile(r.out).value;
}

describe("istio-sticky-import: ingress-nginx's documented affinity examples", () => {
    for (const fixture of FIXTURE_NAMES) {
        it(`${fixture}.yaml gives ${fixture}.expected.yaml`, () => {
            const source = fs.readFileSync(path.join(FIXTURES, `${fixture}.yaml`), "utf8");
            if (UPSTREAM_FIXTURES.includes(fixture)) {
                assert.match(
                    source.split("\n")[0],
                    /^# kubernetes\/ingress-nginx docs\/examples\/\S+ at commit [0-9a-f]{40}/,
                    "the fixture names its upstream file and commit",
                );
            }
            const expected = fs.readFileSync(path.join(FIXTURES, `${fixture}.expected.yaml`), "utf8");
            // The expected file's first line is the command that makes it.
            const r = run(fixtureArgv(fixture));
            const want = parse(expected).config;
            assertImported(r);
            assert.deepEqual(r.config, want);
        });
    }

    it("cookie.yaml: every annotation mapped, the affinity approximately (Envoy derives the cookie from the connection)", () => {
        const r = run(["--namespace", "shop", path.join(FIXTURES, "cookie.yaml")]);
        assertImported(r);
        assert.match(
            annotationLine(r.err, "affinity"),
            /mapped approximately: mode cookie, cookie "route", ttl "172800s", path "\/"; Envoy derives/,
        );
        assert.match(annotationLine(r.err, "session-cookie-name"), /mapped exactly: cookie\.name "route"/);
        assert.match(annotationLine(r.err, "session-cookie-max-age"), /mapped exactly: cookie\.ttl "172800s"/);
        assert.match(annotationLine(r.err, "session-cookie-expires"), /mapped exactly: the same lifetime as max-age/);
        assert.match(line(r.err, /^\s*path stickyingress\.example\.com \//), /mapped exactly: prefix "\/"/);
    });

    it("cookie-samesite.yaml: two Ingresses for one Service: the type from the first, the cookie from the last (as ingress-nginx does)", () => {
        const r = run(["--namespace", "shop", path.join(FIXTURES, "cookie-samesite.yaml")]);
        assertImported(r);
        assert.equal(r.apps.length, 1);
        assert.deepEqual(r.config[MESH].gateway.hosts, [
            "stickyingress-samesite-strict.example.com",
            "stickyingress-samesite-none.example.com",
        ]);
        // Equal creation times: namespace/name descending, so "cookie-samesite-strict" comes first.
        const [strictAt, noneAt] = ["\nIngress shop/cookie-samesite-strict", "\nIngress shop/cookie-samesite-none"].map(
            (s) => r.err.indexOf(s),
        );
        assert.ok(strictAt >= 0 && strictAt < noneAt);
        const strict = r.err.slice(strictAt, noneAt);
        assert.match(
            annotationLine(strict, "session-cookie-name"),
            /not mapped: ingress-nginx used Ingress shop\/cookie-samesite-none's value for Service shop\/http-svc: the last Ingress with affinity: cookie/,
        );
        const none = r.err.slice(noneAt);
        assert.match(
            annotationLine(none, "affinity"),
            /not mapped: ingress-nginx used Ingress shop\/cookie-samesite-strict's value .*the first Ingress that sets an affinity type/,
        );
        assert.match(
            annotationLine(none, "session-cookie-samesite"),
            /not mapped: browsers refuse a SameSite=None cookie without Secure/,
        );
        assert.match(
            annotationLine(none, "session-cookie-secure"),
            /not mapped: the package refuses Secure without TLS/,
        );
    });

    it("chashsubset.yaml: $arg_predictorid becomes a query-parameter hash; the subset, one pod per key; namespace default, left as it is", () => {
        const r = run([path.join(FIXTURES, "chashsubset.yaml")]);
        assertImported(r);
        assert.deepEqual([r.apps[0].namespace, r.apps[0].service.enrolNamespace], ["default", false]);
        assert.deepEqual(r.apps[0].affinity, {
            mode: "queryParameter",
            queryParameterName: "predictorid",
            algorithm: "maglev",
        });
        // The Service in the same file names the pods' port.
        assert.equal(r.apps[0].service.targetPort, 8080);
        assert.match(
            annotationLine(r.err, "upstream-hash-by-subset"),
            /mapped approximately: each key reaches one pod, not one of a subset/,
        );
        assert.match(
            annotationLine(r.err, "upstream-hash-by-subset-size"),
            /not mapped: Istio hashes each key to one pod; there are no subsets/,
        );
    });
});

describe("istio-sticky-import: input", () => {
    const one = cart({ affinity: "cookie" });

    it("reads standard input when no file is given, and when a file is -", () => {
        for (const argv of [[], ["-"]]) {
            const r = run(argv, docs(one));
            assertImported(r);
            assert.equal(r.apps[0].name, "cart");
        }
    });

    it("reads kubectl's List, with the Services in it", () => {
        const list = {
            apiVersion: "v1",
            kind: "List",
            items: [one, service("cart", [{ name: "http", port: 80, targetPort: 8080 }])],
            metadata: { resourceVersion: "" },
        };
        const r = run([], stringify(list));
        assertImported(r);
        assert.equal(r.apps[0].service.targetPort, 8080);
    });

    it("reads JSON (kubectl -o json) and a JSON array", () => {
        const list = { apiVersion: "v1", kind: "List", items: [one] };
        assertImported(run([], JSON.stringify(list, null, 2)));
        assertImported(run([], JSON.stringify([one])));
    });

    it("reads multi-document YAML, and several files in order", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-import-"));
        fs.writeFileSync(path.join(dir, "a.yaml"), docs(cart({}, { name: "a" })));
        fs.writeFileSync(
            path.join(dir, "b.yaml"),
            docs(
                ingress({
                    name: "b",
                    rules: [{ host: "shop.example.com", paths: [{ path: "/pay", service: "pay", port: 80 }] }],
                }),
            ),
        );
        const r = run([path.join(dir, "a.yaml"), path.join(dir, "b.yaml")]);
        assertImported(r);
        assert.deepEqual(r.apps.map((a) => a.path).sort(), ["/cart", "/pay"]);
        const multi = run(
            [],
            docs(cart({}, { name: "a" }), service("cart", [{ port: 80 }]), {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "x" },
            }),
        );
        assertImported(multi);
    });

    it("reads v1beta1 Ingresses (serviceName, servicePort, spec.backend)", () => {
        const old = {
            apiVersion: "networking.k8s.io/v1beta1",
            kind: "Ingress",
            metadata: { name: "old", namespace: "shop", annotations: { "kubernetes.io/ingress.class": "nginx" } },
            spec: {
                rules: [
                    {
                        host: "old.example.com",
                        http: { paths: [{ path: "/old", backend: { serviceName: "old", servicePort: 8080 } }] },
                    },
                ],
            },
        };
        const r = run([], docs(old));
        assertImported(r);
        assert.deepEqual([r.apps[0].path, r.apps[0].service.port], ["/old", 8080]);
        // v1beta1 had no pathType: ImplementationSpecific, nginx's string prefix.
        assert.match(
            line(r.err, /path old\.example\.com \/old/),
            /mapped approximately: prefix "\/old"; ImplementationSpecific "\/old" was nginx's string prefix/,
        );
    });

    it("refuses input that is not YAML or JSON, names the file, and writes nothing", () => {
        assertRefused(run([], "kind: Ingress\n  metadata: [unclosed\n"), /<stdin>: not valid YAML/);
        assertRefused(run([], '{ "kind": "Ingress", '), /<stdin>: not valid JSON/);
    });

    it("refuses input without an Ingress, saying what it holds", () => {
        assertRefused(run([], ""), /no Ingress in the input \(it is empty\)/);
        assertRefused(run([], docs(service("cart", [{ port: 80 }]))), /no Ingress in the input \(it holds 1 Service\)/);
        assertRefused(run([], "just text\n"), /not a Kubernetes object/);
    });

    it("refuses a malformed Ingress with the field that is wrong", () => {
        const bad = {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "bad", namespace: "shop" },
            spec: { rules: [{ http: { paths: [{ path: "/x", pathType: "Prefix", backend: {} }] } }] },
        };
        assertRefused(
            run([], docs(bad)),
            /Ingress bad: spec\.rules\[0\]\.http\.paths\[0\]\.backend: has neither service nor resource/,
        );
    });

    it("refuses a file it cannot read", () => {
        assertRefused(run(["/nonexistent/ingresses.yaml"]), /cannot read \/nonexistent\/ingresses\.yaml/);
    });
});

describe("istio-sticky-import: usage and exit statuses", () => {
    it("prints its usage with -h and exits 0", () => {
        const r = run(["-h"]);
        assert.equal(r.code, 0);
        assert.equal(r.out, `${IMPORT_USAGE}\n`);
        assert.match(r.out, /--class <name>/);
    });

    it("exits 2 on an unknown option or a bad option value, writing nothing", () => {
        for (const argv of [
            ["--frobnicate"],
            ["--namespace", "Not_A_Namespace"],
            ["--acme-email", "nobody"],
            ["--class", ""],
        ]) {
            const r = run(argv);
            assert.equal(r.code, 2, argv.join(" "));
            assert.equal(r.out, "");
            assert.match(r.err, /usage: istio-sticky-import/);
        }
    });

    it("exits 1 when no path can be imported, after printing the report", () => {
        const r = importOf([cart({}, { className: "traefik" })]);
        assertRefused(r, /no path of an ingress-nginx Ingress could be imported/);
        assert.match(r.err, /Ingress shop\/cart: not mapped: spec\.ingressClassName "traefik" is not ingress-nginx's/);
    });

    it("exits 1 with the package's own problems when the result does not validate, writing nothing", () => {
        // Envoy's durations end at about 292 years; ingress-nginx took any number.
        const r = importOf([cart({ affinity: "cookie", "session-cookie-max-age": "99999999999999" })]);
        assertRefused(
            r,
            /does not validate, so nothing was written:\ninvalid settings:\n {2}- istio-sticky:apps\[0\]\.affinity\.cookie\.ttl: must be at most 2562047h/,
        );
    });
});

describe("istio-sticky-import --out: the stack file is written whole, once it validates, or not at all", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-import-out-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const good = () => docs(cart({ affinity: "cookie" }), service("cart", [{ port: 80 }]));
    const failing = () =>
        docs(cart({ affinity: "cookie", "session-cookie-max-age": "99999999999999" }), service("cart", [{ port: 80 }]));

    it("writes the file it validated, says so on stderr, and prints nothing on stdout", () => {
        const file = path.join(dir, "Pulumi.migrated.yaml");
        const r = run(["--out", file], good());
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, "");
        assert.match(r.err, new RegExp(`wrote ${file.replace(/[.]/g, "\\.")}\n$`));
        const written = fs.readFileSync(file, "utf8");
        assert.deepEqual(
            validateStackFile(written).value.apps.map((a) => a.name),
            ["cart"],
        );
        assert.equal(written, run([], good()).out, "the same text stdout gets");
        assert.deepEqual(fs.readdirSync(dir), ["Pulumi.migrated.yaml"], "no temporary file left");
    });

    it("leaves the file as it was when the import fails: not created, or an existing one untouched (--force)", () => {
        const file = path.join(dir, "Pulumi.prod.yaml");
        assert.match(run(["--out", file], failing()).err, /nothing was written/);
        assert.ok(!fs.existsSync(file));
        fs.writeFileSync(file, "config: {}\n");
        assert.equal(run(["--out", file, "--force"], failing()).code, 1);
        assert.equal(run(["-o", file, "--force"], "not: [yaml").code, 1);
        assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n");
        assert.deepEqual(fs.readdirSync(dir), ["Pulumi.prod.yaml"]);
    });

    it("refuses an existing file without --force, and --force without --out", () => {
        const file = path.join(dir, "Pulumi.prod.yaml");
        fs.writeFileSync(file, "config: {}\n");
        const r = run(["--out", file], good());
        assert.equal(r.code, 1);
        assert.match(r.err, /--out .*Pulumi\.prod\.yaml exists; nothing was written \(add --force to replace it\)/);
        assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n");
        assert.equal(run(["--out", file, "--force"], good()).code, 0);
        assert.match(fs.readFileSync(file, "utf8"), /^# Made by istio-sticky-import/);
        assert.equal(run(["--force"], good()).code, 2);
    });

    it("is what the README's one-liner uses: run through sh as written, it writes the file; a shell redirect would have emptied it", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        const line = /^kubectl get ingress,service -A -o yaml \| (npx istio-sticky-import .*)$/m.exec(readme)?.[1];
        assert.ok(line, "README shows the import one-liner");
        assert.match(line, /--out stacks\/Pulumi\.\w+\.yaml/);
        assert.doesNotMatch(line, />/, "no redirect onto a file");
        const cli = path.join(__dirname, "..", "..", "dist", "cli", "import.js");
        fs.mkdirSync(path.join(dir, "stacks"));
        const sh = (cmd: string, input: string) =>
            require("child_process").spawnSync("sh", ["-c", cmd], { cwd: dir, input, encoding: "utf8" });
        // The installed bin stands in for npx's.
        const asRun = line.replace(/^npx istio-sticky-import/, `node ${cli}`);
        assert.equal(sh(asRun, good()).status, 0);
        const target = path.join(dir, /--out (\S+)/.exec(line)![1]);
        assert.match(fs.readFileSync(target, "utf8"), /istio-sticky:apps:/);
        // A failing import through the old redirect: the shell empties the file before the import runs.
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.prod.yaml"), "config: {}\n");
        assert.equal(sh(`node ${cli} > stacks/Pulumi.prod.yaml`, failing()).status, 1);
        assert.equal(fs.readFileSync(path.join(dir, "stacks", "Pulumi.prod.yaml"), "utf8"), "");
    });
});

describe("istio-sticky-import: unknown annotation values are refused, all at once", () => {
    for (const [name, value, allowed] of [
        ["affinity", "foo", /cookie/],
        ["affinity-mode", "sometimes", /balanced, persistent/],
        ["session-cookie-max-age", "two days", /a whole number of seconds/],
        ["session-cookie-expires", "1e5", /a whole number of seconds/],
        ["session-cookie-samesite", "sometimes", /None, Lax, Strict/],
        ["session-cookie-secure", "yes", /true or false/],
        ["session-cookie-change-on-failure", "maybe", /true or false/],
        ["upstream-hash-by", "$http_x user", /nginx variables and text/],
        ["use-regex", "on", /true or false/],
        ["backend-protocol", "SOAP", /AUTO_HTTP, HTTP, HTTPS, GRPC, GRPCS, FCGI/],
    ] as const) {
        it(`${name}: ${JSON.stringify(value)}`, () => {
            const r = importOf([cart({ [name]: value })]);
            assertRefused(
                r,
                new RegExp(
                    `nginx\\.ingress\\.kubernetes\\.io/${name}: ${JSON.stringify(value).replace(/[$.]/g, "\\$&")} is not a value ingress-nginx accepts`,
                ),
            );
            assert.match(r.err, allowed);
            assert.match(r.err, /ingress-nginx ignored it/);
        });
    }

    it("lists every bad value of every Ingress in one run", () => {
        const r = importOf([
            cart({ affinity: "foo", "affinity-mode": "sometimes" }),
            cart({ "session-cookie-max-age": "x" }, { name: "other" }),
        ]);
        assertRefused(r, /affinity: "foo"/);
        assert.match(r.err, /affinity-mode: "sometimes"/);
        assert.match(r.err, /Ingress shop\/other .*session-cookie-max-age: "x"/);
    });

    it("takes what ingress-nginx's validators take: case-insensitive SameSite, Go booleans, a trimmed affinity", () => {
        const r = importOf([
            cart({ affinity: " cookie ", "session-cookie-samesite": "lax", "session-cookie-change-on-failure": "F" }),
        ]);
        assertImported(r);
        assert.deepEqual(r.apps[0].affinity.cookie.attributes, [{ name: "SameSite", value: "Lax" }]);
    });

    it("does not read the annotations of Ingresses it skips", () => {
        const r = importOf([
            cart({ affinity: "cookie" }),
            cart(
                { affinity: "foo" },
                { name: "other", className: "traefik", rules: [{ paths: [{ path: "/o", service: "o", port: 80 }] }] },
            ),
        ]);
        assertImported(r);
    });
});

describe("istio-sticky-import: ingress classes", () => {
    const at = (name: string, more: Partial<IngressSpec>) => cart({ affinity: "cookie" }, { name, ...more });

    it("imports spec.ingressClassName nginx and the kubernetes.io/ingress.class annotation nginx; skips other classes with the reason", () => {
        const r = importOf([
            at("by-name", {}),
            at("by-annotation", {
                className: null,
                annotations: { "kubernetes.io/ingress.class": "nginx" },
                rules: [{ paths: [{ path: "/b", service: "b", port: 80 }] }],
            }),
            at("other", { className: "traefik", rules: [{ paths: [{ path: "/o", service: "o", port: 80 }] }] }),
            at("other-annotation", {
                className: null,
                annotations: { "kubernetes.io/ingress.class": "alb" },
                rules: [{ paths: [{ path: "/p", service: "p", port: 80 }] }],
            }),
        ]);
        assertImported(r);
        assert.deepEqual(r.apps.map((a) => a.service.name).sort(), ["b", "cart"]);
        assert.match(line(r.err, /^Ingress shop\/by-name:/), /mapped/);
        assert.match(
            line(r.err, /^Ingress shop\/other:/),
            /not mapped: spec\.ingressClassName "traefik" is not ingress-nginx's \("nginx"; add --class traefik if it is\); skipped/,
        );
        assert.match(
            line(r.err, /^Ingress shop\/other-annotation:/),
            /not mapped: annotation kubernetes\.io\/ingress\.class "alb" is not ingress-nginx's/,
        );
        assert.match(
            line(r.err, /annotation kubernetes\.io\/ingress\.class: "nginx"/),
            /mapped exactly: selects ingress-nginx/,
        );
    });

    it("skips an Ingress without any class (ingress-nginx's --watch-ingress-without-class is off by default); --without-class imports it", () => {
        const classless = at("classless", { className: null });
        const skipped = importOf([classless]);
        assertRefused(
            skipped,
            /Ingress shop\/classless: not mapped: it names no ingress class .*--watch-ingress-without-class, false by default .*pass --without-class/,
        );
        const taken = importOf([classless], ["--without-class"]);
        assertImported(taken);
        assert.match(line(taken.err, /^Ingress shop\/classless:/), /mapped/);
        assert.match(taken.err, /it names no ingress class; imported because of --without-class/);
    });

    it("--class names other classes as ingress-nginx's, and IngressClass objects with controller k8s.io/ingress-nginx count too", () => {
        assertImported(importOf([at("internal", { className: "internal" })], ["--class", "internal"]));
        assertRefused(importOf([at("internal", { className: "internal" })]), /not ingress-nginx's/);
        const klass = {
            apiVersion: "networking.k8s.io/v1",
            kind: "IngressClass",
            metadata: { name: "public" },
            spec: { controller: "k8s.io/ingress-nginx" },
        };
        assertImported(importOf([klass, at("public", { className: "public" })]));
        // An IngressClass named nginx that belongs to another controller is not ingress-nginx's.
        const other = {
            apiVersion: "networking.k8s.io/v1",
            kind: "IngressClass",
            metadata: { name: "nginx" },
            spec: { controller: "nginx.org/ingress-controller" },
        };
        assertRefused(importOf([other, at("f5", {})]), /spec\.ingressClassName "nginx" is not ingress-nginx's/);
    });

    it("skips canary Ingresses with the reason; affinity-canary-behavior is not mapped", () => {
        const r = importOf([
            cart({ affinity: "cookie", "affinity-canary-behavior": "sticky" }),
            cart(
                { canary: "true", "canary-weight": "10" },
                {
                    name: "cart-canary",
                    rules: [{ host: "shop.example.com", paths: [{ path: "/cart", service: "cart-v2", port: 80 }] }],
                },
            ),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((a) => a.service.name),
            ["cart"],
        );
        assert.match(line(r.err, /^Ingress shop\/cart-canary:/), /not mapped: a canary Ingress/);
        assert.match(
            annotationLine(r.err, "affinity-canary-behavior"),
            /not mapped: it only matters with a canary Ingress, and canary Ingresses are not imported/,
        );
    });
});

describe("istio-sticky-import: cookie affinity", () => {
    const affinityOf = (annotations: Record<string, string>, more: Partial<IngressSpec> = {}) => {
        const r = importOf([cart({ affinity: "cookie", ...annotations }, more)]);
        assertImported(r);
        return { r, affinity: r.apps[0].affinity };
    };

    it("takes ingress-nginx's defaults: cookie INGRESSCOOKIE, the location's path, a session cookie, a maglev hash (balanced)", () => {
        const { r, affinity } = affinityOf({});
        assert.deepEqual(affinity, {
            mode: "cookie",
            cookie: { name: "INGRESSCOOKIE", ttl: "0s", path: "/cart" },
            algorithm: "maglev",
        });
        assert.match(
            annotationLine(r.err, "affinity"),
            /mapped approximately: mode cookie, cookie "INGRESSCOOKIE", ttl "0s" \(a session cookie, as ingress-nginx set it without max-age or expires\), path "\/cart"/,
        );
        // The cookie warning of the package (no ttl) does not apply: the ttl is "0s".
        assert.doesNotMatch(r.err, /warning: .*cookie\.ttl is not set/);
    });

    it("affinity-mode balanced: a cookie hash on maglev, mapped exactly", () => {
        const { r, affinity } = affinityOf({ "affinity-mode": "balanced" });
        assert.equal(affinity.mode, "cookie");
        assert.equal(affinity.algorithm, "maglev");
        assert.match(
            annotationLine(r.err, "affinity-mode"),
            /mapped exactly: mode cookie \(a hash, maglev\): sticky_balanced\.lua hashes a random key/,
        );
    });

    it("session-cookie-path wins over the location's path", () => {
        const { r, affinity } = affinityOf({ "session-cookie-path": "/" });
        assert.equal(affinity.cookie.path, "/");
        assert.match(annotationLine(r.err, "session-cookie-path"), /mapped exactly: cookie\.path "\/"/);
    });

    it("ttl from max-age; from expires when alone; max-age wins over a different expires", () => {
        assert.equal(affinityOf({ "session-cookie-max-age": "3600" }).affinity.cookie.ttl, "3600s");
        const expires = affinityOf({ "session-cookie-expires": "7200" });
        assert.equal(expires.affinity.cookie.ttl, "7200s");
        assert.match(
            annotationLine(expires.r.err, "session-cookie-expires"),
            /mapped approximately: cookie\.ttl "7200s": Envoy sends Max-Age=7200 instead of an Expires date/,
        );
        const both = affinityOf({ "session-cookie-max-age": "60", "session-cookie-expires": "7200" });
        assert.equal(both.affinity.cookie.ttl, "60s");
        assert.match(
            annotationLine(both.r.err, "session-cookie-expires"),
            /mapped approximately: dropped: browsers used Max-Age \(60s\) over Expires \(7200s\)/,
        );
    });

    it("a max-age of 0 (browsers dropped the cookie at once) becomes a session cookie, reported", () => {
        const { r, affinity } = affinityOf({ "session-cookie-max-age": "0" });
        assert.equal(affinity.cookie.ttl, "0s");
        assert.match(
            annotationLine(r.err, "session-cookie-max-age"),
            /mapped approximately: ttl "0s" \(a session cookie\): ingress-nginx's 0 made browsers drop the cookie at once/,
        );
    });

    it("SameSite and Domain become attributes; Secure only with TLS", () => {
        const plain = affinityOf({
            "session-cookie-samesite": "Strict",
            "session-cookie-domain": "example.com",
            "session-cookie-secure": "true",
        });
        assert.deepEqual(plain.affinity.cookie.attributes, [
            { name: "SameSite", value: "Strict" },
            { name: "Domain", value: "example.com" },
        ]);
        assert.match(
            annotationLine(plain.r.err, "session-cookie-domain"),
            /mapped exactly: cookie attribute Domain=example\.com/,
        );
        assert.match(
            annotationLine(plain.r.err, "session-cookie-secure"),
            /not mapped: the package refuses Secure without TLS/,
        );
        const tls = affinityOf(
            { "session-cookie-samesite": "None", "session-cookie-secure": "true" },
            { tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }] },
        );
        assert.deepEqual(tls.affinity.cookie.attributes, [{ name: "SameSite", value: "None" }, { name: "Secure" }]);
        assert.match(annotationLine(tls.r.err, "session-cookie-secure"), /mapped exactly: cookie attribute Secure/);
    });

    it("SameSite=None without TLS is left out (browsers refuse it without Secure); conditional-samesite-none is approximate with TLS", () => {
        const plain = affinityOf({
            "session-cookie-samesite": "None",
            "session-cookie-conditional-samesite-none": "true",
        });
        assert.equal(plain.affinity.cookie.attributes, undefined);
        assert.match(
            annotationLine(plain.r.err, "session-cookie-samesite"),
            /not mapped: browsers refuse a SameSite=None cookie without Secure/,
        );
        const tls = affinityOf(
            { "session-cookie-samesite": "None", "session-cookie-conditional-samesite-none": "true" },
            { tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }] },
        );
        assert.match(
            annotationLine(tls.r.err, "session-cookie-conditional-samesite-none"),
            /mapped approximately: Envoy sends SameSite=None to every browser/,
        );
    });

    it("change-on-failure: false is what Istio does on hashed routes; true is not mapped", () => {
        assert.match(
            annotationLine(
                affinityOf({ "session-cookie-change-on-failure": "false" }).r.err,
                "session-cookie-change-on-failure",
            ),
            /mapped exactly: after a failed attempt the request stays on the cookie's pod: .*DefaultConsistentHashPolicy/,
        );
        assert.match(
            annotationLine(
                affinityOf({ "session-cookie-change-on-failure": "true" }).r.err,
                "session-cookie-change-on-failure",
            ),
            /not mapped: Envoy never rewrites a hash cookie/,
        );
    });

    it("a cookie name that is no RFC 6265 token falls back to INGRESSCOOKIE, reported", () => {
        const { r, affinity } = affinityOf({ "session-cookie-name": "a/b" });
        assert.equal(affinity.cookie.name, "INGRESSCOOKIE");
        assert.match(annotationLine(r.err, "session-cookie-name"), /not mapped: "a\/b" is not a cookie name/);
    });

    it("cookie annotations without affinity: cookie have no effect, as in ingress-nginx", () => {
        const r = importOf([cart({ "session-cookie-name": "x", "affinity-mode": "persistent" })]);
        assertImported(r);
        assert.deepEqual(r.apps[0].affinity, { mode: "none" });
        assert.match(annotationLine(r.err, "session-cookie-name"), /not mapped: no effect without affinity: cookie/);
        assert.match(annotationLine(r.err, "affinity-mode"), /not mapped: no effect without affinity: cookie/);
    });
});

describe("istio-sticky-import: affinity-mode persistent", () => {
    it("becomes persistentCookie; the lifetime, attributes and a path other than / are dropped, each reported", () => {
        const r = importOf([
            cart({
                affinity: "cookie",
                "affinity-mode": "persistent",
                "session-cookie-name": "sticky",
                "session-cookie-max-age": "3600",
                "session-cookie-samesite": "Lax",
                "session-cookie-domain": "example.com",
            }),
        ]);
        assertImported(r);
        assert.deepEqual(r.apps[0].affinity, { mode: "persistentCookie", cookie: { name: "sticky" } });
        assert.match(
            annotationLine(r.err, "affinity-mode"),
            /mapped exactly: mode persistentCookie: Envoy writes the pod's address into the cookie/,
        );
        assert.match(
            annotationLine(r.err, "session-cookie-max-age"),
            /not mapped: Istio's persistent-session cookie is a session cookie/,
        );
        assert.match(annotationLine(r.err, "session-cookie-samesite"), /not mapped: .*carries no attributes/);
        assert.match(annotationLine(r.err, "session-cookie-domain"), /not mapped: .*host-only/);
        assert.match(
            annotationLine(r.err, "affinity"),
            /mapped approximately: mode persistentCookie, cookie "sticky"; .*cookie path "\/" instead of "\/cart"/,
        );
    });

    it("falls back to a cookie hash when the cookie name cannot be a label value (Istio reads it from a Service label)", () => {
        const r = importOf([cart({ affinity: "cookie", "affinity-mode": "persistent", "session-cookie-name": "a~b" })]);
        assertImported(r);
        assert.equal(r.apps[0].affinity.mode, "cookie");
        assert.match(
            annotationLine(r.err, "affinity-mode"),
            /mapped approximately: mode cookie \(a hash, maglev\) instead of persistentCookie/,
        );
    });

    it("renames the second app's persistent cookie when two share a name (both live on path /)", () => {
        const pay = ingress({
            name: "pay",
            annotations: { affinity: "cookie", "affinity-mode": "persistent" },
            rules: [{ host: "shop.example.com", paths: [{ path: "/pay", service: "pay", port: 80 }] }],
        });
        const r = importOf([cart({ affinity: "cookie", "affinity-mode": "persistent" }), pay]);
        assertImported(r);
        // "pay" comes first (names descending), so "cart" is the second.
        assert.deepEqual(
            r.apps.map((a) => [a.name, a.affinity.cookie.name]),
            [
                ["pay", "INGRESSCOOKIE"],
                ["cart", "INGRESSCOOKIE-cart"],
            ],
        );
        assert.match(
            line(r.err, /^app cart:/),
            /persistent cookie renamed "INGRESSCOOKIE-cart": app pay has "INGRESSCOOKIE" on path "\/" too/,
        );
    });
});

describe("istio-sticky-import: upstream-hash-by", () => {
    const hashOf = (value: string, more: Record<string, string> = {}) => {
        const r = importOf([cart({ "upstream-hash-by": value, ...more })]);
        assertImported(r);
        return { r, affinity: r.apps[0].affinity };
    };

    it("$http_<name>: a header hash, underscores as dashes, lower-case", () => {
        assert.deepEqual(hashOf("$http_x_user").affinity, {
            mode: "header",
            headerName: "x-user",
            algorithm: "maglev",
        });
        assert.deepEqual(hashOf("${http_X_Session_Id}").affinity, {
            mode: "header",
            headerName: "x-session-id",
            algorithm: "maglev",
        });
        assert.match(
            annotationLine(hashOf("$http_x_user").r.err, "upstream-hash-by"),
            /mapped approximately: mode header on "x-user" \(maglev\); requests without the key/,
        );
    });

    it("$cookie_<name>: a cookie hash without ttl (the app sets the cookie)", () => {
        const { r, affinity } = hashOf("$cookie_sid");
        assert.deepEqual(affinity, { mode: "cookie", cookie: { name: "sid" }, algorithm: "maglev" });
        assert.match(
            annotationLine(r.err, "upstream-hash-by"),
            /mapped approximately: mode cookie on "sid" without ttl/,
        );
    });

    it("$arg_<name>: a query-parameter hash", () => {
        assert.deepEqual(hashOf("$arg_user").affinity, {
            mode: "queryParameter",
            queryParameterName: "user",
            algorithm: "maglev",
        });
    });

    it("$remote_addr and $binary_remote_addr: the source address", () => {
        for (const v of ["$remote_addr", "$binary_remote_addr"]) {
            const { r, affinity } = hashOf(v);
            assert.deepEqual(affinity, { mode: "sourceIp", algorithm: "maglev" });
            assert.match(
                annotationLine(r.err, "upstream-hash-by"),
                /mapped approximately: mode sourceIp \(maglev\): ingress-nginx hashed the address it saw/,
            );
        }
    });

    it("refuses anything else with the reason, and imports the app with mode none", () => {
        for (const [value, why] of [
            ["$request_uri", /\$request_uri \(the request URI\) is none of these/],
            ["$http_x_a$http_x_b", /combines variables or text/],
            ["${request_uri}-text-value", /combines variables or text/],
            ["constant", /constant text: ingress-nginx sent every request to one pod/],
            ["$http_host", /\$http_host is the request's host, which Envoy keeps in the :authority pseudo-header/],
        ] as const) {
            const { r, affinity } = hashOf(value);
            assert.deepEqual(affinity, { mode: "none" }, value);
            assert.match(
                annotationLine(r.err, "upstream-hash-by"),
                new RegExp(`not mapped: .*${why.source}.*; the app is imported with mode none`),
                value,
            );
        }
    });

    it("is ignored by ingress-nginx next to affinity: cookie, and reported so", () => {
        const { r, affinity } = hashOf("$http_x_user", { affinity: "cookie" });
        assert.equal(affinity.mode, "cookie");
        assert.match(
            annotationLine(r.err, "upstream-hash-by"),
            /not mapped: ingress-nginx ignored it: cookie affinity takes precedence \(balancer\.lua: get_implementation\)/,
        );
    });

    it("load-balance: round_robin is mode none; ewma approximately", () => {
        assert.match(
            annotationLine(importOf([cart({ "load-balance": "round_robin" })]).err, "load-balance"),
            /mapped exactly: mode none/,
        );
        assert.match(
            annotationLine(importOf([cart({ "load-balance": "ewma" })]).err, "load-balance"),
            /mapped approximately: mode none \(round robin\)/,
        );
    });
});

describe("istio-sticky-import: paths", () => {
    const pathOf = (paths: PathSpec[], annotations: Record<string, string> = {}) => {
        const r = importOf([ingress({ name: "web", annotations, rules: [{ host: "shop.example.com", paths }] })]);
        return r;
    };

    it("Prefix maps exactly; a trailing / is dropped, reported", () => {
        const r = pathOf([{ path: "/cart", service: "cart", port: 80 }]);
        assertImported(r);
        assert.deepEqual([r.apps[0].path, r.apps[0].stripPath], ["/cart", false]);
        assert.match(
            line(r.err, /path shop\.example\.com \/cart /),
            /mapped exactly: prefix "\/cart" \(Prefix matches whole segments/,
        );
        const slash = pathOf([{ path: "/cart/", service: "cart", port: 80 }]);
        assert.equal(slash.apps[0].path, "/cart");
        assert.match(
            line(slash.err, /path shop\.example\.com \/cart\/ /),
            /mapped approximately: .*ingress-nginx answered "\/cart" with a redirect to "\/cart\/"/,
        );
    });

    it("Exact and ImplementationSpecific become prefixes, reported", () => {
        const exactPath = pathOf([{ path: "/cart", type: "Exact", service: "cart", port: 80 }]);
        assert.match(
            line(exactPath.err, /path shop\.example\.com \/cart \(Exact\)/),
            /mapped approximately: .*Exact "\/cart" matched only itself/,
        );
        const impl = pathOf([{ path: "/cart", type: "ImplementationSpecific", service: "cart", port: 80 }]);
        assert.match(
            line(impl.err, /path shop\.example\.com \/cart \(ImplementationSpecific\)/),
            /mapped approximately: .*nginx's string prefix/,
        );
    });

    it("use-regex with /prefix(/|$)(.*) and rewrite-target /$2: the prefix, stripped", () => {
        const r = pathOf([{ path: "/cart(/|$)(.*)", type: "ImplementationSpecific", service: "cart", port: 80 }], {
            "use-regex": "true",
            "rewrite-target": "/$2",
        });
        assertImported(r);
        assert.deepEqual([r.apps[0].path, r.apps[0].stripPath], ["/cart", true]);
        assert.match(
            line(r.err, /path shop\.example\.com \/cart\(/),
            /mapped approximately: prefix "\/cart", stripped: ingress-nginx matched ~\* "\^\/cart\(\/\|\$\)\(\.\*\)"/,
        );
    });

    it('rewrite-target "/" on a plain path strips the prefix, reported as approximate (nginx rewrote every request to /)', () => {
        const r = pathOf([{ path: "/cart", service: "cart", port: 80 }], { "rewrite-target": "/" });
        assertImported(r);
        assert.equal(r.apps[0].stripPath, true);
        assert.match(
            line(r.err, /path shop\.example\.com \/cart /),
            /mapped approximately: .*rewrite-target "\/" replaced the whole path with "\/"/,
        );
    });

    it("refuses a rewrite the gateway cannot make, and a regex that is no prefix", () => {
        const rw = importOf([
            ingress({
                name: "web",
                annotations: { "use-regex": "true", "rewrite-target": "/api/$2" },
                rules: [
                    {
                        host: "shop.example.com",
                        paths: [{ path: "/cart(/|$)(.*)", type: "ImplementationSpecific", service: "cart", port: 80 }],
                    },
                ],
            }),
            ingress({
                name: "keep",
                rules: [{ host: "shop.example.com", paths: [{ path: "/keep", service: "keep", port: 80 }] }],
            }),
        ]);
        assertImported(rw);
        assert.match(
            line(rw.err, /path shop\.example\.com \/cart\(/),
            /not mapped: rewrite-target "\/api\/\$2" rewrites .* it can only strip the path prefix/,
        );
        const re = pathOf(
            [
                { path: "/c[a-z]+/x", type: "ImplementationSpecific", service: "cart", port: 80 },
                { path: "/keep", service: "keep", port: 80 },
            ],
            { "use-regex": "true" },
        );
        assert.match(
            line(re.err, /path shop\.example\.com \/c\[/),
            /not mapped: "\/c\[a-z\]\+\/x" is matched as a regular expression/,
        );
    });

    it("a regex on one Ingress makes every path of its host a regex in ingress-nginx, reported on the other Ingress", () => {
        const regex = ingress({
            name: "a",
            annotations: { "use-regex": "true" },
            rules: [
                {
                    host: "shop.example.com",
                    paths: [{ path: "/a/.*", type: "ImplementationSpecific", service: "a", port: 80 }],
                },
            ],
        });
        const plain = ingress({
            name: "b",
            rules: [{ host: "shop.example.com", paths: [{ path: "/b", service: "b", port: 80 }] }],
        });
        const r = importOf([regex, plain]);
        assertImported(r);
        assert.match(
            line(r.err, /path shop\.example\.com \/b /),
            /mapped approximately: .*another Ingress of the same host sets use-regex or rewrite-target/,
        );
    });

    it("refuses a path a gateway path cannot hold, and a host the gateway cannot take", () => {
        const r = pathOf([
            { path: "/a b", service: "a", port: 80 },
            { path: "/keep", service: "keep", port: 80 },
        ]);
        assert.match(
            line(r.err, /path shop\.example\.com \/a b/),
            /not mapped: "\/a b" holds characters a gateway path cannot/,
        );
        const host = importOf([
            ingress({
                name: "web",
                rules: [
                    { host: "shop_example.com", paths: [{ path: "/a", service: "a", port: 80 }] },
                    { host: "shop.example.com", paths: [{ path: "/keep", service: "keep", port: 80 }] },
                ],
            }),
        ]);
        assertImported(host);
        assert.deepEqual(host.config[MESH].gateway.hosts, ["shop.example.com"]);
        assert.match(
            line(host.err, /path shop_example\.com \/a/),
            /not mapped: "shop_example\.com" is no host name the gateway can take$/,
        );
    });

    it("a default backend becomes path /, alone or beside other paths (the gateway tries the longest path first)", () => {
        const alone = importOf([ingress({ name: "fallback", defaultBackend: { service: "web", port: 80 } })]);
        assertImported(alone);
        assert.deepEqual(
            [alone.apps[0].path, alone.apps[0].hosts, alone.config[MESH].gateway.hosts],
            ["/", undefined, ["*"]],
        );
        assert.match(line(alone.err, /^\s*default backend:/), /mapped approximately: prefix "\/"/);
        const beside = importOf([cart({}, { defaultBackend: { service: "web", port: 80 } })]);
        assertImported(beside);
        assert.deepEqual(
            beside.apps.map((a) => [a.path, a.hosts]),
            [
                ["/cart", ["shop.example.com"]],
                ["/", ["shop.example.com"]],
            ],
        );
        assert.match(line(beside.err, /^\s*default backend:/), /mapped approximately: prefix "\/"/);
        // The stack routes /cart before / on the gateway.
        const [vs] = buildPlan(validateStackFile(beside.out).value, { demoAppSource: "" }).objects.filter(
            (o) => o.object.kind === "VirtualService",
        );
        assert.deepEqual(
            vs.object.spec.http.map((r: any) => r.match[0].uri),
            [{ exact: "/cart" }, { prefix: "/" }],
        );
    });

    it("refuses a resource backend", () => {
        const res = {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "assets", namespace: "shop" },
            spec: {
                ingressClassName: "nginx",
                rules: [
                    {
                        http: {
                            paths: [
                                {
                                    path: "/static",
                                    pathType: "Prefix",
                                    backend: {
                                        resource: {
                                            apiGroup: "k8s.example.com",
                                            kind: "StorageBucket",
                                            name: "assets",
                                        },
                                    },
                                },
                                { path: "/cart", pathType: "Prefix", backend: backendOf("cart", 80) },
                            ],
                        },
                    },
                ],
            },
        };
        const r = importOf([res]);
        assertImported(r);
        assert.match(
            line(r.err, /path \(any host\) \/static/),
            /not mapped: its backend is a StorageBucket \(assets\), not a Service/,
        );
    });
});

describe("istio-sticky-import: Services and ports", () => {
    it("resolves a named port from the Service in the input and fills targetPort", () => {
        const r = importOf([
            cart(
                {},
                { rules: [{ host: "shop.example.com", paths: [{ path: "/cart", service: "cart", port: "web" }] }] },
            ),
            service("cart", [{ name: "web", port: 8081, targetPort: 9000 }]),
        ]);
        assertImported(r);
        assert.deepEqual(r.apps[0].service, { name: "cart", port: 8081, targetPort: 9000, enrolNamespace: false });
        assert.match(
            line(r.err, /path shop\.example\.com \/cart/),
            /named "web" in the Ingress, resolved from the Service/,
        );
    });

    it("refuses a named port without the Service, saying to include the Services", () => {
        const r = importOf([
            hostIngress("web", "shop.example.com", [
                { path: "/cart", service: "cart", port: "web" },
                { path: "/pay", service: "pay", port: 80 },
            ]),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((a) => a.path),
            ["/pay"],
        );
        assert.match(
            line(r.err, /path shop\.example\.com \/cart/),
            /not mapped: its backend names the port "web" of Service shop\/cart, which is not in the input; include the Services \(kubectl get ingress,service -A -o yaml\)/,
        );
    });

    it("leaves a named targetPort out; refuses an ExternalName Service and a port the Service does not have", () => {
        const named = importOf([cart(), service("cart", [{ port: 80, targetPort: "http" }])]);
        assertImported(named);
        assert.equal(named.apps[0].service.targetPort, undefined);
        assert.match(named.err, /targetPort "http" is a name, which only the pods resolve/);
        assertRefused(
            importOf([
                cart(),
                service("cart", [{ port: 80 }], { type: "ExternalName", externalName: "cart.example.net" }),
            ]),
            /is an ExternalName Service/,
        );
        assertRefused(
            importOf([cart(), service("cart", [{ port: 8080 }])]),
            /Service shop\/cart has no port 80 \(it has 8080\)/,
        );
    });

    it("appProtocol: backend-protocol GRPC, the Service's own h2c or a grpc- port name; HTTPS backends are refused", () => {
        assert.equal(importOf([cart({ "backend-protocol": "GRPC" })]).apps[0].service.appProtocol, "grpc");
        assert.equal(
            importOf([cart(), service("cart", [{ port: 80, appProtocol: "kubernetes.io/h2c" }])]).apps[0].service
                .appProtocol,
            "http2",
        );
        assert.equal(
            importOf([cart(), service("cart", [{ name: "grpc-api", port: 80 }])]).apps[0].service.appProtocol,
            "grpc",
        );
        assert.equal(
            importOf([cart(), service("cart", [{ name: "web", port: 80 }])]).apps[0].service.appProtocol,
            undefined,
        );
        assertRefused(
            importOf([cart({ "backend-protocol": "HTTPS" })]),
            /backend-protocol HTTPS: the Service speaks TLS/,
        );
    });

    it("emits enrolNamespace false for every app and says why", () => {
        const r = importOf([cart({ affinity: "cookie" })]);
        assertImported(r);
        assert.equal(r.apps[0].service.enrolNamespace, false);
        assert.match(
            line(r.err, /^app cart:/),
            /enrolNamespace false: the gateway applies the affinity without sidecars in "shop", so nothing there changes; set it true to label the namespace for the mesh \(which restarts nothing by itself: pods get a sidecar when they next restart\)/,
        );
    });

    it("refuses apps in namespaces the package keeps for itself", () => {
        assertRefused(
            importOf([cart({}, { namespace: "istio-ingress" })]),
            /its namespace "istio-ingress" is the gateway's/,
        );
        assertRefused(
            importOf([cart({}, { namespace: "kube-system" })]),
            /its namespace "kube-system" is one the package refuses/,
        );
    });
});

describe("istio-sticky-import: several Ingresses", () => {
    it("one Service on one path under two hosts is one app whose hosts are both", () => {
        const a = cart(
            { affinity: "cookie" },
            { name: "a", rules: [{ host: "a.example.com", paths: [{ path: "/cart", service: "cart", port: 80 }] }] },
        );
        const b = cart(
            {},
            { name: "b", rules: [{ host: "b.example.com", paths: [{ path: "/cart", service: "cart", port: 80 }] }] },
        );
        const r = importOf([a, b]);
        assertImported(r);
        assert.equal(r.apps.length, 1);
        assert.deepEqual(
            [r.apps[0].hosts, r.apps[0].path, r.apps[0].service.name],
            [["b.example.com", "a.example.com"], "/cart", "cart"],
        );
        assert.deepEqual(r.config[MESH].gateway.hosts, ["b.example.com", "a.example.com"]);
        assert.match(line(r.err, /^app cart:/), /path \/cart, hosts b\.example\.com, a\.example\.com, affinity cookie/);
        // "b" comes first (names descending): its path makes the app, a's joins it.
        assert.match(line(r.err, /path a\.example\.com \/cart/), /mapped exactly: .*the same app as before: cart/);
        // b sets no affinity, yet ingress-nginx applied a's to the Service.
        assert.match(
            r.err,
            /affinity: ingress-nginx applied annotations of Ingress shop\/a to Service shop\/cart as well/,
        );
    });

    it("a second path to the same Service is not mapped (an app has one path)", () => {
        const r = importOf([
            hostIngress("web", "shop.example.com", [
                { path: "/cart", service: "cart", port: 80 },
                { path: "/basket", service: "cart", port: 80 },
            ]),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((a) => a.path),
            ["/cart"],
        );
        assert.match(
            line(r.err, /path shop\.example\.com \/basket/),
            /not mapped: Service shop\/cart is already app cart \(shop\.example\.com \/cart\), and an app has one path/,
        );
    });

    it("conflicting annotations for one Service: the oldest Ingress's affinity type holds, as in ingress-nginx", () => {
        const older = cart({ "upstream-hash-by": "$http_x_user" }, { name: "older", created: "2025-01-01T00:00:00Z" });
        const newer = cart(
            { affinity: "cookie", "upstream-hash-by": "$arg_u" },
            { name: "newer", created: "2026-01-01T00:00:00Z" },
        );
        // Given newest first, as a file might list them.
        const r = importOf([newer, older]);
        assertImported(r);
        // The cookie affinity of the newer Ingress is the first affinity type set for the Service; the hash key comes from the older one, which created the upstream.
        assert.equal(r.apps[0].affinity.mode, "cookie");
        assert.ok(r.err.indexOf("Ingress shop/older") < r.err.indexOf("Ingress shop/newer"), "oldest first");
        const newerPart = r.err.slice(r.err.indexOf("Ingress shop/newer"));
        assert.match(
            annotationLine(newerPart, "upstream-hash-by"),
            /not mapped: ingress-nginx used Ingress shop\/older's value for Service shop\/cart: the first Ingress that names the Service/,
        );
    });

    it('two hosts, each with its own Service at "/": one app per Service on its host, mapped exactly', () => {
        const a = cart(
            {},
            { name: "a", rules: [{ host: "a.example.com", paths: [{ path: "/", service: "one", port: 80 }] }] },
        );
        const b = cart(
            {},
            { name: "b", rules: [{ host: "b.example.com", paths: [{ path: "/", service: "two", port: 80 }] }] },
        );
        const r = importOf([a, b]);
        assertImported(r);
        // "b" comes first: names descending.
        assert.deepEqual(
            r.apps.map((x) => [x.name, x.hosts, x.path, x.service.name]),
            [
                ["two", ["b.example.com"], "/", "two"],
                ["one", ["a.example.com"], "/", "one"],
            ],
        );
        assert.deepEqual(r.config[MESH].gateway.hosts, ["b.example.com", "a.example.com"]);
        assert.match(
            line(r.err, /path a\.example\.com \/ /),
            /mapped exactly: prefix "\/" .*app one: Service shop\/one port 80/,
        );
        assert.match(
            line(r.err, /path b\.example\.com \/ /),
            /mapped exactly: prefix "\/" .*app two: Service shop\/two port 80/,
        );
        assert.match(line(r.err, /^Ingress shop\/a:/), /mapped exactly$/);
        assert.doesNotMatch(r.err, /also served on|every host/);
        // Each host's routes go to its own Service only.
        assertHostRoutes(r.out, [
            [["a.example.com"], ["one.shop.svc.cluster.local"]],
            [["b.example.com"], ["two.shop.svc.cluster.local"]],
        ]);
    });

    it("the same path on one host to two Services is not mapped: the first wins, reported", () => {
        const a = cart(
            {},
            { name: "a", rules: [{ host: "a.example.com", paths: [{ path: "/app", service: "one", port: 80 }] }] },
        );
        const b = cart(
            {},
            { name: "b", rules: [{ host: "a.example.com", paths: [{ path: "/app", service: "two", port: 80 }] }] },
        );
        const r = importOf([a, b]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.service.name, x.hosts]),
            [["two", ["a.example.com"]]],
        ); // "b" comes first: names descending
        assert.match(
            line(r.err, /path a\.example\.com \/app \(Prefix\): not mapped/),
            /not mapped: on a\.example\.com, the path "\/app" already goes to app two \(a\.example\.com \/app\), Service shop\/two, and a host's path goes to one Service$/,
        );
        assert.match(line(r.err, /^Ingress shop\/a:/), /not mapped: none of its paths was mapped/);
    });

    it("a rule without host makes an app on every host: the same path on a named host to another Service is not mapped", () => {
        const any = ingress({ name: "b", rules: [{ paths: [{ path: "/", service: "web", port: 80 }] }] });
        const named = ingress({
            name: "a",
            rules: [{ host: "a.example.com", paths: [{ path: "/", service: "other", port: 80 }] }],
        });
        const r = importOf([any, named]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.service.name, x.hosts]),
            [["web", undefined]],
        );
        assert.deepEqual(r.config[MESH].gateway.hosts, ["*"]);
        assert.match(
            line(r.err, /path a\.example\.com \/ /),
            /not mapped: the path "\/" already goes to app web \(\* \/\), Service shop\/web, a path for any host, which the gateway serves on every host, a\.example\.com included$/,
        );
        // The other way round: the named host's Service first, then the path for any host.
        const first = importOf([
            any,
            ingress({
                name: "c",
                rules: [{ host: "a.example.com", paths: [{ path: "/", service: "other", port: 80 }] }],
            }),
        ]);
        assertImported(first);
        assert.deepEqual(
            first.apps.map((x) => [x.service.name, x.hosts]),
            [["other", ["a.example.com"]]],
        );
        assert.match(
            line(first.err, /path \(any host\) \/ /),
            /not mapped: the path "\/" already goes to app other \(a\.example\.com \/\), Service shop\/other, and this is a path for any host, which the gateway would serve on every host, a\.example\.com included$/,
        );
        // Another path on the named host is its own; the app on every host is told it answers that host too.
        const api = ingress({
            name: "a",
            rules: [{ host: "a.example.com", paths: [{ path: "/api", service: "api", port: 80 }] }],
        });
        const both = importOf([any, api]);
        assertImported(both);
        assert.deepEqual(
            both.apps.map((x) => [x.service.name, x.hosts, x.path]),
            [
                ["web", undefined, "/"],
                ["api", ["a.example.com"], "/api"],
            ],
        );
        assert.match(
            line(both.err, /^app web:/),
            /every host, affinity none; .*on every host, as a path for any host: ingress-nginx sent it only the requests for hosts no rule names, and here it also takes those for a\.example\.com that no path of their apps takes/,
        );
        assert.doesNotMatch(line(both.err, /^app api:/), /every host/);
    });

    it("a host that a wildcard rule covers is left out of the gateway's hosts (istiod would mix the wildcard's routes into it); its app keeps it", () => {
        const wild = ingress({
            name: "b",
            rules: [{ host: "*.example.com", paths: [{ path: "/", service: "web", port: 80 }] }],
        });
        const named = ingress({
            name: "a",
            rules: [{ host: "a.example.com", paths: [{ path: "/", service: "shop", port: 80 }] }],
        });
        const r = importOf([wild, named]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.service.name, x.hosts, x.path]),
            [
                ["web", ["*.example.com"], "/"],
                ["shop", ["a.example.com"], "/"],
            ],
        );
        assert.deepEqual(r.config[MESH].gateway.hosts, ["*.example.com"]);
        assert.match(
            line(r.err, /^gateway hosts:/),
            /istio-sticky:mesh\.gateway\.hosts \*\.example\.com; a\.example\.com left out: the wildcard \*\.example\.com covers it, and istiod would mix its routes/,
        );
        assertHostRoutes(r.out, [
            [["*.example.com"], ["web.shop.svc.cluster.local"]],
            [["a.example.com"], ["shop.shop.svc.cluster.local"]],
        ]);
    });

    it("a host the package's validation refuses for an app is not mapped, with the package's reason, and the rest is imported", () => {
        // The HTTPS server of a TLS host under "*": istiod would mix the routes of the app on every host into the host's own.
        const r = importOf([
            ingress({
                name: "web",
                tls: [{ hosts: ["api.example.com"], secretName: "t" }],
                rules: [
                    { paths: [{ path: "/", service: "web", port: 80 }] },
                    { host: "api.example.com", paths: [{ path: "/api", service: "api", port: 80 }] },
                ],
            }),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.service.name, x.hosts]),
            [["web", undefined]],
        );
        assert.deepEqual(r.config[TLS].hosts, ["api.example.com"]);
        assert.match(
            line(r.err, /path api\.example\.com \/api/),
            /not mapped: the package's validation refuses the Service's app on api\.example\.com: "api\.example\.com" is a host of the gateway's servers .* under the wildcard "\*", so istiod mixes "\*"'s routes into "api\.example\.com"'s in no set order, and app web \(path \/\) could take this app's requests/,
        );
    });

    it("a default backend takes its Ingress's hosts, except those whose path / goes to another Service", () => {
        const r = importOf([
            ingress({
                name: "web",
                defaultBackend: { service: "web", port: 80 },
                rules: [
                    { host: "a.example.com", paths: [{ path: "/", service: "home", port: 80 }] },
                    { host: "b.example.com", paths: [{ path: "/cart", service: "cart", port: 80 }] },
                ],
            }),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.service.name, x.hosts, x.path]),
            [
                ["home", ["a.example.com"], "/"],
                ["cart", ["b.example.com"], "/cart"],
                ["web", ["b.example.com"], "/"],
            ],
        );
        assert.match(
            line(r.err, /^\s*default backend:/),
            /mapped approximately: .*a default backend becomes the path "\/" on b\.example\.com, .*; not on a\.example\.com: on a\.example\.com, the path "\/" already goes to app home/,
        );
    });

    it('nested paths ("/" and "/api") are both imported', () => {
        const r = importOf([
            hostIngress("web", "shop.example.com", [
                { path: "/api", service: "api", port: 80 },
                { path: "/", service: "web", port: 80 },
            ]),
        ]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((a) => a.path),
            ["/api", "/"],
        );
        assert.match(line(r.err, /path shop\.example\.com \/ \(Prefix\)/), /mapped exactly: prefix "\/"/);
    });

    it("names apps after their Service, and after Service and namespace when two namespaces share a name", () => {
        const a = cart(
            {},
            {
                name: "a",
                namespace: "eu",
                rules: [{ host: "eu.example.com", paths: [{ path: "/eu", service: "web", port: 80 }] }],
            },
        );
        const b = cart(
            {},
            {
                name: "b",
                namespace: "us",
                rules: [{ host: "us.example.com", paths: [{ path: "/us", service: "web", port: 80 }] }],
            },
        );
        const r = importOf([a, b]);
        assertImported(r);
        assert.deepEqual(
            r.apps.map((x) => [x.name, x.namespace]).sort(),
            [
                ["web", "us"],
                ["web-eu", "eu"],
            ].sort(),
        );
        assert.deepEqual(
            r.apps.map((x) => [x.name, x.hosts]),
            [
                ["web", ["us.example.com"]],
                ["web-eu", ["eu.example.com"]],
            ],
        );
        assert.match(line(r.err, /^app web-eu:/), /path \/eu, hosts eu\.example\.com, affinity none/);
    });
});

describe("istio-sticky-import: TLS", () => {
    const withTls = (tls: IngressSpec["tls"], more: Partial<IngressSpec> = {}, argv: string[] = []) =>
        importOf([cart({ affinity: "cookie" }, { tls, ...more })], argv);

    it("TLS hosts become istio-sticky:tls hosts; the Secret is not used, reported", () => {
        const r = withTls([{ hosts: ["shop.example.com"], secretName: "shop-tls" }]);
        assertImported(r);
        assert.deepEqual(r.config[TLS], { enabled: true, hosts: ["shop.example.com"] });
        assert.deepEqual(r.config[MESH].gateway.hosts, ["shop.example.com"]);
        assert.match(
            line(r.err, /TLS shop\.example\.com \(Secret shop\/shop-tls\)/),
            /mapped approximately: istio-sticky:tls\.hosts shop\.example\.com; cert-manager issues a new self-signed certificate .*the Secret shop\/shop-tls is not used \(the gateway reads certificates from its own namespace, istio-ingress\) and stays as it is/,
        );
        assert.match(line(r.err, /^TLS:/), /HTTP is redirected to HTTPS on every host/);
    });

    it("does not redirect when some host has no certificate, and warns that its cookie is Secure", () => {
        const r = importOf([
            cart(
                { affinity: "cookie" },
                {
                    tls: [{ hosts: ["shop.example.com"], secretName: "t" }],
                    rules: [{ host: "shop.example.com", paths: [{ path: "/cart", service: "cart", port: 80 }] }],
                },
            ),
            ingress({
                name: "plain",
                annotations: { affinity: "cookie" },
                rules: [{ host: "plain.example.com", paths: [{ path: "/plain", service: "plain", port: 80 }] }],
            }),
        ]);
        assertImported(r);
        assert.equal(r.config[TLS].httpsRedirect, false);
        assert.match(
            line(r.err, /^TLS:/),
            /httpsRedirect false: ingress-nginx redirected only its TLS hosts.*plain\.example\.com has no certificate/,
        );
        assert.match(
            line(r.err, /^app plain:/),
            /browsers do not keep it from plain-HTTP responses on plain\.example\.com/,
        );
    });

    it("--acme-email: issuer acme, no redirect, no wildcard hosts", () => {
        const r = withTls([{ hosts: ["shop.example.com", "*.example.com"], secretName: "t" }], {}, [
            "--acme-email",
            "ops@example.com",
        ]);
        assertImported(r);
        assert.deepEqual(r.config[TLS], {
            enabled: true,
            hosts: ["shop.example.com"],
            issuer: "acme",
            acme: { email: "ops@example.com" },
        });
        assert.match(r.err, /not mapped: "\*\.example\.com" is a wildcard, which ACME HTTP-01 cannot issue/);
    });

    it("a TLS entry without hosts is not mapped", () => {
        const r = withTls([{ secretName: "default-cert" }]);
        assertImported(r);
        assert.equal(r.config[TLS], undefined);
        assert.match(
            line(r.err, /TLS \(no hosts\)/),
            /not mapped: it names no host: ingress-nginx served it as the default certificate/,
        );
    });
});

describe("istio-sticky-import: the report", () => {
    it("gives every Ingress, path and annotation one of the three verdicts", () => {
        const r = importOf([
            cart({
                affinity: "cookie",
                "session-cookie-max-age": "60",
                "proxy-body-size": "8m",
                "cert-manager.io/cluster-issuer": "letsencrypt",
            }),
            ingress({ name: "x", className: "traefik", rules: [{ paths: [{ path: "/x", service: "x", port: 80 }] }] }),
        ]);
        assertImported(r);
        const lines = r.err.split("\n").filter((l) => /^\s*(Ingress|path|default backend|annotation|TLS [^:])/.test(l));
        assert.ok(lines.length >= 6, r.err);
        for (const l of lines) assert.match(l, /: (mapped exactly(: .+)?|mapped approximately: .+|not mapped: .+)$/, l);
        assert.match(
            annotationLine(r.err, "proxy-body-size"),
            /not mapped: the import maps session affinity and routing only/,
        );
        assert.match(
            line(r.err, /annotation cert-manager\.io\/cluster-issuer/),
            /not mapped: the gateway's certificate comes from istio-sticky:tls/,
        );
        assert.match(line(r.err, /^order:/), /ingress-nginx's order/);
    });

    it("writes the stack config only to stdout, with a header, and it validates", () => {
        const r = importOf([cart({ affinity: "cookie" })]);
        assertImported(r);
        assert.match(r.out, /^# Made by istio-sticky-import from <stdin>: 1 app\(s\)/);
        assert.deepEqual(Object.keys(r.config).sort(), [APPS, MESH].sort());
        assert.doesNotMatch(r.out, /^(Ingress|app|order)/m);
    });
});

describe("istio-sticky-import: the shop fixture (every mapping at once)", () => {
    const r = () => run(fixtureArgv("shop"));

    it("skips the Ingress of another controller, and geo's second Ingress loses to the first that names the Service", () => {
        const { err, apps } = r();
        assert.deepEqual(
            apps.map((a) => [a.name, a.affinity.mode]),
            [
                ["cart", "cookie"],
                ["account", "persistentCookie"],
                ["search", "header"],
                ["geo", "header"],
                ["api", "queryParameter"],
                ["greeter", "cookie"],
            ],
        );
        assert.match(line(err, /^Ingress shop\/legacy:/), /not mapped: spec\.ingressClassName "traefik"/);
        assert.match(
            annotationLine(
                err.slice(err.indexOf("\nIngress shop/geo"), err.indexOf("\nIngress shop/api")),
                "upstream-hash-by",
            ),
            /not mapped: ingress-nginx used Ingress shop\/search's value for Service shop\/geo/,
        );
    });

    it("does not warn of a Secure cookie on plain HTTP for a cookie the app sets (Envoy only hashes it)", () => {
        assert.doesNotMatch(line(r().err, /^app greeter:/), /Secure/);
    });
});

describe("istio-sticky-import: the hosts fixture (routing by host)", () => {
    const r = () => run(fixtureArgv("hosts"));

    it("gives each host's Service at / an app on that host, one app to the Service on both, and refuses the second Service for b.example.com /", () => {
        const { err, apps, config } = r();
        assert.deepEqual(
            apps.map((a) => [a.name, a.hosts, a.path, a.affinity.mode]),
            [
                ["home-a", ["a.example.com"], "/", "cookie"],
                ["home-b", ["b.example.com"], "/", "header"],
                ["docs", ["a.example.com", "b.example.com"], "/docs", "cookie"],
                ["landing", ["*.example.com"], "/", "sourceIp"],
            ],
        );
        assert.deepEqual(config[MESH].gateway.hosts, ["*.example.com"]);
        assert.match(line(err, /^Ingress web\/home-b-next:/), /not mapped: none of its paths was mapped/);
        assert.match(
            line(err, /^\s*path b\.example\.com \/ .*not mapped/),
            /on b\.example\.com, the path "\/" already goes to app home-b/,
        );
        assert.match(
            line(err, /^gateway hosts:/),
            /a\.example\.com, b\.example\.com left out: the wildcard \*\.example\.com covers them/,
        );
    });
});

describe("istio-sticky-import: each fixture's stack renders and holds against Istio's rules", () => {
    for (const fixture of FIXTURE_NAMES) {
        it(`${fixture}: buildPlan's objects give the rules oracle no error`, () => {
            const stack = fixtureStack(fixture);
            const docs = planDocuments(buildPlan(stack, { demoAppSource: "x" }));
            const errors = findingsForStack(stack, docs).filter((f) => f.severity === "error");
            assert.deepEqual(
                errors.map((f) => `${f.rule} ${f.object}: ${f.message}`),
                [],
            );
            // The imported affinity reaches each app's DestinationRule, on the existing Service's host.
            for (const app of stack.apps) {
                const dr = docs.find(
                    (d) =>
                        d.kind === "DestinationRule" &&
                        d.metadata.name === app.name &&
                        d.metadata.namespace === app.namespace,
                );
                assert.ok(dr, `${fixture}: no DestinationRule for ${app.name}`);
                assert.equal((dr.spec as any).host, `${app.service!.name}.${app.namespace}.svc.cluster.local`);
                const hash = (dr.spec as any).trafficPolicy.loadBalancer.consistentHash;
                if (app.affinity.mode === "cookie") assert.equal(hash.httpCookie.name, app.affinity.cookie!.name);
                if (app.affinity.mode === "header") assert.equal(hash.httpHeaderName, app.affinity.headerName);
                if (app.affinity.mode === "queryParameter")
                    assert.equal(hash.httpQueryParameterName, app.affinity.queryParameterName);
            }
        });
    }
});

/**
 * The mesh lab (lab/): each fixture's plan through istiod's own config pipeline, the Envoy
 * configuration it generates held against the stack (lab/expect.ts: checkXds), with the existing
 * Services stood up as a team's own workload (lab/existing.ts). Builds the lab's Go program the
 * first time (minutes); needs the real charts.
 */
describe("istio-sticky-import: each fixture's stack in the mesh lab (istiod's xDS)", function () {
    const checks = new Map<string, StackXds>();
    const plans = new Map<string, Plan>();

    before(function () {
        this.timeout(20 * 60_000);
        if (!findCharts()) {
            console.log(
                "      skipped: needs ../shared/charts (Istio's istiod and gateway charts; or set ISTIO_STICKY_CHARTS)",
            );
            this.skip();
        }
        const runs = FIXTURE_NAMES.map((fixture) => {
            const plan = buildPlan(fixtureStack(fixture), { demoAppSource: "x" });
            plans.set(fixture, plan);
            return { fixture, plan, world: buildWorld(plan, { name: `import ${fixture}` }) };
        });
        const results = generateXds(runs.map((x) => x.world.xds));
        runs.forEach((x, i) => checks.set(x.fixture, checkXds(x.plan, results[i], x.world.gatewayPorts)));
    });

    for (const fixture of FIXTURE_NAMES) {
        it(`${fixture}: istiod gives the gateway what the imported stack asks for`, () => {
            const check = checks.get(fixture);
            assert.ok(check, `${fixture} did not run`);
            const problems = [
                ...check.problems,
                ...check.apps.flatMap((a) => a.problems.map((p) => `${a.name}: ${p}`)),
            ];
            assert.deepEqual(problems, []);
            assert.ok(check.ok);
            assert.deepEqual(
                check.apps.map((a) => [a.name, a.mode]),
                plans.get(fixture)!.settings.apps.map((a) => [a.name, a.affinity.mode]),
            );
        });
    }
});

describe("istio-sticky-import: docs/ingress-nginx.md", () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "ingress-nginx.md"), "utf8");

    it("shows the command's options as the command prints them", () => {
        const options = IMPORT_USAGE.split("\n").filter((l) => /^ {2}-/.test(l));
        assert.ok(options.length >= 5);
        for (const o of options)
            assert.ok(doc.includes(o), `docs/ingress-nginx.md lacks the option line ${JSON.stringify(o)}`);
    });

    it("names every annotation the import reads in its mapping", () => {
        for (const a of KNOWN_ANNOTATIONS) assert.match(doc, new RegExp(`\`${a.replace(/[-]/g, "\\-")}[:\` ]`), a);
    });
});
