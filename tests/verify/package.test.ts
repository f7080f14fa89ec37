import { strict as assert } from "assert";
import * as path from "path";
import { VERIFY_TOOL } from "../../components/settings/versions";
import { packagesImportedBy, sourceFiles } from "../support/imports";

const VERIFY_DIR = path.join(__dirname, "..", "..", "verify");

describe("the verify tool as a package of its own (istio-sticky-verify)", () => {
    const pkg = require(path.join(VERIFY_DIR, "package.json"));

    it("is the name and version the stack outputs tell people to npx", () => {
        assert.equal(VERIFY_TOOL, `${pkg.name}@${pkg.version}`);
        assert.equal(pkg.version, require("../../package.json").version, "released together with istio-sticky");
        assert.deepEqual(Object.keys(pkg.bin), ["istio-sticky-verify"]);
    });

    it("declares every package its code loads, and nothing of istio-sticky or Pulumi", () => {
        const used = [...new Set(sourceFiles(VERIFY_DIR).flatMap(packagesImportedBy))].sort();
        assert.deepEqual(used, Object.keys(pkg.dependencies).sort());
        assert.ok(!used.some((p) => p.startsWith("@pulumi/") || p === "istio-sticky"));
    });
});
