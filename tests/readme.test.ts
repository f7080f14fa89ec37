import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig, buildPlan, planDocuments } from "istio-sticky";
import { PROJECT_DIR } from "../cli/stackFiles";

const read = (file: string) => fs.readFileSync(path.join(PROJECT_DIR, file), "utf8");
/** The first YAML block after a heading. */
const yamlAfter = (text: string, heading: string) =>
    /```yaml\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)))![1];
const kindsOf = (block: string) => {
    const { value } = parseStackConfig(parse(block).config);
    return { value, kinds: new Set(planDocuments(buildPlan(value, { demoAppSource: "// app" })).map((d) => d.kind)) };
};

describe("README and docs", () => {
    const readme = read("README.md");

    it("shows in README a stack that renders", () => {
        const { value, kinds } = kindsOf(yamlAfter(readme, "## A stack"));
        assert.deepEqual([value.apps[0].affinity.mode, value.apps[0].affinity.maglevTableSize], ["cookie", 65537]);
        assert.ok(kinds.has("DestinationRule") && kinds.has("HelmRelease"));
    });

    it("shows in docs/configuration.md every setting in a stack that renders", () => {
        const { value, kinds } = kindsOf(yamlAfter(read("docs/configuration.md"), "# Configuration"));
        for (const kind of [
            "HelmRelease",
            "CertManager",
            "DestinationRule",
            "EnvoyFilter",
            "HorizontalPodAutoscaler",
            "Certificate",
        ])
            assert.ok(kinds.has(kind), kind);
        assert.equal(value.apps[0].affinity.maglevTableSize, 65537);
        assert.deepEqual(
            [value.apps[1].service?.name, value.apps[1].service?.targetPort, value.apps[1].stripPath],
            ["cart-svc", 8080, false],
        );
        assert.deepEqual(
            [value.mesh.hub, value.tls.chartRepository],
            ["docker.io/istio", "oci://quay.io/jetstack/charts"],
        );
    });

    it("gives the test command CI runs and a pipeable render command", () => {
        assert.match(readme, /^bash tests\/install-proxies\.sh && npm ci && npm test/m);
        assert.match(read(".ci/run"), /bash tests\/install-proxies\.sh && npm ci/);
        // The fast path first: render needs only npm ci (seconds, no root), the tests come after it.
        assert.match(readme, /^npm ci && npm run -s render -- --stack dev/m);
        assert.ok(
            readme.indexOf("npm ci && npm run -s render") <
                readme.indexOf("bash tests/install-proxies.sh && npm ci && npm test"),
        );
    });

    it("links only to docs that exist, and every doc is linked from README", () => {
        const linked = [...readme.matchAll(/\]\((docs\/[a-z-]+\.md)(#[a-z0-9-]+)?\)/g)].map((m) => m[1]);
        for (const file of linked) assert.ok(fs.existsSync(path.join(PROJECT_DIR, file)), file);
        const docs = fs.readdirSync(path.join(PROJECT_DIR, "docs")).map((f) => `docs/${f}`);
        assert.deepEqual([...new Set(linked)].sort(), docs.sort());
        // Links between docs resolve too.
        for (const doc of docs)
            for (const [, target] of read(doc).matchAll(/\]\(([a-z-]+\.md)(#[a-z0-9-]+)?\)/g))
                assert.ok(fs.existsSync(path.join(PROJECT_DIR, "docs", target)), `${doc} → ${target}`);
    });

    it("redirects no command's output onto a file of the repository (a redirect empties it first, even when the command fails)", () => {
        const onto: string[] = [];
        for (const file of ["README.md", ...fs.readdirSync(path.join(PROJECT_DIR, "docs")).map((f) => `docs/${f}`)]) {
            for (const [, code] of read(file).matchAll(/```bash\n([\s\S]*?)```/g)) {
                for (const [, target] of code.matchAll(/(?:^|[^0-9&>])>{1,2}\s*([^\s;|&)]+)/gm)) {
                    if (target.startsWith("/") || target.startsWith("&")) continue;
                    if (fs.existsSync(path.join(PROJECT_DIR, target))) onto.push(`${file}: > ${target}`);
                }
            }
        }
        assert.deepEqual(onto, []);
        // The check sees the redirect the README once had.
        assert.ok(fs.existsSync(path.join(PROJECT_DIR, "stacks", "Pulumi.prod.yaml")));
    });

    it("uses no retired Istio host in a block to copy (yaml, bash, ts)", () => {
        for (const file of ["README.md", ...fs.readdirSync(path.join(PROJECT_DIR, "docs")).map((f) => `docs/${f}`)]) {
            for (const [, lang, code] of read(file).matchAll(/```(yaml|bash|ts)\n([\s\S]*?)```/g))
                assert.doesNotMatch(
                    code,
                    /registry\.istio\.io|gcr\.io\/istio-release|istio-release\.storage\.googleapis\.com/,
                    `${file} (${lang})`,
                );
        }
    });
});
