import { defineConfig } from "vitest/config";

/** The real-Terraform tier (npm run test:terraform): whole-stack validate, plan, converged state and S3 backend. */
export default defineConfig({
  test: {
    include: ["__tests__/terraform/**/*.test.ts"],
    // Gets hashicorp/aws once (mirror or registry), or stops the tier with one line saying how.
    globalSetup: ["__tests__/support/terraform-global-setup.ts"],
    setupFiles: ["__tests__/support/matchers.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ["default", ["json", { outputFile: "test-results/terraform.json" }]],
  },
});
