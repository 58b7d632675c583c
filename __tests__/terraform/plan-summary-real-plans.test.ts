import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  costMarkdown,
  estimate,
  inventoryOf,
  PRICES,
  regionOfPlan,
  regionOfSynth,
  resourcesBeforePlan,
  resourcesOfPlan,
  resourcesOfSynth,
} from "../../src/review/cost";
import { GITHUB_COMMENT_LIMIT, SUMMARY_BUDGET, summarizePlan, UNKNOWN } from "../../src/review/plan-summary";
import { everyKindOfChangePlan, firstPlan as firstPlanOf, onlyForgottenConfig, onlyMovedConfig } from "../support/real-plans";
import { synth } from "../support/synth";
import { terraformTooling } from "../support/terraform";

/**
 * The plan summary on real `terraform show -json` output, read the way GitHub shows it: rendered with
 * micromark and its GFM extension (the CommonMark/GFM reference parser GitHub's renderer follows).
 */
const render = (markdown: string) => micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
const decode = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, "&")
    .trim();

/** Every table of the rendered HTML as rows of cell texts (header row first). */
function tables(html: string): string[][][] {
  return [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map(([, table]) =>
    [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) =>
      [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(([, cell]) => decode(cell)),
    ),
  );
}
const tableAfter = (html: string, heading: string) => tables(html.slice(html.indexOf(`${heading}</h`)))[0];
const codeTexts = (html: string) => [...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map(([, code]) => decode(code));

const withCost = (plan: any, options = {}) => {
  const region = regionOfPlan(plan);
  return summarizePlan(
    plan,
    costMarkdown(estimate(inventoryOf(resourcesOfPlan(plan), region)), estimate(inventoryOf(resourcesBeforePlan(plan), region))),
    options,
  );
};

const ENDPOINTS_AND_AUTOSCALING = { vpc_interface_endpoints: true, worker_min_count: 1, worker_max_count: 3 };
let firstPlan: any;
let endpointsPlan: any;
let kinds: any;

beforeAll(async () => {
  terraformTooling();
  [firstPlan, endpointsPlan] = await Promise.all([firstPlanOf(), firstPlanOf(ENDPOINTS_AND_AUTOSCALING)]);
  kinds = everyKindOfChangePlan();
}, 240_000);

describe("plan summary of the default stack's first plan, rendered as GitHub does", () => {
  it("GIVEN outputs holding unknown list elements WHEN rendered THEN each element reads (known after apply), never null", () => {
    const summary = withCost(firstPlan);
    expect(summary).not.toMatch(/\bnull\b/);
    const outputs = tableAfter(render(summary), "Output changes");
    expect(outputs[0]).toEqual(["output", "action", "value"]);
    expect(outputs.find((row) => row[0] === "private_subnet_ids")).toEqual(["private_subnet_ids", "add", `[${UNKNOWN}, ${UNKNOWN}]`]);
    expect(outputs.find((row) => row[0] === "cluster_name")).toEqual(["cluster_name", "add", '"prefect-ecs-dev"']);
  });

  it("GIVEN the rendered resource table THEN every row has its four cells and the counts add up to the plan line", () => {
    const summary = withCost(firstPlan);
    const rows = tableAfter(render(summary), "Resource changes").slice(1);
    expect(rows.every((row) => row.length === 4)).toBe(true);
    const total = rows.reduce((sum, row) => sum + Number(row[2]), 0);
    expect(summary).toContain(`**Plan:** ${total} to add, 0 to change, 0 to replace, 0 to destroy.`);
    expect(total).toBe(firstPlan.resource_changes.filter((c: any) => c.mode === "managed").length);
  });

  it("GIVEN a first deploy THEN the cost shows the whole total as the plan's monthly delta", () => {
    const summary = withCost(firstPlan);
    const total = /\*\*\$(\d+\.\d\d) per month\*\* \(\+\$(\d+\.\d\d) per month from this plan; us-east-1 list prices/.exec(summary);
    expect(total?.[1]).toBeDefined();
    expect(total?.[2]).toBe(total?.[1]);
  });

  it("GIVEN a commit and a run link THEN both are in the summary, as a link GitHub renders", () => {
    const html = render(
      withCost(firstPlan, { commit: "0123456789abcdef0123456789abcdef01234567", runUrl: "https://github.com/acme/infra/actions/runs/42" }),
    );
    expect(codeTexts(html)).toContain("0123456789ab");
    expect(html).toContain('<a href="https://github.com/acme/infra/actions/runs/42">workflow run</a>');
  });

  it("the example summary in docs/pipelines.md is this plan's summary, exactly (regenerate it when this fails)", () => {
    const page = readFileSync(join(__dirname, "..", "..", "docs", "pipelines.md"), "utf8");
    const start = page.indexOf("<details><summary>Example summary</summary>");
    expect(start, "docs/pipelines.md has no <details><summary>Example summary</summary> block").toBeGreaterThanOrEqual(0);
    const example = page.slice(page.indexOf("\n", start) + 1, page.indexOf("</details>", start)).trim();
    const current = withCost(firstPlan, { headingLevel: 4 }).trim();
    if (example !== current) {
      // The current text, ready to paste between the <details> lines.
      mkdirSync(join(__dirname, "..", "..", "test-results"), { recursive: true });
      writeFileSync(join(__dirname, "..", "..", "test-results", "pipelines-example-summary.md"), `${current}\n`);
    }
    expect(example, "docs/pipelines.md's example is out of date: test-results/pipelines-example-summary.md has the current one").toBe(current);
  });
});

describe("plan summary of every kind of change (real plan on terraform_data)", () => {
  it("GIVEN updates, a replacement, a destroy, a move, an import and a forget THEN the plan line counts each", () => {
    expect(withCost(kinds)).toContain("**Plan:** 1 to add, 4 to change, 1 to replace, 1 to destroy, 1 to import, 1 to forget, 1 moved.");
  });

  it("GIVEN the destroy and the replacement THEN they come first, with the reason and the forcing attribute", () => {
    const html = render(withCost(kinds));
    const warnings = html.slice(html.indexOf("Destroys and replacements"), html.indexOf("Moves, imports"));
    expect(decode(warnings)).toContain("⚠️ destroy terraform_data.gone — no longer in the configuration");
    expect(decode(warnings)).toContain("⚠️ replace terraform_data.rep — forced by triggers_replace");
  });

  it("GIVEN a move, an import and a forget THEN each is listed with what it does to state", () => {
    const text = decode(render(withCost(kinds)));
    expect(text).toContain("moved terraform_data.old_name → terraform_data.new_name");
    expect(text).toContain("import terraform_data.imported from id some-id");
    expect(text).toContain("forget terraform_data.forgotten — removed from state only; the object stays in AWS");
  });

  it("GIVEN addresses and output values holding | and backticks WHEN rendered THEN tables keep their columns and show them exactly", () => {
    const html = render(withCost(kinds));
    const changes = tableAfter(html, "Resource changes");
    expect(changes.every((row) => row.length === 4)).toBe(true);
    expect(changes.find((row) => row[0] === "change")?.[3]).toBe('imported, piped["a|b"], piped["c`d"], upd');
    const outputs = tableAfter(html, "Output changes");
    expect(outputs.every((row) => row.length === 3)).toBe(true);
    expect(outputs.find((row) => row[0] === "piped")).toEqual(["piped", "add", '"a | b `c`"']);
  });

  it("GIVEN unknown list elements and unknown map keys THEN they read (known after apply) where they are; sensitive stays hidden", () => {
    const outputs = tableAfter(render(withCost(kinds)), "Output changes");
    expect(outputs.find((row) => row[0] === "ids")?.[2]).toBe(`[${UNKNOWN}, "fixed"]`);
    expect(outputs.find((row) => row[0] === "by_name")?.[2]).toBe(`{"known": "k", "later": ${UNKNOWN}}`);
    expect(outputs.find((row) => row[0] === "secret")?.[2]).toBe("(sensitive)");
  });

  it("GIVEN a plan that only moves a resource THEN it is not reported as no changes", () => {
    const summary = withCost(everyKindOfChangePlan(onlyMovedConfig));
    expect(summary).not.toContain("No changes");
    expect(summary).toContain("**Plan:** 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 moved.");
  });

  it("GIVEN a plan that only forgets a resource THEN it is not reported as no changes", () => {
    const summary = withCost(everyKindOfChangePlan(onlyForgottenConfig));
    expect(summary).not.toContain("No changes");
    expect(summary).toContain("1 to forget");
  });
});

describe("plan summary size budget on large plans", () => {
  /** The default stack's real plan repeated in `count` modules (10 make 540 resources over 29 types). */
  const largePlan = (count: number) => {
    const copies = Array.from({ length: count }, (_, i) => `module.environment_${String(i).padStart(3, "0")}`);
    return {
      ...firstPlan,
      resource_changes: copies.flatMap((module) =>
        firstPlan.resource_changes.map((c: any) => ({ ...c, address: `${module}.${c.address}`, module_address: module })),
      ),
    };
  };

  it("GIVEN 540 creations THEN every address is listed and the summary fits a GitHub comment", () => {
    const plan = largePlan(10);
    const summary = withCost(plan);
    expect(Buffer.byteLength(summary) + "<!-- prefect-ecs-plan -->\n".length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(summary).not.toContain("shortened");
    for (const change of plan.resource_changes) expect(summary).toContain(change.address.replace(`${change.type}.`, ""));
  });

  it("GIVEN 3,000+ creations THEN long address lists collapse, the summary fits the budget, and every type is still counted", () => {
    const plan = largePlan(60);
    const summary = withCost(plan);
    const size = Buffer.byteLength(summary);
    expect(size).toBeLessThanOrEqual(SUMMARY_BUDGET);
    expect(summary).toMatch(/… and \d+ more/);
    const rows = tableAfter(render(summary), "Resource changes").slice(1);
    const types = new Set(plan.resource_changes.map((c: any) => c.type));
    expect(rows.map((row) => row[1]).sort()).toEqual([...types].sort());
    expect(rows.reduce((sum, row) => sum + Number(row[2]), 0)).toBe(plan.resource_changes.length);
    expect(summary).toContain("the summary is shortened to fit a comment");
  });

  it("GIVEN a budget too small even for counts by type THEN the summary is cut at a line and says so, within the budget", () => {
    const summary = withCost(largePlan(10), { maxBytes: 3_000 });
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(3_000);
    expect(summary).toContain("cut to fit a comment");
    expect(summary.startsWith("## Terraform plan\n")).toBe(true);
  });

  it("GIVEN 3,000+ destroys THEN the destroy list collapses to counts by type rather than dropping any", () => {
    const plan = largePlan(60);
    const destroying = {
      ...plan,
      resource_changes: plan.resource_changes.map((c: any) => ({
        ...c,
        change: { ...c.change, actions: ["delete"], before: c.change.after, after: null },
      })),
    };
    const summary = withCost(destroying);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(SUMMARY_BUDGET);
    const subnets = destroying.resource_changes.filter((c: any) => c.type === "aws_subnet").length;
    expect(summary).toContain(`- ⚠️ **destroy** ${subnets} × \`aws_subnet\``);
    expect(summary).toContain(`**Plan:** 0 to add, 0 to change, 0 to replace, ${destroying.resource_changes.length} to destroy.`);
  });
});

describe("cost of a real first plan", () => {
  const planEstimate = (plan: any) => estimate(inventoryOf(resourcesOfPlan(plan), regionOfPlan(plan)));

  it("GIVEN interface endpoints whose subnets are unknown at plan THEN they are priced from the configuration, as in the synthesized stack", () => {
    const endpoint = endpointsPlan.resource_changes.find(
      (c: any) => c.type === "aws_vpc_endpoint" && c.change.after.vpc_endpoint_type === "Interface",
    );
    expect(endpoint.change.after_unknown.subnet_ids).toBe(true);
    const line = planEstimate(endpointsPlan).lines.find((l) => l.item === "Interface VPC endpoint hours");
    expect(line?.monthly).toBeCloseTo(4 * 2 * 730 * PRICES.interface_endpoint_hour_per_az);
    const json = synth(ENDPOINTS_AND_AUTOSCALING).json;
    expect(planEstimate(endpointsPlan).total).toBeCloseTo(estimate(inventoryOf(resourcesOfSynth(json), regionOfSynth(json))).total);
  });

  it("GIVEN target-tracking autoscaling THEN the alarms it creates are priced (two per policy)", () => {
    const policies = endpointsPlan.resource_changes.filter((c: any) => c.type === "aws_appautoscaling_policy").length;
    expect(policies).toBe(2);
    expect(planEstimate(endpointsPlan).lines.find((l) => l.item === "CloudWatch alarms")?.quantity).toBe(`${2 * policies} × $${PRICES.alarm_month}`);
  });

  it("GIVEN the stack's region in the plan's provider configuration THEN it is priced with that region's table", () => {
    expect(regionOfPlan(firstPlan)).toBe("us-east-1");
    expect(planEstimate(firstPlan).pricedAs).toBe("us-east-1");
  });
});
