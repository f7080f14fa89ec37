import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ESLint } from "eslint";

/** The layering rule (eslint.config.mjs) refuses an import that runs against the layers. */
describe("lint: imports flow one way through the layers", () => {
    const eslint = new ESLint({ cwd: path.join(__dirname, "..") });
    const lint = async (file: string, code: string) =>
        (await eslint.lintText(code, { filePath: path.join(__dirname, "..", file) }))[0].messages.map((m) => m.message);
    /** Fails unless lint refuses this import statement in `file` with a message matching `message`. */
    const refuses = async (file: string, statement: string, message: RegExp) =>
        assert.match((await lint(file, `${statement}\n`)).join(), message);

    it("refuses a pure layer importing a later one, or Pulumi", async () => {
        await refuses(
            "components/settings/probe.ts",
            'import { buildPlan } from "../plan/stack";',
            /components\/settings may not import/,
        );
        await refuses(
            "components/manifests/probe.ts",
            'import * as p from "@pulumi/pulumi";',
            /pure layers build plain data/,
        );
        await refuses(
            "components/plan/probe.ts",
            'import { Registrar } from "../registration/registrar";',
            /components\/plan may not import/,
        );
    });

    it("refuses the components importing the verify tool, and tools importing tests", async () => {
        await refuses(
            "components/probe.ts",
            'import { verifyStickiness } from "../verify/run";',
            /does not import its CLIs, verify tool/,
        );
        await refuses("cli/probe.ts", 'import { stackWith } from "../tests/support/fixtures";', /do not import tests/);
    });

    it("refuses the lab reaching into the package past its entry points, and accepts the entry points", async () => {
        await refuses(
            "lab/probe.ts",
            'import { buildPlan } from "../components/plan/stack";',
            /the lab is a workspace of its own/,
        );
        await refuses(
            "lab/cluster/probe.ts",
            'import { PROJECT_DIR } from "../../cli/stackFiles";',
            /the lab is a workspace of its own/,
        );
        await refuses(
            "lab/probe.ts",
            'import { buildPlan } from "istio-sticky/dist/components/plan/stack";',
            /the lab imports the package's entry points/,
        );
        assert.deepEqual(
            await lint("lab/probe.ts", 'import { buildPlan } from "istio-sticky";\nexport const x = buildPlan;\n'),
            [],
        );
    });

    it("accepts imports that follow the layers", async () => {
        assert.deepEqual(
            await lint(
                "components/plan/probe.ts",
                'import { buildNamespace } from "../manifests/namespace";\nexport const x = buildNamespace;\n',
            ),
            [],
        );
    });
});

/** `npm run lint` runs dpdm over every TypeScript file: two modules that import each other, if only types, fail it. */
describe("lint: no import circles, types included", function () {
    this.timeout(60_000);
    const ROOT = path.join(__dirname, "..");
    const dpdm = /dpdm [^&]+/.exec(require(path.join(ROOT, "package.json")).scripts.lint as string)![0].trim();

    it("fails on a circle made only of type imports, naming it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-circle-"));
        try {
            fs.writeFileSync(
                path.join(dir, "a.ts"),
                'import type { B } from "./b";\nexport interface A { b?: B }\nexport const a = 1;\n',
            );
            fs.writeFileSync(path.join(dir, "b.ts"), 'import type { A } from "./a";\nexport interface B { a?: A }\n');
            const run = spawnSync("sh", ["-c", `${path.join(ROOT, "node_modules", ".bin")}/${dpdm}`], {
                cwd: dir,
                encoding: "utf8",
                timeout: 50_000,
            });
            assert.equal(run.status, 1, run.stdout + run.stderr);
            assert.match(run.stdout, /1\) (a\.ts -> b\.ts|b\.ts -> a\.ts)/);
            fs.writeFileSync(path.join(dir, "b.ts"), "export interface B { a?: number }\n");
            const clean = spawnSync("sh", ["-c", `${path.join(ROOT, "node_modules", ".bin")}/${dpdm}`], {
                cwd: dir,
                encoding: "utf8",
                timeout: 50_000,
            });
            assert.equal(clean.status, 0, clean.stdout + clean.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
