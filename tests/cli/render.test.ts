import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { parseAllDocuments } from "yaml";
import { runRender } from "../../cli/render";
import { listStacks, PROJECT_DIR } from "../../cli/stackFiles";
import { DEFAULT_ISTIO_VERSION } from "../../components/settings/versions";

function render(argv: string[], projectDir = PROJECT_DIR) {
    let out = "";
    let err = "";
    const code = runRender(argv, { out: (s) => (out += s), err: (s) => (err += s) }, projectDir);
    return { code, out, err };
}

/** A throw-away project with one stack file. */
function projectWith(stackYaml: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-render-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: t\nruntime: nodejs\nstackConfigDir: stacks\n");
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.t.yaml"), stackYaml);
    return dir;
}

describe("cli/render", () => {
    it("prints every object of the dev stack, releases as HelmRelease documents and cert-manager as its component's Helm options", () => {
        const { code, out } = render(["--stack", "dev"]);
        assert.equal(code, 0);
        const docs = parseAllDocuments(out).map((d) => d.toJS());
        const releases = docs.filter((d) => d.kind === "HelmRelease");
        assert.deepEqual(
            releases.map((r) => [r.apiVersion, r.metadata.name, r.spec.chart, r.spec.version]),
            [
                ["render.istio-sticky/v1", "istio-base", "base", DEFAULT_ISTIO_VERSION],
                ["render.istio-sticky/v1", "istiod", "istiod", DEFAULT_ISTIO_VERSION],
                ["render.istio-sticky/v1", "istio-ingressgateway", "gateway", DEFAULT_ISTIO_VERSION],
            ],
        );
        const certManager = docs.find((d) => d.kind === "CertManager").spec.helmOptions;
        assert.deepEqual(
            [
                certManager.name,
                certManager.chart,
                certManager.version,
                certManager.values,
                certManager.atomic,
                certManager.maxHistory,
            ],
            [
                "cert-manager",
                "oci://quay.io/jetstack/charts/cert-manager",
                "v1.21.2",
                { crds: { enabled: true, keep: true } },
                true,
                10,
            ],
        );
        const dr = docs.find((d) => d.kind === "DestinationRule");
        assert.equal(dr.spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName, "x-user");
        assert.match(docs.find((d) => d.kind === "ConfigMap").data["server.js"], /SessionCounters/);
    });

    it("names no retired Istio host in any stack, and pins every Istio image to docker.io/istio at the version", () => {
        for (const stack of listStacks(PROJECT_DIR)) {
            const { code, out } = render(["--stack", stack]);
            assert.equal(code, 0, stack);
            assert.doesNotMatch(
                out,
                /registry\.istio\.io|gcr\.io\/istio-release|istio-release\.storage\.googleapis\.com/,
                stack,
            );
            const docs = parseAllDocuments(out).map((d) => d.toJS());
            const istiod = docs.find((d) => d.kind === "HelmRelease" && d.spec.chart === "istiod");
            assert.deepEqual(istiod.spec.values.global, { hub: "docker.io/istio", tag: DEFAULT_ISTIO_VERSION }, stack);
            for (const r of docs.filter((d) => d.kind === "HelmRelease"))
                assert.equal(r.spec.repo, "https://blob.istio.io/istio-release/charts", stack);
        }
    });

    it("renders staging with an Envoy-set cookie and prod with a persistent cookie", () => {
        const staging = parseAllDocuments(render(["-s", "staging"]).out).map((d) => d.toJS());
        assert.deepEqual(
            staging.find((d) => d.kind === "DestinationRule").spec.trafficPolicy.loadBalancer.consistentHash.httpCookie,
            {
                name: "sticky-session",
                path: "/",
                ttl: "60s",
            },
        );
        const prod = parseAllDocuments(render(["--stack", "prod"]).out).map((d) => d.toJS());
        assert.equal(
            prod.find((d) => d.kind === "Service").metadata.labels["istio.io/persistent-session"],
            "sticky-pod",
        );
        assert.equal(
            prod.find((d) => d.metadata.name === "istiod").spec.values.env.PILOT_ENABLE_PERSISTENT_SESSION_FILTER,
            "true",
        );
    });

    it("renders staging's three backends on one path, routed by target, sticky on x-user, on the Gateway API", () => {
        const docs = parseAllDocuments(render(["--stack", "staging"]).out).map((d) => d.toJS());
        const route = docs.find((d) => d.kind === "HTTPRoute" && d.metadata.name === "path-backends");
        assert.deepEqual(
            route.spec.rules.map((r: any) => [
                r.backendRefs[0].name,
                r.matches[0].headers[0].value,
                r.matches[0].path.value,
            ]),
            [
                ["backend-1", "backend-1", "/backends"],
                ["backend-2", "backend-2", "/backends"],
                ["backend-3", "backend-3", "/backends"],
            ],
        );
        const grant = docs.find((d) => d.kind === "ReferenceGrant" && d.metadata.namespace === "backends");
        assert.deepEqual(
            grant.spec.to.map((t: any) => t.name),
            ["backend-1", "backend-2", "backend-3"],
        );
        assert.equal(docs.find((d) => d.kind === "ManifestFile").spec.version, "v1.6.3");
        assert.equal(docs.filter((d) => d.kind === "VirtualService").length, 0);
        const drs = docs.filter((d) => d.kind === "DestinationRule" && d.metadata.namespace === "backends");
        assert.deepEqual(
            drs.map((d) => d.spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName),
            ["x-user", "x-user", "x-user"],
        );
        assert.equal(docs.filter((d) => d.kind === "Namespace" && d.metadata.name === "backends").length, 1);
    });

    it("renders dev's direct routing and prod's autoscaling", () => {
        const dev = parseAllDocuments(render(["--stack", "dev"]).out).map((d) => d.toJS());
        const filter = dev.find((d) => d.kind === "EnvoyFilter");
        assert.deepEqual(
            [filter.metadata.namespace, filter.spec.configPatches[0].match.cluster.subset],
            ["istio-ingress", "direct"],
        );
        const prod = parseAllDocuments(render(["--stack", "prod"]).out).map((d) => d.toJS());
        assert.deepEqual(prod.find((d) => d.kind === "HorizontalPodAutoscaler").spec.maxReplicas, 10);
        assert.ok(prod.find((d) => d.kind === "PodDisruptionBudget"));
        assert.equal(prod.find((d) => d.kind === "Deployment").spec.replicas, undefined);
    });

    it("renders dev's self-signed HTTPS and prod's ACME, and never a Secret or key material", () => {
        const dev = parseAllDocuments(render(["--stack", "dev"]).out).map((d) => d.toJS());
        assert.deepEqual(dev.find((d) => d.kind === "ClusterIssuer").spec, { selfSigned: {} });
        assert.deepEqual(dev.find((d) => d.kind === "Certificate").spec.dnsNames, ["sticky.test"]);
        const servers = dev.find((d) => d.kind === "Gateway").spec.servers;
        assert.deepEqual(
            servers.map((s: any) => [s.port.number, s.tls?.mode ?? null, s.tls?.httpsRedirect ?? null]),
            [
                [80, null, null],
                [443, "SIMPLE", null],
            ],
        );
        const prodText = render(["--stack", "prod"]).out;
        const prod = parseAllDocuments(prodText).map((d) => d.toJS());
        assert.equal(prod.find((d) => d.kind === "ClusterIssuer").spec.acme.email, "ops@example.com");
        assert.equal(prod.find((d) => d.metadata.name === "istiod").spec.values.meshConfig.ingressClass, "istio");
        for (const stack of ["dev", "staging", "prod", "ambient"]) {
            const text = render(["--stack", stack]).out;
            assert.ok(!/^kind: Secret$/m.test(text), `${stack} renders no Secret`);
            assert.ok(!/PRIVATE KEY/.test(text), `${stack} renders no key`);
        }
    });

    it("writes one file per document, in deploy order, with --out", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-out-"));
        const { code, err } = render(["--stack", "dev", "--out", dir]);
        assert.equal(code, 0);
        const files = fs.readdirSync(dir).sort();
        assert.match(err, new RegExp(`wrote ${files.length} documents`));
        assert.equal(files[0], "001-namespace-istio-system.yaml");
        assert.ok(files.includes("003-helmrelease-istio-system-istio-base.yaml"));
    });

    it("fails with the same validation errors as pulumi up", () => {
        const dir = projectWith(
            "config:\n  istio-sticky:apps:\n    - name: web\n      affinity: {mode: header}\n  istio-sticky:bogus: 1\n",
        );
        const { code, err, out } = render(["--stack", "t"], dir);
        assert.equal(code, 1);
        assert.equal(out, "");
        assert.match(err, /istio-sticky:bogus: unknown config key/);
        assert.match(err, /istio-sticky:apps\[0\]\.affinity\.headerName: is required by mode "header"/);
    });

    it("prints warnings on stderr and the objects on stdout", () => {
        const dir = projectWith(
            "config:\n  istio-sticky:apps:\n    - name: web\n      affinity: {mode: cookie, cookie: {name: app-session}}\n",
        );
        const { code, err, out } = render(["--stack", "t"], dir);
        assert.equal(code, 0);
        assert.match(err, /^warning: istio-sticky:apps\[0\]\.affinity\.cookie\.ttl is not set/);
        assert.match(out, /kind: DestinationRule/);
    });

    it("gives usage errors for bad flags and names the stacks it knows", () => {
        assert.equal(render([]).code, 2);
        const unknown = render(["--stack", "dev", "--color"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /usage: istio-sticky-render --stack/);
        const missing = render(["--stack", "qa"]);
        assert.equal(missing.code, 1);
        assert.match(missing.err, /no stack "qa" .*\(stacks: ambient, dev, prod, staging\)/);
    });

    it("runs as `npm run -s render` in its own process, its whole stdout YAML a pipe can take as is", () => {
        const ok = execFileSync("npm", ["run", "-s", "render", "--", "--stack", "dev"], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
        });
        const docs = parseAllDocuments(ok);
        assert.ok(docs.every((d) => d.errors.length === 0));
        assert.ok(
            docs.every((d) => typeof d.toJS().apiVersion === "string" && typeof d.toJS().kind === "string"),
            "every document is an object, no banner lines",
        );
        assert.equal(docs[0].toJS().kind, "Namespace");
        const bad = spawnSync("npm", ["run", "-s", "render", "--", "--stack", "nope"], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
        });
        assert.equal(bad.status, 1);
    });

    it("refuses to write YAML into a pipe that npm's banner has already entered", () => {
        // Without -s, npm prints "> istio-sticky@… render" on stdout before the script runs.
        const r = spawnSync("npm", ["run", "render", "--", "--stack", "dev"], { cwd: PROJECT_DIR, encoding: "utf8" });
        assert.equal(r.status, 2);
        assert.doesNotMatch(r.stdout, /kind:/);
        assert.match(
            r.stderr,
            /npm wrote its banner into the output, which is then not valid YAML: run "npm run -s render -- --stack dev"/,
        );
    });

    it("writes --out afresh: files of an earlier render are gone, other files are never mixed in", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-out-"));
        assert.equal(render(["--stack", "dev", "--out", out]).code, 0);
        const dev = fs.readdirSync(out);
        assert.ok(
            dev.some((f) => /envoyfilter/.test(f)),
            "dev has direct routing",
        );
        assert.equal(render(["--stack", "staging", "--out", out]).code, 0);
        const staging = fs.readdirSync(out);
        assert.ok(
            !staging.some((f) => /envoyfilter/.test(f)),
            `no dev file left among staging's: ${staging.join(", ")}`,
        );
        assert.equal(staging.length, planDocsCount("staging"));
        fs.writeFileSync(path.join(out, "notes.txt"), "mine");
        const mixed = render(["--stack", "dev", "--out", out]);
        assert.equal(mixed.code, 1);
        assert.match(
            mixed.err,
            /--out .* holds files render did not write \(notes\.txt\); choose an empty or new folder/,
        );
        assert.ok(fs.existsSync(path.join(out, "notes.txt")), "nothing of the user's is deleted");
    });

    it("fails fast on an --out it cannot write, before rendering anything", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sticky-out-")), "a-file");
        fs.writeFileSync(file, "");
        const r = render(["--stack", "dev", "--out", path.join(file, "sub")]);
        assert.equal(r.code, 1);
        assert.match(r.err, /^error: cannot write to --out .*a-file\/sub: /);
        assert.doesNotMatch(r.err, /wrote/);
    });

    it("names the stack file of a YAML syntax error, and reads keys without a namespace as the project's", () => {
        const broken = render(["--stack", "t"], projectWith("config:\n  istio-sticky:apps: [\n"));
        assert.equal(broken.code, 1);
        assert.match(broken.err, /Pulumi\.t\.yaml: .*line 3/);
        // Pulumi reads "apps" in a stack of project "t" as "t:apps": an unknown namespace for this program, so it is refused by name.
        const bare = render(
            ["--stack", "t"],
            projectWith("config:\n  apps:\n    - name: web\n  istio-sticky:apps:\n    - name: web\n"),
        );
        assert.equal(bare.code, 1);
        assert.match(
            bare.err,
            /t:apps: not read: its namespace is "t", not "istio-sticky" \(did you mean istio-sticky:apps\?\)/,
        );
    });
});

function planDocsCount(stack: string): number {
    return parseAllDocuments(render(["--stack", stack]).out).length;
}
