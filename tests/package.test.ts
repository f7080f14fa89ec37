import { strict as assert } from "assert";
import * as path from "path";

describe("the built package (what other programs import)", () => {
    const pkg = require("../package.json");
    const entry = path.join(__dirname, "..", pkg.main);

    it("exports the components, enums and pure layer from package.json main", () => {
        const lib = require(entry);
        for (const name of ["IstioMesh", "StickyApp", "StickySessions", "parseStackConfig", "buildPlan", "planDocuments", "AffinityMode", "HashAlgorithm", "GatewayServiceType"]) {
            assert.ok(lib[name], `${name} is not exported by ${pkg.main}`);
        }
        assert.equal(lib.AffinityMode.PersistentCookie, "persistentCookie");
    });

    it("finds the demo app from the built files", () => {
        const { demoAppSource } = require(path.join(path.dirname(entry), "objects", "demoApp.js"));
        assert.match(demoAppSource(), /SessionCounters/);
    });
});
