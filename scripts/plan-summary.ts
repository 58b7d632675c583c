/**
 * Prints a Markdown summary of `terraform show -json` output, with the estimated monthly cost of the
 * resources the plan leaves in place and the plan's monthly delta:
 *   npm run --silent plan-summary -- <plan.json> [--commit <sha>] [--run-url <url>] [--max-bytes <n>]
 * --commit and --run-url name where the plan came from; the summary stays within --max-bytes (default: fits a
 * GitHub comment).
 */
import { readFileSync } from "node:fs";
import { runScript } from "../src/cli";
import { costMarkdown, estimate, inventoryOf, regionOfPlan, resourcesBeforePlan, resourcesOfPlan } from "../src/review/cost";
import { type SummaryOptions, summarizePlan } from "../src/review/plan-summary";

const USAGE =
  "npm run --silent plan-summary -- <plan.json> [--commit <sha>] [--run-url <url>] [--max-bytes <n>]   (from: terraform show -json plan.bin > plan.json)";

function parseArgs(args: string[]): SummaryOptions & { file: string } {
  const parsed: SummaryOptions & { file?: string } = {};
  const options: Record<string, (value: string) => void> = {
    "--commit": (v) => Object.assign(parsed, { commit: v }),
    "--run-url": (v) => Object.assign(parsed, { runUrl: v }),
    "--max-bytes": (v) => Object.assign(parsed, { maxBytes: Number(v) }),
  };
  for (let i = 0; i < args.length; i++) {
    const set = options[args[i]];
    if (set) {
      if (args[i + 1] === undefined) throw new Error(`${args[i]} needs a value\nUsage: ${USAGE}`);
      set(args[++i]);
    } else if (args[i].startsWith("-")) throw new Error(`unknown option ${args[i]}\nUsage: ${USAGE}`);
    else parsed.file = args[i];
  }
  if (!parsed.file) throw new Error(`Usage: ${USAGE}`);
  if (parsed.maxBytes !== undefined && !(parsed.maxBytes > 0)) throw new Error("--max-bytes must be a positive number");
  return { ...parsed, file: parsed.file };
}

/** The summary of a plan file, with its cost and monthly delta. */
export function planSummary(file: string, options: SummaryOptions = {}): string {
  const plan = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(plan.resource_changes) && plan.format_version === undefined)
    throw new Error(`${file} is not terraform show -json output of a plan`);
  const region = regionOfPlan(plan);
  const after = estimate(inventoryOf(resourcesOfPlan(plan), region));
  const before = estimate(inventoryOf(resourcesBeforePlan(plan), region));
  return summarizePlan(plan, costMarkdown(after, before), options);
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Summarizes a Terraform plan for review: destroys and replacements first, moves, imports and forgets, every change by type, " +
      "output changes and the estimated monthly cost with the plan's delta, in GitHub Markdown that fits a comment.",
    run: async (args) => {
      const { file, ...options } = parseArgs(args);
      process.stdout.write(planSummary(file, options));
    },
  });
}
