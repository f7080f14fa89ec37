/**
 * The commands a stack exports for an app, run exactly as a user pastes them: through `sh`, in the
 * folder of a program where the package is installed (here: this repository, whose own bins npx
 * runs), against a sticky proxy on 127.0.0.1. Once with $INGRESS (a NodePort gateway: the user sets
 * the base URL), once with the literal URL of a load balancer.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StickySessions, AffinityMode, GatewayServiceType, type AppEndpoint } from "istio-sticky";
import { installMocks, Recorder, valueOf } from "../support/mocks";
import { startStickyBackend, StickyBackend } from "../support/stickyBackend";

const ROOT = path.join(__dirname, "..", "..");

/**
 * npx runs a folder's own bins from a link it makes in its cache at the first npx there, and keeps
 * that link's bins: a cache of its own per test run is a new user's, whatever this machine ran before.
 */
const NPX_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-npm-cache-"));

/** Runs one exported line with `sh -c`, as pasted into a shell, in `cwd` with `env` added. */
export function runLine(line: string, cwd: string, env: Record<string, string> = {}) {
    const clean = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => k !== "INGRESS" && !k.startsWith("npm_")),
    );
    return spawnSync("sh", ["-c", line], {
        cwd,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...clean, npm_config_cache: NPX_CACHE, ...env },
    });
}

describe("the exported verify and probe lines, through sh (real nginx and demo apps on 127.0.0.1)", function () {
    this.timeout(180_000);
    const rec = new Recorder();
    let backend: StickyBackend;
    let base: string;

    before(async () => {
        backend = await startStickyBackend("cart");
        base = backend.base;
    });
    after(async () => {
        await backend?.stop();
        fs.rmSync(NPX_CACHE, { recursive: true, force: true });
    });

    async function endpointOf(gatewayService: { type: string; ip?: string; httpPort?: number }): Promise<AppEndpoint> {
        await installMocks(rec, { gatewayService });
        const sticky = new StickySessions("exported", {
            mesh: { gateway: { serviceType: gatewayService.type as GatewayServiceType } },
            apps: [{ name: "cart", affinity: { mode: AffinityMode.Header, headerName: "x-user" } }],
        });
        return (await valueOf(sticky.endpoints)).cart;
    }

    it("NodePort: the verify line takes the base URL from $INGRESS, and measures 100 % stickiness", async () => {
        const cart = await endpointOf({ type: "NodePort" });
        assert.equal(cart.url, undefined);
        assert.match(cart.verify, /^npx istio-sticky-verify --url "\$INGRESS\/cart\/" /);
        const r = runLine(cart.verify, ROOT, { INGRESS: base });
        assert.equal(r.status, 0, `${cart.verify}\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^target +${base}/cart/ — mode header \\(x-user\\)`, "m"));
        assert.match(r.stdout, /^stickiness 100\.0 %/m);
        assert.match(r.stdout, /^result +PASS/m);
    });

    it("NodePort: the probe loop sends one session ten times to one pod, whose counter rises by one each time", async () => {
        const cart = await endpointOf({ type: "NodePort" });
        const r = runLine(cart.probe, ROOT, { INGRESS: base });
        assert.equal(r.status, 0, `${cart.probe}\n${r.stderr}`);
        const lines = r.stdout.trim().split("\n");
        assert.equal(lines.length, 10, r.stdout);
        const pod = lines[0].split(" ")[0];
        assert.deepEqual(
            lines,
            lines.map((_, i) => `${pod} count=${i + 1}`),
        );
    });

    it("LoadBalancer: the verify line names the address itself and runs without $INGRESS", async () => {
        const cart = await endpointOf({ type: "LoadBalancer", ip: "127.0.0.1", httpPort: Number(new URL(base).port) });
        assert.equal(cart.url, `${base}/cart/`);
        assert.ok(!cart.verify.includes("$"), cart.verify);
        const r = runLine(cart.verify, ROOT);
        assert.equal(r.status, 0, `${cart.verify}\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^result +PASS/m);
    });

    it("a line with $INGRESS unset fails with verify's usage error rather than reaching some other host", async () => {
        const cart = await endpointOf({ type: "NodePort" });
        const r = runLine(cart.verify, ROOT);
        assert.equal(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /--url/);
    });
});
