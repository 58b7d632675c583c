import { configDefaults, defineConfig } from "vitest/config";

/**
 * The real-Prefect tier (npm run test:prefect): the pinned Prefect server, CLI and prefect-aws worker, run by the
 * stack's own commands. One server is shared (global setup); files that need a server of their own (basic auth)
 * or moto start them and stop them by PID. Two files at a time: each CLI call keeps a core busy for about 2 s.
 */
export default defineConfig({
  test: {
    include: ["__tests__/prefect/**/*.test.ts"],
    globalSetup: ["__tests__/support/prefect-global-setup.ts"],
    exclude: [...configDefaults.exclude],
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { concurrent: false },
    testTimeout: 180_000,
    hookTimeout: 420_000,
    reporters: ["default", ["json", { outputFile: "test-results/prefect.json" }]],
  },
});
