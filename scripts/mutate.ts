/**
 * npm run mutate [-- <text>]: plants each bug of scripts/mutations.ts, one at a time, in a scratch copy of the
 * project, runs the test files named for it, and reports any bug they all pass (a survivor). With <text>, only the
 * mutations whose behaviour contains it. Exits 1 when a mutation survives or a planted bug stops the tests from
 * running at all (a mutation that no longer compiles proves nothing). Not part of CI: it runs the suites once per bug.
 *
 * A short script rather than StrykerJS: Stryker generates thousands of generic mutants (operators, literals) and
 * would re-run a 75-second suite that synthesizes whole stacks for each; what this project needs is a fixed list of
 * the bugs that matter (a secret in cdk.tf.json, a misspelt stop code), each named, each with the tests meant to catch it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyProject } from "../__tests__/support/project";
import { runScript } from "../src/cli";
import { type Mutation, MUTATIONS } from "./mutations";

const ROOT = join(__dirname, "..");
/** The real-Terraform tier's folder (vitest.terraform.config.mts); its files need that config. */
const TERRAFORM_TIER = "__tests__/terraform/";

export type Outcome = "caught" | "survived" | "broken";

/** Runs the mutation's tests in dir with the bug planted; the original file is put back afterwards. */
function tryMutation(dir: string, mutation: Mutation): { outcome: Outcome; failed: string[] } {
  const path = join(dir, mutation.file);
  const original = readFileSync(path, "utf8");
  if (original.split(mutation.find).length !== 2) throw new Error(`${mutation.file} does not hold exactly one "${mutation.find}"`);
  writeFileSync(path, original.replace(mutation.find, mutation.replace));
  try {
    const failed: string[] = [];
    let broken = false;
    // Each config writes its JSON report where .ci/run reads it.
    const tiers = [
      { config: "vitest.config.mts", report: "vitest.json", files: mutation.tests.filter((t) => !t.startsWith(TERRAFORM_TIER)) },
      { config: "vitest.terraform.config.mts", report: "terraform.json", files: mutation.tests.filter((t) => t.startsWith(TERRAFORM_TIER)) },
    ];
    for (const { config, files, report: name } of tiers.filter((t) => t.files.length)) {
      const report = join(dir, "test-results", name);
      rmSync(report, { force: true });
      spawnSync(join(dir, "node_modules", ".bin", "vitest"), ["run", "--config", config, ...files], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      });
      if (!existsSync(report)) {
        broken = true;
        continue;
      }
      const r = JSON.parse(readFileSync(report, "utf8"));
      for (const file of r.testResults) {
        for (const test of file.assertionResults) if (test.status === "failed") failed.push(test.fullName);
        // A file that fails outside its tests (its import) did not catch the bug: the bug broke it.
        if (file.status === "failed" && file.assertionResults.every((a: { status: string }) => a.status !== "failed")) broken = true;
      }
    }
    return { outcome: failed.length ? "caught" : broken ? "broken" : "survived", failed };
  } finally {
    writeFileSync(path, original);
  }
}

export function mutate(filter?: string): number {
  const chosen = MUTATIONS.filter((m) => !filter || m.behaviour.includes(filter));
  if (!chosen.length) throw new Error(`no mutation's behaviour contains "${filter}"`);
  const dir = copyProject(ROOT, "prefect-ecs-mutate-");
  let bad = 0;
  try {
    for (const mutation of chosen) {
      const started = Date.now();
      const { outcome, failed } = tryMutation(dir, mutation);
      if (outcome !== "caught") bad += 1;
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`${outcome === "caught" ? "caught  " : outcome.toUpperCase()} ${mutation.behaviour} (${seconds} s)`);
      if (outcome === "caught") console.log(`         by: ${failed[0]}${failed.length > 1 ? ` and ${failed.length - 1} more` : ""}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${chosen.length - bad} of ${chosen.length} planted bugs caught${bad ? `; ${bad} not caught (see SURVIVED / BROKEN above)` : ""}`);
  return bad ? 1 : 0;
}

if (require.main === module) {
  runScript({
    usage: "npm run mutate [-- <text>]",
    description:
      "Plants each bug of scripts/mutations.ts in a scratch copy, runs the tests meant to catch it, and lists any that survive (exit 1). With <text>, only the bugs whose behaviour contains it.",
    run: async (args) => {
      process.exitCode = mutate(args.join(" ") || undefined);
    },
  });
}
