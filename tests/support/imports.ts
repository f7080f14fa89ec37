import * as fs from "fs";
import * as path from "path";
import { builtinModules } from "module";
import * as ts from "typescript";

/** The TypeScript files under `dir` (recursively), tests and build output left out. */
export function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return ["dist", "node_modules"].includes(e.name) ? [] : sourceFiles(p);
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
    });
}

/** The npm packages a file imports or requires at run time (type-only imports left out), by package name. */
export function packagesImportedBy(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const specifiers: string[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier))
            specifiers.push(node.moduleSpecifier.text);
        if (
            ts.isExportDeclaration(node) &&
            !node.isTypeOnly &&
            node.moduleSpecifier &&
            ts.isStringLiteral(node.moduleSpecifier)
        )
            specifiers.push(node.moduleSpecifier.text);
        if (
            ts.isCallExpression(node) &&
            node.expression.getText(source) === "require" &&
            node.arguments.length === 1 &&
            ts.isStringLiteral(node.arguments[0])
        ) {
            specifiers.push(node.arguments[0].text);
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    const builtins = new Set(builtinModules);
    return [
        ...new Set(
            specifiers
                .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtins.has(s.split("/")[0]))
                .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0])),
        ),
    ].sort();
}
