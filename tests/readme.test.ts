import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig } from "../components/settings/validate";
import { buildPlan } from "../components/plan/stack";
import { planDocuments } from "../components/plan/render";
import { PROJECT_DIR } from "../cli/stackFiles";

describe("README", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");

    it("shows in its configuration block a stack that renders", () => {
        const section = readme.slice(readme.indexOf("## Configuration"));
        const block = /```yaml\n([\s\S]*?)```/.exec(section)![1];
        const { value } = parseStackConfig(parse(block).config);
        const kinds = new Set(planDocuments(buildPlan(value, { demoAppSource: "// app" })).map((d) => d.kind));
        for (const kind of ["HelmRelease", "DestinationRule", "EnvoyFilter", "HorizontalPodAutoscaler", "Certificate"]) assert.ok(kinds.has(kind), kind);
        assert.equal(value.apps[0].affinity.maglevTableSize, 65537);
    });

    it("gives the test command CI runs and a pipeable render command", () => {
        assert.match(readme, /^bash tests\/install-proxies\.sh && npm ci && npm test/m);
        assert.match(fs.readFileSync(path.join(PROJECT_DIR, ".ci", "run"), "utf8"), /bash tests\/install-proxies\.sh && npm ci/);
        assert.match(readme, /^npm run -s render -- --stack dev/m);
    });
});
