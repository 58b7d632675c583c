import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { templateProblems } from "../../src/work-pool/template";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";
import { provisionerOf, renderStrict, runWithStandInPrefect } from "../support/emulator-prefect";
import { CANARY_API_KEY, PLAN_TIME_ENV, VARIANTS } from "../support/synth";

/** The default stack (single NAT gateway, managed secret, ECS event observer) through its whole lifecycle. */
const lane = new EmulatorLane("default");

beforeAll(() => lane.deploy(VARIANTS.default), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("the work pool commands, with the template Terraform renders from the applied stack", () => {
  /** What Terraform substitutes into the provisioners: plan-time variables and the applied template. */
  const applied = () => ({
    "var.prefect_account_id": PLAN_TIME_ENV.TF_VAR_prefect_account_id,
    "var.prefect_workspace_id": PLAN_TIME_ENV.TF_VAR_prefect_workspace_id,
    "var.prefect_api_key": PLAN_TIME_ENV.TF_VAR_prefect_api_key,
    // The output and the provisioner read the same local, so the output is the text the command receives.
    "local.base_job_template": lane.outputs.base_job_template,
  });
  const rendered = (environment: Record<string, string>, values: Record<string, string>) =>
    Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, renderStrict(value, values)]));

  it("GIVEN the synthesized stack THEN the pool command and the base_job_template output read the same template", () => {
    const create = provisionerOf(lane.json, "work_pool_template_sync");
    expect(lane.json.output.base_job_template.value).toBe("${local.base_job_template}");
    expect(create.environment.BASE_JOB_TEMPLATE).toBe("${local.base_job_template}");
  });

  it("GIVEN the applied stack WHEN the create command runs THEN the pool gets a template file with the applied ARNs, which Prefect accepts", () => {
    const create = provisionerOf(lane.json, "work_pool_template_sync");
    const result = runWithStandInPrefect(create.command, rendered(create.environment, applied()));
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.map((c) => c.args.slice(0, 3))).toEqual([
      ["work-pool", "inspect", lane.settings.work_pool_name],
      ["work-pool", "create", lane.settings.work_pool_name],
    ]);
    const call = result.calls[1];
    expect(call.credential).toBe(CANARY_API_KEY);
    expect(call.apiUrl).toBe(
      `https://api.prefect.cloud/api/accounts/${PLAN_TIME_ENV.TF_VAR_prefect_account_id}/workspaces/${PLAN_TIME_ENV.TF_VAR_prefect_workspace_id}`,
    );
    expect(call.templateText).toBe(lane.outputs.base_job_template);
    const template = JSON.parse(call.templateText!);
    expect(templateProblems(template)).toEqual([]);
    expect(template.variables.properties.cluster.default).toBe(lane.outputs.cluster_arn);
    expect(template.variables.properties.network_configuration.default.subnets).toEqual(lane.outputs.private_subnet_ids);
    expect(call.templateText).toMatch(/arn:aws:iam::123456789012:role\//);
    expect(result.stdout + result.stderr).not.toContain(CANARY_API_KEY);
  });

  it("GIVEN the applied stack WHEN the destroy-time command runs THEN the pool named in its triggers is deleted", () => {
    const pool = lane.json.resource.null_resource.work_pool_pool;
    const destroy = provisionerOf(lane.json, "work_pool_pool", "destroy");
    const triggers = Object.fromEntries(
      Object.entries(pool.triggers as Record<string, string>).map(([k, v]) => [`self.triggers.${k}`, renderStrict(v, applied())]),
    );
    const result = runWithStandInPrefect(destroy.command, rendered(destroy.environment, triggers));
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.map((c) => c.args)).toEqual([["work-pool", "delete", lane.settings.work_pool_name]]);
  });
});

describeReplanAndDestroy(lane);
