import { strict as assert } from "assert";
import * as path from "path";

describe("the built package (what other programs import)", () => {
    const pkg = require("../package.json");
    const entry = path.join(__dirname, "..", pkg.main);

    it("exports the components, enums and pure layer from package.json main", () => {
        const lib = require(entry);
        for (const name of [
            "IstioMesh",
            "StickyApp",
            "StickySessions",
            "GatewayTls",
            "parseStackConfig",
            "parseStack",
            "buildPlan",
            "planDocuments",
            "planYaml",
            "AffinityMode",
            "HashAlgorithm",
            "GatewayServiceType",
            "demoAppSource",
        ]) {
            assert.ok(lib[name], `${name} is not exported by ${pkg.main}`);
        }
        assert.equal(lib.AffinityMode.PersistentCookie, "persistentCookie");
    });

    it("finds the demo app from the built files", () => {
        const { demoAppSource } = require(entry);
        assert.match(demoAppSource(), /SessionCounters/);
    });
});
