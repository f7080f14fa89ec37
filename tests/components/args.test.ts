/**
 * The components' args are declared once, in the validation schema and the table of what each
 * component takes; components/args.ts is generated from them (`npm run -s args`). This keeps the
 * committed file equal to the generator's output, and shows the message a stale file gets.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ARGS_FILE, generateArgs, staleArgs, UPDATE_ARGS } from "../../cli/args";
import { COMPONENT_ARGS } from "../../components/settings/componentArgs";
import { APP_KEYS } from "../../components/settings/schema";

const ROOT = path.join(__dirname, "..", "..");

describe("the components' args, generated from the schema (components/args.ts)", function () {
    this.timeout(60_000);
    let generated: string;
    before(async () => {
        generated = await generateArgs(ROOT);
    });

    it(`is the committed file (run \`${UPDATE_ARGS}\` after changing the schema or the table)`, () => {
        const problem = staleArgs(fs.readFileSync(path.join(ROOT, ARGS_FILE), "utf8"), generated);
        assert.equal(problem, undefined, problem);
    });

    it(`fails on a stale file, naming the first line that differs and telling to run \`${UPDATE_ARGS}\``, () => {
        const stale = generated.replace("    /** @default 8080 */\n    port?: number;\n", "");
        assert.notEqual(stale, generated);
        const problem = staleArgs(stale, generated);
        assert.match(
            problem ?? "",
            /^components\/args\.ts is stale \(line \d+: committed ".*", generated "    \/\*\* @default 8080 \*\/"\): run `npm run -s args` and commit it$/,
        );
        assert.throws(() => assert.equal(staleArgs(stale, generated), undefined), /run `npm run -s args`/);
    });

    it("gives StickyApp every app setting, and each component's fields a description or the schema's", () => {
        const stickyApp = COMPONENT_ARGS.find((c) => c.name === "StickyAppArgs")!;
        for (const key of APP_KEYS) assert.ok(key in stickyApp.fields, key);
        const body = (name: string) => new RegExp(`export interface ${name} \\{\\n([^}]*)\\n\\}`).exec(generated)![1];
        for (const c of COMPONENT_ARGS) {
            const fields = body(c.name)
                .match(/^    \w+\??:/gm)!
                .map((f) => f.replace(/^ +|\??:$/g, ""));
            assert.deepEqual(fields, Object.keys(c.fields), c.name);
        }
    });
});
