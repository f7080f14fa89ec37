// Lint rules that keep the layers apart: imports flow one way,
// settings → policy → manifests → plan → outputs → registration → components → program, CLIs and the verify tool.
import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";

const C = "./components";
/** Each layer and the layers it may not import (everything above it). */
const LAYERS = [
    ["settings", ["policy", "manifests", "plan", "outputs", "registration"]],
    ["policy", ["manifests", "plan", "outputs", "registration"]],
    ["manifests", ["plan", "outputs", "registration"]],
    ["plan", ["outputs", "registration"]],
    ["outputs", ["registration"]],
];
/** The component files (the shells) sit above every layer. */
const SHELLS = [`${C}/*.ts`];

export default [
    { ignores: ["dist/**", "node_modules/**", "**/*.js", "**/*.mjs"] },
    {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: "module" } },
        plugins: { import: importPlugin },
        settings: { "import/resolver": { node: { extensions: [".ts", ".js", ".json"] } } },
        rules: {
            "import/no-restricted-paths": [
                "error",
                {
                    zones: [
                        ...LAYERS.map(([layer, above]) => ({
                            target: `${C}/${layer}`,
                            from: [...above.map((l) => `${C}/${l}/**`), ...SHELLS],
                            message: `components/${layer} may not import the layers after it (settings → policy → manifests → plan → outputs → registration → components)`,
                        })),
                        {
                            target: `${C}/registration`,
                            from: SHELLS,
                            message: "registration turns plans into resources; it does not know the components",
                        },
                        {
                            target: "./components",
                            from: ["./cli/**", "./verify/**", "./tests/**", "./app/**", "./lab/**"],
                            message: "the package does not import its CLIs, verify tool, tests or demo app source",
                        },
                        {
                            target: "./components",
                            from: "./index.ts",
                            message: "the package does not import the program",
                        },
                        {
                            target: ["./cli", "./verify", "./index.ts", "./lab"],
                            from: "./tests/**",
                            message: "programs and tools do not import tests",
                        },
                        {
                            target: "./lab",
                            from: ["./components/**", "./cli/**", "./verify/**", "./index.*", "./app/**"],
                            message:
                                "the lab is a workspace of its own: it reaches the package through its entry points only (istio-sticky, istio-sticky/plan, istio-sticky/verify, istio-sticky/stack-files)",
                        },
                        {
                            target: ["./components", "./cli", "./verify", "./index.ts", "./app"],
                            from: "./lab/**",
                            message:
                                "the mesh lab drives the package from outside: nothing the package ships imports it",
                        },
                        {
                            target: "./verify",
                            from: ["./components/**", "./cli/**", "./index.*"],
                            message:
                                "the verify tool stands alone: its bin and library load nothing of the components or CLIs",
                        },
                    ],
                },
            ],
        },
    },
    {
        files: ["lab/**/*.ts"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: ["istio-sticky/dist/*"],
                            message:
                                "the lab imports the package's entry points; istio-sticky/dist/* is exported for Pulumi's function serialization, which requires the modules a dynamic provider captures by path",
                        },
                    ],
                },
            ],
        },
    },
    {
        files: [
            "components/settings/**/*.ts",
            "components/policy/**/*.ts",
            "components/manifests/**/*.ts",
            "components/plan/**/*.ts",
            "components/outputs/**/*.ts",
        ],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: ["@pulumi/*"],
                            message:
                                "the pure layers build plain data; Pulumi belongs to registration and the components",
                        },
                    ],
                },
            ],
        },
    },
];
