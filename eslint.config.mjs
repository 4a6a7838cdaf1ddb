// @ts-check
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
    { ignores: ["dist/**", "node_modules/**", "**/node_modules/**", ".okms-demo/**", "examples/**/bin/**"] },
    ...tseslint.configs.recommended,
    {
        plugins: { "@pulumi": pulumi },
        // The Pulumi rules need type information.
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            eqeqeq: ["error", "smart"],
            curly: "error",
            "prefer-const": "error",
            "no-var": "error",
            "@typescript-eslint/no-explicit-any": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    {
        // The host bundle (scripts/bundle.ts) leaves out the zod it does not use only when the providers import
        // zod's functions by name (`z.object` on `import * as z`), not its `z` namespace object.
        files: ["provider/**/*.ts", "components/**/*.ts", "index.ts"],
        rules: {
            "no-restricted-syntax": [
                "error",
                {
                    selector:
                        "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z'][importKind!='type']",
                    message: 'use `import * as z from "zod"`: the host bundle then leaves out what is unused',
                },
            ],
        },
    },
    {
        // One screen per function (issue #13): tests and generated code are exempt.
        files: ["**/*.ts"],
        ignores: ["test/**", "**/*.generated.ts"],
        rules: { "max-lines-per-function": ["error", { max: 80, IIFEs: true }] },
    },
    {
        files: ["**/*.js", "**/*.mjs"],
        ...tseslint.configs.disableTypeChecked,
        rules: {
            ...tseslint.configs.disableTypeChecked.rules,
            "@pulumi/no-output-in-template-literal": "off",
            "@pulumi/no-output-instance-in-template-literal": "off",
        },
    },
);
