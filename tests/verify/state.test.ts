import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CookieJar } from "tough-cookie";
import { parseVerifyOptions, VerifyUsageError } from "../../verify/options";
import { verifyStickiness } from "../../verify/run";
import { checkWritable, readSavedRun, SavedRun, VerifyStateError, writeSavedRun } from "../../verify/state";

describe("verify/state: the --save and --resume file", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "sticky-state-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const file = (name: string, content: unknown) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
        return p;
    };
    const run: SavedRun = {
        version: 1,
        url: "http://127.0.0.1:1/",
        mode: "header",
        key: "x-user",
        sessions: [{ id: "s1-abc", topPod: "pod-1" }, { id: "s2-abc", topPod: "pod-2" }, { id: "s3-abc" }],
    };
    const stateError = (p: string) => {
        try {
            readSavedRun(p);
        } catch (e) {
            assert.ok(e instanceof VerifyStateError, String(e));
            return e.message;
        }
        assert.fail("expected a VerifyStateError");
    };
    const usage = (input: object) => {
        try {
            parseVerifyOptions(input);
        } catch (e) {
            assert.ok(e instanceof VerifyUsageError, String(e));
            return e.problems;
        }
        assert.fail("expected a usage error");
    };

    it("writes a saved run and reads it back, cookie jars included", () => {
        const jar = new CookieJar();
        jar.setCookieSync("sticky=pod-2; Path=/", "http://127.0.0.1:1/");
        const withCookies: SavedRun = {
            ...run,
            mode: "cookie",
            key: undefined,
            sessions: [{ id: "s1-abc", cookies: jar.serializeSync() as never, topPod: "pod-2" }],
        };
        const p = path.join(dir, "roundtrip.json");
        writeSavedRun(p, withCookies);
        const back = readSavedRun(p);
        assert.deepEqual(back, JSON.parse(JSON.stringify(withCookies)));
        assert.equal(
            CookieJar.deserializeSync(back.sessions[0].cookies as never).getCookieStringSync("http://127.0.0.1:1/"),
            "sticky=pod-2",
        );
        assert.deepEqual(
            fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
            [],
            "no temporary file left",
        );
    });

    it("says which file is unreadable, no JSON, or no saved run of version 1", () => {
        assert.match(stateError(path.join(dir, "missing.json")), /^cannot read .*missing\.json \(ENOENT\)$/);
        assert.match(stateError(file("text.json", "sessions: 3\n")), /text\.json is not JSON \(/);
        assert.match(stateError(file("empty.json", "")), /empty\.json is not JSON/);
        assert.match(
            stateError(file("v2.json", { ...run, version: 2 })),
            /v2\.json is not a saved run of version 1 \(version 2\)$/,
        );
        assert.match(
            stateError(file("noversion.json", { sessions: [] })),
            /is not a saved run of version 1 \(no version\)$/,
        );
        assert.match(stateError(file("array.json", [run])), /is not a saved run of version 1 \(no version\)$/);
        assert.match(stateError(file("null.json", "null")), /is not a saved run of version 1/);
        assert.match(
            stateError(file("nosessions.json", { ...run, sessions: [] })),
            /nosessions\.json: sessions: must hold at least one session$/,
        );
        assert.match(
            stateError(file("badid.json", { ...run, sessions: [{ id: "a b" }] })),
            /badid\.json: sessions\.0\.id: must be a session id/,
        );
        assert.match(
            stateError(file("extra.json", { ...run, colour: "red" })),
            /extra\.json: Unrecognized key: "colour"$/,
        );
        assert.match(
            stateError(file("twice.json", { ...run, sessions: [{ id: "s1" }, { id: "s1" }] })),
            /twice\.json: session s1 appears twice$/,
        );
        assert.match(
            stateError(file("cookies.json", { ...run, sessions: [{ id: "s1", cookies: { cookies: "none" } }] })),
            /cookies\.json: sessions\.0\.cookies\.cookies: /,
        );
    });

    it("takes --sessions from the saved run, and names the flag that does not match it", () => {
        const saved = file("header.json", run);
        const o = parseVerifyOptions({ url: "http://127.0.0.1:1/", mode: "header", resume: saved });
        assert.deepEqual([o.sessions, o.resume, o.key], [3, saved, "x-user"]);
        assert.equal(parseVerifyOptions({ url: "http://127.0.0.1:1/", sessions: 3, resume: saved }).sessions, 3);
        assert.deepEqual(usage({ url: "http://127.0.0.1:1/", sessions: 4, resume: saved }), [
            `--sessions: must be 3, the sessions saved in ${saved} (or left out), not 4`,
        ]);
        assert.deepEqual(usage({ url: "http://127.0.0.1:1/", mode: "cookie", resume: saved }), [
            `--mode: must be header, the mode saved in ${saved}, not cookie`,
            `--key: must be x-user, the key saved in ${saved}, not left out`,
        ]);
        assert.deepEqual(usage({ url: "http://127.0.0.1:1/", key: "x-other", resume: saved }), [
            `--key: must be x-user, the key saved in ${saved}, not x-other`,
        ]);
        assert.deepEqual(usage({ url: "http://127.0.0.1:1/", resume: file("bad.json", "{") }), [
            `--resume: ${path.join(dir, "bad.json")} is not JSON (${(() => {
                try {
                    JSON.parse("{");
                } catch (e) {
                    return (e as Error).message;
                }
            })()})`,
        ]);
    });

    it("refuses options built by hand that do not match the saved run, and a --save it could not write, before any request", async () => {
        const saved = file("hand.json", run);
        // Port 1 refuses: a request would show up as an error, but none is made.
        const opts = { ...parseVerifyOptions({ url: "http://127.0.0.1:1/", sessions: 3, resume: saved }), sessions: 5 };
        await assert.rejects(
            verifyStickiness(opts),
            (e: unknown) => e instanceof VerifyUsageError && /^--sessions: must be 3/.test(e.message),
        );
        await assert.rejects(
            verifyStickiness({ ...opts, sessions: 3, resume: path.join(dir, "gone.json") }),
            (e: unknown) =>
                e instanceof VerifyUsageError && /^--resume: cannot read .*gone\.json \(ENOENT\)$/.test(e.message),
        );
        const noDir = path.join(dir, "no", "such", "dir", "after.json");
        await assert.rejects(
            verifyStickiness(parseVerifyOptions({ url: "http://127.0.0.1:1/", save: noDir })),
            (e: unknown) =>
                e instanceof VerifyUsageError &&
                e.message === `--save: cannot write ${noDir}: ${path.dirname(noDir)} does not exist`,
        );
        assert.throws(() => checkWritable(dir), /it is a directory/);
        assert.doesNotThrow(() => checkWritable(path.join(dir, "new.json")));
    });
});
