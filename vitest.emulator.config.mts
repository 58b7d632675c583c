import { configDefaults, defineConfig } from "vitest/config";

/**
 * The emulator tier (npm run test:emulator): each test file is one lane with its own moto server, and
 * lanes run side by side. A lane spends most of its time waiting (the AWS provider's SQS propagation
 * waits, about 25 s each, even against moto), so more lanes than cores keeps the 2-core machine busy.
 */
export default defineConfig({
  test: {
    include: ["__tests__/emulator/**/*.test.ts"],
    // Stops the tier with one line when moto's server or Terraform is missing.
    globalSetup: ["__tests__/support/emulator-global-setup.ts"],
    exclude: [...configDefaults.exclude],
    pool: "forks",
    fileParallelism: true,
    // One worker per lane, so every lane starts at once (16 lanes today).
    maxWorkers: 16,
    // A lane's tests run in order: apply, inspect, change, re-plan, destroy.
    sequence: { concurrent: false },
    testTimeout: 300_000,
    hookTimeout: 420_000,
    // The JSON report lets .ci/run count this tier's tests in its closing line.
    reporters: ["default", ["json", { outputFile: "test-results/emulator.json" }]],
  },
});
