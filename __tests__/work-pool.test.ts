import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PREFECT_AWS_VERSION, PREFECT_VERSION } from "../src/versions";
import { INSTALL_HINT, TEMPLATE_TEMP_PREFIX } from "../src/work-pool/work-pool";
import { RESERVED_POOL_HINT } from "../src/work-pool/pool-shell";
import { resources, synth, synthVariant, type TerraformJson } from "./support/synth";
import { TEMPLATE_CORPUS } from "./support/template-corpus";
import { doubleCalls, newPoolCalls, prefectDoubleWorkdir } from "./support/prefect-double";

const CANARY = "pnu_CANARY_5f1c9e_never_in_template";

/** Stands in for Terraform rendering `${…}`: variables from `vars`, everything else a recognizable fake. */
function render(text: string, vars: Record<string, string> = {}): string {
  return text.replace(/\$\{([^}]+)\}/g, (_, expr: string) => vars[expr.trim()] ?? `fake-${expr.trim().replace(/[^A-Za-z0-9_.-]/g, "_")}`);
}

const nullResources = (json: TerraformJson) => resources(json, "null_resource");
const provisioner = (resource: Record<string, any>, when?: "destroy") =>
  resource.provisioner.map((p: any) => p["local-exec"]).find((p: any) => p.when === when);

describe("work pool resources in the synthesized stack", () => {
  const { json } = synth({ work_queues: ["default", "critical"] });
  const pool = nullResources(json).work_pool_pool;
  const sync = nullResources(json).work_pool_template_sync;

  it("keeps no template file in the stack: a file beside the stack would be missing on every fresh CI runner", () => {
    expect(json.resource.local_file).toBeUndefined();
    expect(provisioner(sync).environment.BASE_JOB_TEMPLATE).toBe("${local.base_job_template}");
  });

  it("re-runs the create command when the template, name, API URL or queues change; never keyed on the credential", () => {
    expect(sync.triggers).toEqual({
      template_sha256: "${sha256(local.base_job_template)}",
      pool_name: "dev-prefect-ecs",
      api_url: "https://api.prefect.cloud/api/accounts/${var.prefect_account_id}/workspaces/${var.prefect_workspace_id}",
      work_queues: "default critical",
    });
    expect(JSON.stringify([pool.triggers, sync.triggers])).not.toMatch(/api_key|auth_string/);
  });

  it("GIVEN the triggers THEN they read configuration only (locals, variables, literals), never a resource attribute", () => {
    const references = [...JSON.stringify(sync.triggers).matchAll(/\$\{([^}]*)\}/g)].map(([, expression]) => expression);
    expect(references.length).toBeGreaterThan(0);
    for (const expression of references) {
      const names = expression
        .replace(/^sha256\((.*)\)$/, "$1")
        .split(/[^A-Za-z0-9_.]+/)
        .filter(Boolean);
      for (const name of names) expect(name, expression).toMatch(/^(local|var)\./);
    }
  });

  it("GIVEN the template the trigger hashes THEN it names only AWS resources, variables and data sources, all known once applied", () => {
    const local: string = (json as any).locals.base_job_template;
    const references = [...local.matchAll(/\$\{([^}]*)\}/g)].map(([, expression]) => expression.trim());
    expect(references.length).toBeGreaterThan(5);
    for (const expression of references)
      expect(expression).toMatch(/^(aws_[a-z0-9_]+\.[A-Za-z0-9_]+\.[a-z_]+|var\.[a-z_]+|data\.aws_[a-z_]+\.[A-Za-z0-9_]+\.[a-z_]+)$/);
    expect(local).not.toMatch(/null_resource|local_file|terraform_data/);
  });

  it("creates the pool, or updates only its template (never --overwrite), passing the key only through the provisioner environment", () => {
    const create = provisioner(sync);
    expect(create.command).toContain('prefect work-pool create "$WORK_POOL" --type ecs --base-job-template "$template_file"');
    expect(create.command).toContain('prefect work-pool update "$WORK_POOL" --base-job-template "$template_file"');
    // --overwrite would also unpause the pool and clear its concurrency limit (PrefectHQ/prefect cli/work_pool.py).
    expect(create.command).not.toContain("--overwrite");
    // Terraform would read "${" in the command as an interpolation.
    expect(create.command).not.toContain("${");
    expect(create.environment).toEqual({
      WORK_POOL: "dev-prefect-ecs",
      BASE_JOB_TEMPLATE: "${local.base_job_template}",
      WORK_QUEUES: "default critical",
      PREFECT_API_URL: "https://api.prefect.cloud/api/accounts/${var.prefect_account_id}/workspaces/${var.prefect_workspace_id}",
      PREFECT_API_KEY: "${var.prefect_api_key}",
    });
    expect(provisioner(sync, "destroy")).toBeUndefined();
  });

  it("deletes the pool at destroy reading only self.triggers, from a resource whose triggers are the pool's identity", () => {
    const destroy = provisioner(pool, "destroy");
    expect(destroy.command).toContain('prefect work-pool delete "$WORK_POOL"');
    expect(destroy.environment).toEqual({ WORK_POOL: "${self.triggers.pool_name}", PREFECT_API_URL: "${self.triggers.api_url}" });
    // A template change must not replace this resource, or its destroy provisioner would delete the pool.
    expect(Object.keys(pool.triggers).sort()).toEqual(["api_url", "pool_name"]);
  });

  it("is created after, and so deleted before, the cluster, roles, security group and subnets it names", () => {
    expect(pool.depends_on).toEqual(
      expect.arrayContaining([
        "aws_ecs_cluster.cluster_cluster",
        "aws_iam_role.iam_flow_run_execution_role",
        "aws_iam_role.iam_flow_run_task_role",
        "aws_security_group.flow_run_security_group_security_group",
        "aws_subnet.network_private_subnet_0",
        "aws_subnet.network_private_subnet_1",
        "aws_cloudwatch_log_group.logs_flow_run_log_group",
      ]),
    );
    expect(sync.depends_on).toEqual(["null_resource.work_pool_pool"]);
  });

  it("starts the worker only once the pool has this stack's template, polling the listed queues", () => {
    const service = resources(json, "aws_ecs_service").worker_service;
    expect(service.depends_on).toContain("null_resource.work_pool_template_sync");
    const command = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0].command;
    expect(command.slice(-4)).toEqual(["--work-queue", "default", "--work-queue", "critical"]);
  });

  it("configures the null provider and no other beside AWS", () => {
    expect(Object.keys(json.provider).sort()).toEqual(["aws", "null"]);
    expect(Object.keys(json.terraform.required_providers).sort()).toEqual(["aws", "null"]);
  });

  it("GIVEN manage_work_pool = false THEN no null or local resources or providers, but the template is still an output", () => {
    const manual = synth({ manage_work_pool: false }).json;
    expect(manual.resource.null_resource).toBeUndefined();
    expect(manual.resource.local_file).toBeUndefined();
    expect(Object.keys(manual.provider)).toEqual(["aws"]);
    expect(manual.output.base_job_template.value).toBe("${local.base_job_template}");
  });

  it("GIVEN a self-hosted server with an auth string THEN the create command gets PREFECT_API_AUTH_STRING", () => {
    const env = provisioner(nullResources(synthVariant("self_hosted").json).work_pool_template_sync).environment;
    expect(env.PREFECT_API_AUTH_STRING).toBe("${var.prefect_api_auth_string}");
    expect(env.PREFECT_API_KEY).toBeUndefined();
    expect(env.PREFECT_API_URL).toBe("http://prefect.internal:4200/api");
  });

  it("GIVEN an existing secret and a managed pool THEN the key is still required, for the Prefect CLI", () => {
    expect(synthVariant("existing_secret").json.variable.prefect_api_key.nullable).toBe(false);
  });
});

/**
 * Runs the provisioner commands taken from the synthesized JSON in a real shell, with a stand-in
 * `prefect` (a test double) first on PATH. The double records its arguments and, for `work-pool create`,
 * checks the template file the way Prefect's server would.
 */
describe("work pool commands in a shell, with a stand-in prefect CLI", () => {
  const { json } = synth({ work_queues: ["default", "critical"] });
  const create = provisioner(nullResources(json).work_pool_template_sync);
  const destroy = provisioner(nullResources(json).work_pool_pool, "destroy");
  const base: Record<string, string> = {
    "var.prefect_api_key": CANARY,
    "var.prefect_account_id": "0b5c1a2e-1111-4222-8333-944455556666",
    "var.prefect_workspace_id": "1b5c1a2e-1111-4222-8333-944455556666",
  };
  const renderedTemplate = render((json as any).locals.base_job_template, base);
  const vars = { ...base, "local.base_job_template": renderedTemplate };

  function run(
    command: string,
    environment: Record<string, string>,
    opts: { withDouble?: boolean; mode?: string; templateText?: string; poolExists?: boolean } = {},
  ) {
    const w = prefectDoubleWorkdir({ withDouble: opts.withDouble ?? true, tools: ["mktemp", "rm"] });
    const env: Record<string, string> = { PATH: w.bin, TMPDIR: join(w.dir, "tmp"), DOUBLE_LOG: w.log, DOUBLE_MODE: opts.mode ?? "ok" };
    for (const [name, value] of Object.entries(environment)) env[name] = render(value, vars);
    if (opts.templateText !== undefined) env.BASE_JOB_TEMPLATE = opts.templateText;
    if (opts.poolExists) env.DOUBLE_POOL_EXISTS = "1";
    // Terraform's local-exec runs `/bin/sh -c <command>` in the stack directory.
    const result = spawnSync("/bin/sh", ["-c", command], { cwd: w.dir, env, encoding: "utf8" });
    const calls = doubleCalls(w);
    return { ...result, calls, leftInTmp: readdirSync(join(w.dir, "tmp")) };
  }

  it("GIVEN the create command WHEN run THEN the pool is created from the template, then missing queues are created", () => {
    const result = run(create.command, create.environment);
    expect(result.status, result.stderr).toBe(0);
    const templatePath = result.calls[1].args[6];
    expect(templatePath).toContain(`/tmp/${TEMPLATE_TEMP_PREFIX}.`);
    expect(result.calls[1].templateText).toBe(renderedTemplate);
    expect(result.calls.map((c) => c.args)).toEqual(newPoolCalls("dev-prefect-ecs", templatePath, ["default", "critical"]));
    expect(result.calls[1]).toMatchObject({
      apiUrl: "https://api.prefect.cloud/api/accounts/0b5c1a2e-1111-4222-8333-944455556666/workspaces/1b5c1a2e-1111-4222-8333-944455556666",
      hasKey: true,
    });
  });

  it("GIVEN a template the server would reject WHEN the create command runs THEN the refusal is shown once and no queue is touched", () => {
    const broken = JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: {} } });
    const result = run(create.command, create.environment, { templateText: broken });
    expect(result.status).toBe(1);
    expect(result.stderr.match(/undeclared variable\(s\): cluster/g)).toHaveLength(1);
    // inspect and the refused create: no update of a pool that is not there, no queue.
    expect(result.calls.map((c) => c.args.slice(0, 2).join(" "))).toEqual(["work-pool inspect", "work-pool create"]);
  });

  it.each(TEMPLATE_CORPUS.map((c) => [c.name, c] as const))(
    "GIVEN a template with %s THEN the stand-in accepts or refuses it as the server does",
    (_, c) => {
      const result = run(create.command, create.environment, { templateText: JSON.stringify(c.template) });
      expect(result.status === 0 ? "accepts" : "refuses", `${c.because}\n${result.stderr}`).toBe(c.server);
    },
  );

  it("GIVEN a reserved pool name WHEN the create command runs THEN it fails once with Prefect's reason and what to change", () => {
    const result = run(create.command, { ...create.environment, WORK_POOL: "Prefect-ecs-dev" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Work pools starting with 'Prefect' are reserved for internal use.");
    expect(result.stderr).toContain(RESERVED_POOL_HINT);
    expect(result.calls.map((c) => c.args.slice(0, 2).join(" "))).toEqual(["work-pool inspect", "work-pool create"]);
  });

  it("GIVEN another writer creates the pool between inspect and create WHEN the create command runs THEN it updates the template instead", () => {
    const result = run(create.command, create.environment, { mode: "race" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.slice(0, 3).map((c) => c.args.slice(0, 2).join(" "))).toEqual(["work-pool inspect", "work-pool create", "work-pool update"]);
    expect(result.calls[2].templateText).toBe(renderedTemplate);
  });

  it("GIVEN the pool exists WHEN the create command runs THEN only its template is updated, so a pause or concurrency limit set in Prefect stays", () => {
    const result = run(create.command, create.environment, { poolExists: true });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.slice(0, 2).map((c) => c.args.slice(0, 3))).toEqual([
      ["work-pool", "inspect", "dev-prefect-ecs"],
      ["work-pool", "update", "dev-prefect-ecs"],
    ]);
    expect(result.calls[1].templateText).toBe(renderedTemplate);
    expect(result.calls.some((c) => c.args[1] === "create" && c.args[0] === "work-pool")).toBe(false);
  });

  it("GIVEN the create command WHEN it succeeds or fails THEN its temporary template file is removed", () => {
    expect(run(create.command, create.environment).leftInTmp).toEqual([]);
    const failed = run(create.command, create.environment, { templateText: '{"job_configuration": {}}' });
    expect(failed.status).not.toBe(0);
    expect(failed.calls).toHaveLength(2);
    expect(failed.leftInTmp).toEqual([]);
  });

  it("GIVEN the create command WHEN run THEN nothing it prints, and not the template file, contains the key", () => {
    const result = run(create.command, create.environment);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    expect(renderedTemplate).not.toContain(CANARY);
  });

  it("GIVEN no prefect on PATH WHEN the create command runs THEN it fails with how to install it", () => {
    const result = run(create.command, create.environment, { withDouble: false });
    expect(result.status).toBe(127);
    expect(result.stderr.trim()).toBe(INSTALL_HINT);
    expect(INSTALL_HINT).toContain(`pip install 'prefect==${PREFECT_VERSION}' 'prefect-aws==${PREFECT_AWS_VERSION}'`);
  });

  it("GIVEN the destroy command WHEN run THEN the pool named in the triggers is deleted", () => {
    const result = run(destroy.command, { WORK_POOL: "dev-prefect-ecs", PREFECT_API_URL: "https://api.example/api" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.map((c) => c.args)).toEqual([["work-pool", "delete", "dev-prefect-ecs"]]);
  });

  it("GIVEN a pool that is already gone WHEN destroying THEN teardown goes on", () => {
    const result = run(destroy.command, { WORK_POOL: "dev-prefect-ecs", PREFECT_API_URL: "https://api.example/api" }, { mode: "gone" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("work pool dev-prefect-ecs is already gone");
  });

  it("GIVEN Prefect answers 403 for a reserved name WHEN destroying THEN it fails with the reason, not as 'already gone' (workers.py delete_work_pool)", () => {
    const result = run(destroy.command, { WORK_POOL: "prefect-ecs-dev", PREFECT_API_URL: "https://api.example/api" }, { mode: "reserved" });
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("already gone");
    expect(result.stderr).toContain("Prefect refused to delete work pool 'prefect-ecs-dev' (HTTP 403)");
    expect(result.stderr).toContain("reserved for internal use");
  });

  it("GIVEN any other failure WHEN destroying THEN it fails and shows Prefect's message", () => {
    const result = run(destroy.command, { WORK_POOL: "dev-prefect-ecs", PREFECT_API_URL: "https://api.example/api" }, { mode: "denied" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Unauthorized: invalid API key");
  });
});
