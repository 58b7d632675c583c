/**
 * What a saved plan was made from, so the deploy workflow applies a pull request's plan only on a checkout
 * that holds exactly what it planned. Run from the project root, after synth, with terraform.tfvars written:
 *   npx tsx scripts/plan-metadata.ts write --stack <name> [--environment <name>] > plan-meta.json
 *   npx tsx scripts/plan-metadata.ts check <plan-meta.json> --stack <name> [--environment <name>]
 *   npx tsx scripts/plan-metadata.ts has-changes <plan.json>
 * `check` prints its reason and fails when the plan may not be reused; `has-changes` prints true or false.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { runScript } from "../src/cli";
import { type PlanMetadata, planHasChanges, reuseDecision } from "../src/review/plan-metadata";

const USAGE =
  "npx tsx scripts/plan-metadata.ts write|check <plan-meta.json> --stack <name> [--environment <name>]\n" +
  "       npx tsx scripts/plan-metadata.ts has-changes <plan.json>";

const option = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? "") : "";
};

/** What a plan made on this checkout now would be made from. */
export function currentMetadata(stack: string, environment: string): PlanMetadata {
  if (!stack) throw new Error(`--stack is required\nUsage: ${USAGE}`);
  const tfvars = existsSync("terraform.tfvars") ? readFileSync("terraform.tfvars") : Buffer.alloc(0);
  return {
    tree: execFileSync("git", ["rev-parse", "HEAD^{tree}"], { encoding: "utf8" }).trim(),
    stack,
    environment,
    tfvarsSha256: createHash("sha256").update(tfvars).digest("hex"),
    terraformVersion: JSON.parse(execFileSync("terraform", ["version", "-json"], { encoding: "utf8" })).terraform_version,
  };
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Records what a plan is made from, decides whether a pull request's plan may be applied here, and tells whether a plan changes anything.",
    run: async ([command, ...args]) => {
      const current = () => currentMetadata(option(args, "--stack"), option(args, "--environment"));
      if (command === "write") {
        process.stdout.write(`${JSON.stringify(current(), null, 2)}\n`);
      } else if (command === "check") {
        const saved = args[0] && existsSync(args[0]) ? JSON.parse(readFileSync(args[0], "utf8")) : undefined;
        const decision = reuseDecision(saved, current());
        console.log(`${decision.reuse ? "Reusing" : "Not reusing"} the pull request's plan: ${decision.reason}.`);
        if (!decision.reuse) process.exitCode = 1;
      } else if (command === "has-changes") {
        console.log(planHasChanges(JSON.parse(readFileSync(args[0], "utf8"))) ? "true" : "false");
      } else {
        throw new Error(`Usage: ${USAGE}`);
      }
    },
  });
}
