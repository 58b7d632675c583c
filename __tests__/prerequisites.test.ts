import { describe, expect, it } from "vitest";
import { synth, VARIANTS } from "./support/synth";

const CASES: Record<string, Record<string, unknown>> = {
  ...VARIANTS,
  efs_spot: { flow_run_efs: true, flow_run_spot: true, vpc_interface_endpoints: true },
  extra_policies: { flow_run_policy_arns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] },
};

/** `aws_x.name` of every resource an expression in the text refers to. */
const referencedResources = (text: string) => new Set([...text.matchAll(/\$\{(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)\./g)].map((m) => m[1]));

/** What the pool is written after: the pool's null_resource, or (in-stack server) the worker that writes it. */
const poolDependsOn = (json: any): string[] =>
  (json.resource.null_resource?.work_pool_pool ?? json.resource.aws_ecs_service.worker_service).depends_on;

describe("prerequisites: what the pool and the worker wait for", () => {
  it.each(Object.keys(CASES))("GIVEN the %s stack THEN every resource the base job template names is in the pool's depends_on", (name) => {
    const { json } = synth(CASES[name]) as { json: any };
    const named = referencedResources(json.locals.base_job_template);
    expect(named.size).toBeGreaterThan(5);
    const deps = poolDependsOn(json);
    expect([...named].filter((address) => !deps.includes(address))).toEqual([]);
  });

  it.each(Object.keys(CASES))(
    "GIVEN the %s stack THEN flow-run policy attachments are in the pool's depends_on (IAM is eventually consistent)",
    (name) => {
      const { json } = synth(CASES[name]) as { json: any };
      const deps = poolDependsOn(json);
      const attachments = Object.entries(json.resource.aws_iam_role_policy_attachment ?? {})
        .filter(([, a]: [string, any]) => String(a.role).includes("flow_run"))
        .map(([id]) => `aws_iam_role_policy_attachment.${id}`);
      const inline = Object.entries(json.resource.aws_iam_role_policy ?? {})
        .filter(([, p]: [string, any]) => String(p.role).includes("flow_run"))
        .map(([id]) => `aws_iam_role_policy.${id}`);
      expect([...attachments, ...inline].filter((address) => !deps.includes(address))).toEqual([]);
    },
  );

  it("GIVEN a managed secret THEN the worker waits for its value, its policies and the pool's template", () => {
    const { json } = synth() as { json: any };
    const deps: string[] = json.resource.aws_ecs_service.worker_service.depends_on;
    expect(deps).toEqual(
      expect.arrayContaining([
        "aws_secretsmanager_secret_version.secrets_secret_value",
        "aws_iam_role_policy_attachment.iam_worker_execution_managed_policy",
        "aws_iam_role_policy.iam_worker_task_prefect_ecs_worker_policy",
        "aws_ecs_cluster_capacity_providers.cluster_capacity_providers",
        "aws_nat_gateway.network_nat_gateway_0",
        "null_resource.work_pool_template_sync",
      ]),
    );
  });
});
