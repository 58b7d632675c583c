import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { synth, type TerraformJson } from "./support/synth";
import { terraform, terraformTooling } from "./support/terraform";

/**
 * The work pool's template-sync trigger, planned by real Terraform on a fresh working directory that holds
 * nothing but the configuration and the state, as a CI runner does. hashicorp/null cannot be installed
 * here, so the synthesized triggers are planned on Terraform's built-in `terraform_data`, whose
 * `triggers_replace` replaces the resource on any change, unknown included, as null_resource's
 * `triggers` does. Every AWS attribute the template names is stood in for by a `terraform_data` output,
 * known once applied, like the AWS attribute it replaces.
 */
const VARS = { prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666", prefect_workspace_id: "1b5c1a2e-1111-4222-8333-944455556666" };
const varArgs = Object.entries(VARS).flatMap(([name, value]) => ["-var", `${name}=${value}`]);

/** A small root module: the stack's template local and the template-sync triggers, as synthesized. */
function config(json: TerraformJson, opts: { triggerOnFile?: boolean } = {}) {
  const local: string = (json as any).locals.base_job_template;
  const standIns: Record<string, { input: Record<string, string> }> = {};
  const template = local.replace(/\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z_]+)\}/g, (_, type: string, name: string, attribute: string) => {
    const id = `${type}__${name}`;
    standIns[id] = { input: { ...standIns[id]?.input, [attribute]: `fake-${type}-${name}-${attribute}` } };
    return `\${terraform_data.${id}.output.${attribute}}`;
  });
  const triggers = { ...json.resource.null_resource.work_pool_template_sync.triggers };
  const resources: Record<string, unknown> = { ...standIns };
  // The earlier design: the trigger read an attribute of a local_file, which a fresh runner lacks.
  if (opts.triggerOnFile) {
    resources.template_file = { input: "${local.base_job_template}" };
    triggers.template_sha256 = "${terraform_data.template_file.id}";
  }
  resources.work_pool_template_sync = { triggers_replace: triggers };
  return {
    variable: { prefect_account_id: { type: "string" }, prefect_workspace_id: { type: "string" } },
    locals: { base_job_template: template },
    resource: { terraform_data: resources },
  };
}

/** Applies a configuration in one directory and returns a fresh directory holding only its config and state. */
function appliedThenFresh(configuration: object): string {
  const first = mkdtempSync(join(tmpdir(), "prefect-ecs-sync-apply-"));
  writeFileSync(join(first, "main.tf.json"), JSON.stringify(configuration, null, 2));
  terraform(first, ["init", "-input=false"]);
  terraform(first, ["apply", "-input=false", "-auto-approve", ...varArgs]);
  const fresh = mkdtempSync(join(tmpdir(), "prefect-ecs-sync-fresh-"));
  copyFileSync(join(first, "main.tf.json"), join(fresh, "main.tf.json"));
  copyFileSync(join(first, "terraform.tfstate"), join(fresh, "terraform.tfstate"));
  terraform(fresh, ["init", "-input=false"]);
  return fresh;
}

function plan(dir: string, configuration: object) {
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(configuration, null, 2));
  terraform(dir, ["plan", "-input=false", "-out=plan.bin", ...varArgs]);
  const json = JSON.parse(terraform(dir, ["show", "-json", "plan.bin"]).stdout);
  const action = (name: string) => json.resource_changes.find((c: any) => c.name === name)?.change.actions.join(",");
  const changed = json.resource_changes.filter((c: any) => c.change.actions.join() !== "no-op").map((c: any) => c.address);
  return { json, action, changed };
}

describe("template sync on a fresh runner (real Terraform, built-in terraform_data in place of null_resource)", () => {
  const stack = synth({ work_queues: ["default", "critical"] }).json;
  let fresh: string;

  beforeAll(() => {
    fresh = appliedThenFresh(config(stack));
  }, 120_000);

  it("GIVEN an applied, unchanged stack WHEN a fresh directory plans it THEN there are no changes", () => {
    const result = plan(fresh, config(stack));
    expect(result.changed).toEqual([]);
    expect(result.action("work_pool_template_sync")).toBe("no-op");
  });

  it("GIVEN identical template text THEN Terraform's sha256 is the text's own sha256, so the trigger is stable", () => {
    const expression = "sha256(local.base_job_template)";
    const { bin, env } = terraformTooling();
    const console = spawnSync(bin, ["console", ...varArgs], { cwd: fresh, env, input: `${expression}\n`, encoding: "utf8" });
    expect(console.status, console.stderr).toBe(0);
    const hash = console.stdout.trim().replace(/"/g, "");
    const rendered = (config(stack).locals.base_job_template as string).replace(
      /\$\{terraform_data\.([a-z0-9_]+)__([A-Za-z0-9_]+)\.output\.([a-z_]+)\}/g,
      "fake-$1-$2-$3",
    );
    expect(hash).toBe(createHash("sha256").update(rendered).digest("hex"));
  });

  it("GIVEN a flow-run default that changes the template WHEN planned THEN the sync is replaced, so the pool is updated", () => {
    const result = plan(fresh, config(synth({ work_queues: ["default", "critical"], flow_run_cpu: 2048, flow_run_memory: 4096 }).json));
    expect(result.changed).toEqual(["terraform_data.work_pool_template_sync"]);
    expect(result.action("work_pool_template_sync")).toBe("delete,create");
  });

  it("GIVEN a trigger on an attribute of a resource the fresh runner lacks (the old local_file) THEN every plan replaces the sync", () => {
    const old = appliedThenFresh(config(stack, { triggerOnFile: true }));
    terraform(old, ["state", "rm", "terraform_data.template_file"]);
    const result = plan(old, config(stack, { triggerOnFile: true }));
    expect(result.action("work_pool_template_sync")).toBe("delete,create");
    expect(result.json.resource_changes.find((c: any) => c.name === "work_pool_template_sync").change.after_unknown.triggers_replace).toMatchObject({
      template_sha256: true,
    });
  });
});
