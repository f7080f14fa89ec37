/**
 * Every link of the project's Markdown reaches its target: relative links to a file that exists
 * (and, with a #fragment, to one of its headings, as GitHub and npm make their anchors), in the
 * repository and in the package as npm installs it (README.md and docs/ are in the tarball).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import GithubSlugger from "github-slugger";
import { lexer, type Token } from "marked";

const ROOT = path.join(__dirname, "..");

interface Link {
    file: string;
    href: string;
}

/** The links of a Markdown text (code blocks and code spans hold none). */
function linksOf(file: string, text: string): Link[] {
    const out: Link[] = [];
    const walk = (tokens: readonly Token[]) => {
        for (const t of tokens) {
            if (t.type === "link" || t.type === "image") out.push({ file, href: (t as { href: string }).href });
            const children = (t as { tokens?: Token[] }).tokens;
            if (children) walk(children);
            const items = (t as { items?: { tokens: Token[] }[] }).items;
            if (items) items.forEach((i) => walk(i.tokens));
            const rows = (t as { header?: { tokens: Token[] }[]; rows?: { tokens: Token[] }[][] }).rows;
            if (rows)
                [(t as { header: { tokens: Token[] }[] }).header, ...rows].forEach((r) =>
                    r.forEach((c) => walk(c.tokens)),
                );
        }
    };
    walk(lexer(text));
    return out;
}

/** The anchors GitHub and npm give a Markdown file's headings. */
function anchorsOf(text: string): Set<string> {
    const slugger = new GithubSlugger();
    return new Set(
        lexer(text)
            .filter((t) => t.type === "heading")
            .map((t) => slugger.slug((t as { text: string }).text.replace(/`/g, ""))),
    );
}

/** What is wrong with the relative links of `files` (paths relative to `root`), where `exists` says which files there are. */
function brokenLinks(root: string, files: readonly string[], exists: (rel: string) => boolean): string[] {
    const problems: string[] = [];
    for (const file of files) {
        const text = fs.readFileSync(path.join(root, file), "utf8");
        for (const { href } of linksOf(file, text)) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
            const [target, fragment] = href.split("#");
            const rel =
                target === ""
                    ? file
                    : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURIComponent(target)));
            if (rel.startsWith("..") || !exists(rel)) {
                problems.push(`${file}: ${href} (no ${rel})`);
                continue;
            }
            if (
                fragment !== undefined &&
                rel.endsWith(".md") &&
                !anchorsOf(fs.readFileSync(path.join(root, rel), "utf8")).has(fragment)
            )
                problems.push(`${file}: ${href} (no heading #${fragment} in ${rel})`);
        }
    }
    return problems;
}

describe("links in the Markdown", () => {
    const tracked = spawnSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).stdout.trim().split("\n");

    it("resolve in the repository, to files and headings", () => {
        const markdown = tracked.filter((f) => f.endsWith(".md"));
        assert.ok(markdown.includes("README.md") && markdown.length > 15);
        const files = new Set(tracked);
        const dirs = new Set(
            tracked.flatMap((f) =>
                f
                    .split("/")
                    .slice(0, -1)
                    .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
            ),
        );
        assert.deepEqual(
            brokenLinks(ROOT, markdown, (rel) => files.has(rel) || dirs.has(rel.replace(/\/$/, ""))),
            [],
        );
    });

    it("resolve in the package npm installs (npm pack): README's and every shipped doc's", () => {
        const packed: string[] = JSON.parse(
            spawnSync("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], {
                cwd: ROOT,
                encoding: "utf8",
                timeout: 120_000,
            }).stdout,
        )[0].files.map((f: { path: string }) => f.path);
        const shipped = new Set(packed);
        const markdown = packed.filter((f) => f.endsWith(".md"));
        assert.ok(
            markdown.includes("README.md") && markdown.includes("docs/use-in-your-program.md"),
            markdown.join(", "),
        );
        assert.deepEqual(
            brokenLinks(ROOT, markdown, (rel) => shipped.has(rel)),
            [],
        );
    });

    it("are caught when broken: a missing file, a missing heading, a file outside the package", () => {
        const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "sticky-links-"));
        fs.mkdirSync(path.join(dir, "docs"));
        fs.writeFileSync(
            path.join(dir, "docs", "a.md"),
            "# Title here\n\nSee [b](b.md), [here](#title-here), [gone](#nope), [up](../x.md), `[code](no.md)`.\n",
        );
        const problems = brokenLinks(dir, ["docs/a.md"], (rel) => rel === "docs/a.md");
        fs.rmSync(dir, { recursive: true, force: true });
        assert.deepEqual(problems, [
            "docs/a.md: b.md (no docs/b.md)",
            "docs/a.md: #nope (no heading #nope in docs/a.md)",
            "docs/a.md: ../x.md (no x.md)",
        ]);
    });
});
