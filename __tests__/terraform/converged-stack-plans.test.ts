import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { beforeAll, describe, expect, it } from "vitest";
import { costMarkdown, estimate, inventoryOf, regionOfPlan, resourcesBeforePlan, resourcesOfPlan } from "../../src/review/cost";
import { summarizePlan } from "../../src/review/plan-summary";
import { type Converged, convergedState, withTerraformData } from "../support/converged-state";
import { PLAN_TIME_ENV, synth } from "../support/synth";
import { terraform, terraformAsync, terraformTooling } from "../support/terraform";

/**
 * Real plans of the whole default stack against a state that already holds it (a converged state, made
 * offline; see support/converged-state.ts): an unchanged stack planned from a fresh directory, as a CI
 * runner plans it, and a change that updates, replaces and destroys resources. Plans use -refresh=false:
 * the real AWS provider plans from the state without calling AWS.
 */
const PLAN = ["plan", "-input=false", "-refresh=false", "-out=plan.bin"];
let converged: Converged;
let fresh: string;
let unchanged: any;
let changed: any;

/** A new directory with only the configuration files and the state, as a fresh runner has after synth. */
function freshCopy(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-fresh-"));
  for (const file of ["cdk.tf.json", "test_override.tf.json", "terraform.tfstate"]) copyFileSync(join(from, file), join(dir, file));
  terraform(dir, ["init", "-input=false"], { env: PLAN_TIME_ENV });
  return dir;
}

async function planIn(dir: string): Promise<any> {
  await terraformAsync(dir, PLAN, { env: PLAN_TIME_ENV });
  return JSON.parse(terraform(dir, ["show", "-json", "plan.bin"], { env: PLAN_TIME_ENV }).stdout);
}

const summaryOf = (plan: any) => {
  const region = regionOfPlan(plan);
  return summarizePlan(
    plan,
    costMarkdown(estimate(inventoryOf(resourcesOfPlan(plan), region)), estimate(inventoryOf(resourcesBeforePlan(plan), region))),
  );
};

beforeAll(async () => {
  terraformTooling();
  converged = await convergedState(synth().json);
  fresh = freshCopy(converged.dir);
  const other = freshCopy(converged.dir);
  // A bigger worker (its task definition is replaced, the service updated), longer log retention (updated
  // in place) and no ECS event observer (its queue, rule and target destroyed).
  writeFileSync(
    join(other, "cdk.tf.json"),
    JSON.stringify(withTerraformData(synth({ worker_cpu: 1024, worker_memory: 2048, log_retention_days: 60, ecs_event_observer: false }).json)),
  );
  [unchanged, changed] = await Promise.all([planIn(fresh), planIn(other)]);
}, 300_000);

describe("an unchanged stack planned by a fresh runner (real plan of the whole stack)", () => {
  it("GIVEN the applied default stack WHEN a directory holding only its configuration and state plans it THEN there are no changes", () => {
    const changes = unchanged.resource_changes.filter((c: any) => c.change.actions.join() !== "no-op" && c.mode === "managed");
    expect(changes.map((c: any) => c.address)).toEqual([]);
    expect(unchanged.resource_changes.find((c: any) => c.address === "terraform_data.work_pool_template_sync").change.actions).toEqual(["no-op"]);
    expect(summaryOf(unchanged)).toContain("**No changes.** The infrastructure matches the configuration.");
  });

  it("GIVEN the applied stack THEN the template-sync trigger holds Terraform's sha256 of the rendered template, known at plan", () => {
    const { bin, env } = terraformTooling();
    const console = spawnSync(bin, ["console"], {
      cwd: fresh,
      env: { ...env, ...PLAN_TIME_ENV },
      input: "sha256(local.base_job_template)\n",
      encoding: "utf8",
    });
    expect(console.status, console.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(fresh, "terraform.tfstate"), "utf8"));
    const sync = state.resources.find((r: any) => r.name === "work_pool_template_sync").instances[0].attributes;
    expect(sync.triggers_replace.value.template_sha256).toBe(console.stdout.trim().replace(/"/g, ""));
    expect(sync.triggers_replace.value.template_sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("plan summary of a real update, replacement and destroy of the stack", () => {
  const render = (markdown: string) => micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });

  it("GIVEN a bigger worker, longer retention and no observer THEN the headline counts each kind of change", () => {
    const summary = summaryOf(changed);
    const count = (action: string) => changed.resource_changes.filter((c: any) => c.mode === "managed" && c.change.actions.join() === action).length;
    expect(count("update")).toBeGreaterThan(0);
    expect(count("delete")).toBeGreaterThan(0);
    expect(summary).toContain(
      `**Plan:** 0 to add, ${count("update")} to change, ${count("delete,create") + count("create,delete")} to replace, ${count("delete")} to destroy.`,
    );
  });

  it("GIVEN the replaced task definition and the destroyed observer THEN they are listed first, with why", () => {
    const summary = summaryOf(changed);
    expect(summary).toMatch(
      /- ⚠️ \*\*replace\*\* `aws_ecs_task_definition\.worker_task_definition` — forced by `(cpu|memory|container_definitions)`/,
    );
    expect(summary).toContain("- ⚠️ **destroy** `aws_sqs_queue.ecs_events_queue` — no longer in the configuration");
    expect(summary.indexOf("Destroys and replacements")).toBeLessThan(summary.indexOf("### Resource changes"));
  });

  it("GIVEN the rendered summary THEN each table row keeps its cells and the updated log groups are named", () => {
    const html = render(summaryOf(changed));
    const table = html.slice(html.indexOf("Resource changes</h3>"), html.indexOf("</table>", html.indexOf("Resource changes</h3>")));
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) =>
      [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(([, c]) => c.replace(/<[^>]+>/g, "")),
    );
    expect(rows.every((row) => row.length === 4)).toBe(true);
    expect(rows.find((row) => row[0] === "change" && row[1] === "aws_cloudwatch_log_group")?.[3]).toContain("logs_worker_log_group");
  });

  it("GIVEN the worker doubling in size THEN the cost shows the plan's monthly delta", () => {
    const before = estimate(inventoryOf(resourcesBeforePlan(changed), "us-east-1")).total;
    const after = estimate(inventoryOf(resourcesOfPlan(changed), "us-east-1")).total;
    expect(after - before).toBeCloseTo(730 * (0.5 * 0.04048 + 1 * 0.004445));
    expect(summaryOf(changed)).toContain(`(+$${(after - before).toFixed(2)} per month from this plan;`);
  });
});
