/**
 * npm run plan-summary -- <plan.json>
 * Prints a Markdown summary of `terraform show -json` output, with the estimated monthly cost of the
 * resources the plan leaves in place.
 */
import { readFileSync } from "node:fs";
import { costMarkdown, estimate, inventoryOf, resourcesOfPlan } from "../src/review/cost";
import { summarizePlan } from "../src/review/plan-summary";

const file = process.argv[2];
if (!file) {
  console.error("usage: npm run plan-summary -- <plan.json>   (from: terraform show -json plan.bin > plan.json)");
  process.exit(2);
}
try {
  const plan = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(plan.resource_changes) && plan.format_version === undefined) throw new Error(`${file} is not terraform show -json output of a plan`);
  process.stdout.write(summarizePlan(plan, costMarkdown(estimate(inventoryOf(resourcesOfPlan(plan))))));
} catch (error) {
  console.error(`plan-summary: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
