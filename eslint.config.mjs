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
