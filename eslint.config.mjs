// Lint rules for the TypeScript in this project: ESLint's and typescript-eslint's recommended sets.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "coverage/", "test-results/", "scripts/app.cjs", "__tests__/support/aws-local-server.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", require: "readonly", module: "readonly", __dirname: "readonly", Buffer: "readonly" },
    },
    rules: {
      // `_`-prefixed names mark values left unused on purpose (destructuring, ignored arguments).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // Tests read Terraform JSON and plan output, which have no TypeScript types; typing every path would add noise, not safety.
    files: ["__tests__/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
