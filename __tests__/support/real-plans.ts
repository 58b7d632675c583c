import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synth } from "./synth";
import { PLAN_TIME_ENV } from "./synth";
import { setAsideWorkPool, stackDir, terraform, terraformAsync } from "./terraform";

/**
 * Real `terraform show -json` plans for the summary's tests, made offline: the default stack's first
 * plan (real hashicorp/aws provider from the mirror), and a plan of every kind of change (update,
 * replace, destroy, move, import, forget, unknowns in lists and maps, addresses holding `|` and a
 * backtick) on Terraform's built-in `terraform_data`, which needs no provider and can be applied here.
 */

/**
 * A stack's first plan (the work pool's null_resources set aside: their provider is not installable here).
 * With no overrides, the default stack's, as the example in docs/pipelines.md shows it. Plans of several stacks may run
 * side by side.
 */
export async function firstPlan(overrides: Record<string, unknown> = {}): Promise<any> {
  const dir = stackDir(setAsideWorkPool(synth(overrides).json));
  terraform(dir, ["init", "-input=false"], { env: PLAN_TIME_ENV });
  await terraformAsync(dir, ["plan", "-input=false", "-out=plan.bin"], { env: PLAN_TIME_ENV });
  return JSON.parse(terraform(dir, ["show", "-json", "plan.bin"], { env: PLAN_TIME_ENV }).stdout);
}

const KEYS = { "a|b": "1", "c`d": "2" };

const BEFORE = {
  resource: {
    terraform_data: {
      keep: { input: "v1" },
      upd: { input: "v1" },
      rep: { triggers_replace: "t1" },
      gone: { input: "x" },
      old_name: { input: "m" },
      forgotten: { input: "f" },
      piped: { for_each: KEYS, input: "${each.value}" },
    },
  },
};

const AFTER = {
  resource: {
    terraform_data: {
      keep: { input: "v1" },
      upd: { input: "v2" },
      rep: { triggers_replace: "t2" },
      new_name: { input: "m" },
      imported: { input: "i" },
      created: { input: ["${terraform_data.rep.id}", "x"] },
      piped: { for_each: KEYS, input: "${each.value}-changed" },
    },
  },
  moved: [{ from: "terraform_data.old_name", to: "terraform_data.new_name" }],
  removed: [{ from: "terraform_data.forgotten", lifecycle: { destroy: false } }],
  import: [{ to: "terraform_data.imported", id: "some-id" }],
  output: {
    ids: { value: ["${terraform_data.created.id}", "fixed"] },
    by_name: { value: { known: "k", later: "${terraform_data.created.id}" } },
    secret: { value: "${terraform_data.keep.id}", sensitive: true },
    piped: { value: "a | b `c`" },
  },
};

/** Applies BEFORE, then plans AFTER (or `after`) against that state. */
export function everyKindOfChangePlan(after: object = AFTER): any {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-kinds-"));
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(BEFORE));
  terraform(dir, ["init", "-input=false"]);
  terraform(dir, ["apply", "-input=false", "-auto-approve"]);
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(after));
  terraform(dir, ["plan", "-input=false", "-out=plan.bin"]);
  return JSON.parse(terraform(dir, ["show", "-json", "plan.bin"]).stdout);
}

/** A plan that only moves one resource: nothing is created, changed or destroyed. */
export const onlyMovedConfig = {
  resource: { terraform_data: { ...BEFORE.resource.terraform_data, new_name: { input: "m" }, old_name: undefined } },
  moved: [{ from: "terraform_data.old_name", to: "terraform_data.new_name" }],
};

/** A plan that only forgets one resource (removed with destroy = false). */
export const onlyForgottenConfig = {
  resource: { terraform_data: { ...BEFORE.resource.terraform_data, forgotten: undefined } },
  removed: [{ from: "terraform_data.forgotten", lifecycle: { destroy: false } }],
};
