import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { VERIFY_TOOL } from "../../components/settings/versions";
import { packagesImportedBy, sourceFiles } from "../support/imports";

const ROOT = path.join(__dirname, "..", "..");
const VERIFY_DIR = path.join(ROOT, "verify");

describe("the verify tool as a bin of istio-sticky (istio-sticky-verify)", () => {
    const pkg = require("../../package.json");

    it("is the bin the stack outputs tell people to npx, built into the files the package ships", () => {
        assert.equal(VERIFY_TOOL, "istio-sticky-verify");
        assert.equal(pkg.bin[VERIFY_TOOL], "dist/verify/cli.js");
        assert.ok(pkg.files.includes("dist/verify/*.js"), "dist/verify is in the tarball");
        const bin = fs.readFileSync(path.join(ROOT, pkg.bin[VERIFY_TOOL]), "utf8");
        assert.match(bin, /^#!\/usr\/bin\/env node\n/, "the bin runs as a program");
    });

    it("loads only packages istio-sticky declares, and nothing of Pulumi", () => {
        const used = [...new Set(sourceFiles(VERIFY_DIR).flatMap(packagesImportedBy))].sort();
        assert.deepEqual(used, ["tough-cookie", "undici", "zod"]);
        for (const p of used) assert.ok(p in pkg.dependencies, `${p} is a dependency`);
    });

    it("stays out of programs that use the components: loading them loads no HTTP client", () => {
        const probe = `require(${JSON.stringify(path.join(ROOT, pkg.main))}); const loaded = Object.keys(require.cache); console.log(JSON.stringify(["undici", "tough-cookie", "/dist/verify/"].filter((m) => loaded.some((f) => f.includes(m)))));`;
        const r = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8", timeout: 60000 });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), []);
    });
});
