import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { prefectDoubleWorkdir } from "../support/prefect-double";
import { runPrefect } from "../support/prefect-real";

/**
 * The fast tier runs the pool commands with a stand-in `prefect` (support/prefect-double.ts). Each behaviour the
 * commands rely on is run here with the stand-in and with the real CLI against a real server, in the same order:
 * exit codes and the phrases the commands look for must match, so the two cannot drift apart.
 */
const server = inject("prefectServer");
const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-agree-"));
const good = join(dir, "good.json");
const refused = join(dir, "refused.json");
writeFileSync(good, JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: { cluster: { type: "string" } } } }));
writeFileSync(refused, JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: { other: { type: "string" } } } }));
const pool = "agree-pool";

interface Step {
  readonly what: string;
  readonly args: string[];
  /** The stand-in's state for this step (the real server has it from the steps before). */
  readonly double: Record<string, string>;
  readonly status: 0 | 1;
  /** A phrase the pool commands match on, or that an operator reads. */
  readonly says?: string;
}

const STEPS: Step[] = [
  { what: "inspect of a missing pool", args: ["work-pool", "inspect", pool], double: {}, status: 1, says: "not found" },
  {
    what: "create",
    args: ["work-pool", "create", pool, "--type", "ecs", "--base-job-template", good],
    double: {},
    status: 0,
    says: `Created work pool '${pool}'`,
  },
  {
    what: "create of an existing pool",
    args: ["work-pool", "create", pool, "--type", "ecs", "--base-job-template", good],
    double: { DOUBLE_POOL_EXISTS: "1" },
    status: 1,
    says: "already exists",
  },
  { what: "inspect of an existing pool", args: ["work-pool", "inspect", pool], double: { DOUBLE_POOL_EXISTS: "1" }, status: 0 },
  {
    what: "update",
    args: ["work-pool", "update", pool, "--base-job-template", good],
    double: { DOUBLE_POOL_EXISTS: "1" },
    status: 0,
    says: `Updated work pool '${pool}'`,
  },
  {
    what: "update with a refused template",
    args: ["work-pool", "update", pool, "--base-job-template", refused],
    double: { DOUBLE_POOL_EXISTS: "1" },
    status: 1,
    says: "undeclared variable(s): cluster",
  },
  {
    what: "create with a reserved name",
    args: ["work-pool", "create", "prefect-agree", "--type", "ecs", "--base-job-template", good],
    double: {},
    status: 1,
    says: "Work pools starting with 'Prefect' are reserved for internal use.",
  },
  {
    what: "create with a refused template",
    args: ["work-pool", "create", "agree-refused", "--type", "ecs", "--base-job-template", refused],
    double: {},
    status: 1,
    says: "undeclared variable(s): cluster",
  },
  { what: "inspect of the default queue", args: ["work-queue", "inspect", "default", "--pool", pool], double: {}, status: 0 },
  { what: "inspect of a missing queue", args: ["work-queue", "inspect", "critical", "--pool", pool], double: {}, status: 1 },
  { what: "delete", args: ["work-pool", "delete", pool], double: {}, status: 0, says: `Deleted work pool '${pool}'` },
  {
    what: "delete of a missing pool",
    args: ["work-pool", "delete", pool],
    double: { DOUBLE_MODE: "gone" },
    status: 1,
    says: `Work pool '${pool}' does not exist.`,
  },
];

function runDouble(step: Step) {
  const w = prefectDoubleWorkdir({ tools: [] });
  const result = spawnSync(join(w.bin, "prefect"), step.args, {
    env: { PATH: process.env.PATH, DOUBLE_LOG: w.log, ...step.double },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the stand-in prefect and the real CLI, step by step", () => {
  it.each(STEPS.map((s) => [s.what, s] as const))("GIVEN %s THEN both exit alike and say the same", (_, step) => {
    const real = runPrefect(step.args, server.clientEnv);
    const double = runDouble(step);
    expect(real.status, real.stdout + real.stderr).toBe(step.status);
    expect(double.status, double.stdout + double.stderr).toBe(step.status);
    if (step.says) {
      expect(real.stdout + real.stderr).toContain(step.says);
      expect(double.stdout + double.stderr).toContain(step.says);
    }
  });
});
