import { configDefaults, defineConfig } from "vitest/config";

/** The real-Terraform tests that plan whole stacks: their own tier (npm run test:terraform), so npm test stays fast. */
export const TERRAFORM_TIER = [
  "__tests__/terraform-plan.test.ts",
  "__tests__/converged-stack-plans.test.ts",
  "__tests__/plan-summary-real-plans.test.ts",
];

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // The emulator and real-Terraform tiers have their own configs and commands (npm run test:emulator, test:terraform).
    exclude: [...configDefaults.exclude, "__tests__/emulator/**", ...TERRAFORM_TIER],
    setupFiles: ["__tests__/support/matchers.ts"],
    // Synthesizing loads the AWS provider bindings; a generous timeout keeps a cold 2-core machine green.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print vitest's own pass/fail counts as one line.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
