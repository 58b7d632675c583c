import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // The emulator and real-Terraform tiers have their own folders, configs and commands (npm run test:emulator, test:terraform).
    exclude: [...configDefaults.exclude, "__tests__/emulator/**", "__tests__/terraform/**", "__tests__/prefect/**"],
    setupFiles: ["__tests__/support/matchers.ts"],
    // Synthesizing loads the AWS provider bindings; a generous timeout keeps a cold 2-core machine green.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print vitest's own pass/fail counts as one line.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
