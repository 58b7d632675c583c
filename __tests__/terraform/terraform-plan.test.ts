import { beforeAll, describe, expect, it } from "vitest";
import {
  createdByType,
  initValidatePlan,
  moduleChanges,
  modulesRoot,
  type PlanResult,
  setAsideWorkPool,
  synthesizedByType,
  terraform,
  terraformTooling,
} from "../support/terraform";
import { summarizePlan } from "../../src/review/plan-summary";
import { costMarkdown, estimate, inventoryOf, resourcesOfPlan, resourcesOfSynth } from "../../src/review/cost";
import { expectNoCanary, PLAN_TIME_ENV, SECRET_CANARIES, synth, synthState, type TerraformJson, VARIANTS } from "../support/synth";
import { SECRET_KEYS } from "../../src/settings";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The real-Terraform tier: every stack variant the other tests use, and the state bootstrap stack, is
 * validated and planned (create-only) by Terraform with the real hashicorp/aws 5.100.0 provider, offline,
 * with fake credentials. The work pool's null_resource/local_file are set aside (their providers are not
 * installable here); the work-pool tests run their commands instead.
 */
const CASES: Record<string, Record<string, unknown>> = {
  default: VARIANTS.default,
  per_az_nat: VARIANTS.per_az_nat,
  existing_vpc: VARIANTS.existing_vpc,
  self_hosted: VARIANTS.self_hosted,
  existing_secret: VARIANTS.existing_secret,
  nat_instance: VARIANTS.nat_instance,
  ec2_capacity: VARIANTS.ec2_capacity,
  public_subnets: { ...VARIANTS.public_subnets, flow_run_efs: true },
  alarms: {
    ...VARIANTS.nat_instance,
    alarm_email: "ops@example.com",
    alarm_sns_topic_arn: "arn:aws:sns:us-east-1:123456789012:ops-alerts",
    monthly_budget_usd: 50,
  },
  efs_spot: { flow_run_efs: true, flow_run_spot: true, work_queues: ["default"], vpc_interface_endpoints: true, worker_capacity: "fargate_spot" },
  manual_pool: { manage_work_pool: false },
  prefect_server: VARIANTS.prefect_server,
  prefect_server_public: {
    ...VARIANTS.prefect_server,
    internet_egress: "nat_instance",
    nat_instance_ami_id: "ami-0123456789abcdef0",
    self_hosted_auth: "auth_string",
    prefect_server_public_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    prefect_server_public_cidrs: ["203.0.113.0/24"],
    prefect_server_cpu_architecture: "ARM64",
    service_discovery_namespace: "acme.internal",
    prefect_server_db_restore_snapshot: "prefect-ecs-dev-prefect-final",
  },
  autoscaling: { worker_min_count: 1, worker_max_count: 3, worker_cpu_architecture: "ARM64", ecs_event_observer: true },
};

const synthesized: Record<string, TerraformJson> = {};
let result: PlanResult;

beforeAll(async () => {
  terraformTooling();
  for (const [name, overrides] of Object.entries(CASES)) synthesized[name] = setAsideWorkPool(synth(overrides).json);
  synthesized.state = synthState({ state_bucket: "acme-prefect-ecs-state" }).json;
  result = await initValidatePlan(modulesRoot(synthesized), PLAN_TIME_ENV);
}, 300_000);

const after = (name: string, address: string) =>
  moduleChanges(result.json, name).find((c) => c.address === `module.${name}.${address}`)?.change.after;
const expressionsOf = (name: string, address: string) =>
  result.json.configuration.root_module.module_calls[name].module.resources.find((r: any) => r.address === address).expressions;

describe("real Terraform: validate and a create-only plan of every variant", () => {
  it.each(Object.keys(CASES))("plans exactly the resources the %s stack synthesizes, all as creations", (name) => {
    const changes = moduleChanges(result.json, name);
    expect(createdByType(changes)).toEqual(synthesizedByType(synthesized[name]));
    expect(changes.filter((c) => c.mode === "managed").every((c) => c.change.actions.join() === "create")).toBe(true);
  });

  it.each(Object.keys(CASES).filter((name) => name !== "public_subnets"))("keeps the %s worker and its subnets off public IPs", (name) => {
    expect(after(name, "aws_ecs_service.worker_service").network_configuration[0].assign_public_ip).toBe(false);
    const subnets = moduleChanges(result.json, name).filter((c) => c.type === "aws_subnet");
    expect(subnets.every((c) => c.change.after.map_public_ip_on_launch === false)).toBe(true);
  });

  it("injects the stack's secret through valueFrom, or the operator's secret without creating one", () => {
    expect(expressionsOf("default", "aws_ecs_task_definition.worker_task_definition").container_definitions.references).toContain(
      "aws_secretsmanager_secret.secrets_secret.arn",
    );
    expect(moduleChanges(result.json, "existing_secret").filter((c) => c.type === "aws_secretsmanager_secret")).toEqual([]);
  });

  it("GIVEN internet_egress = public_subnets THEN only the worker asks for a public IP: no subnet hands them out, and there is no NAT", () => {
    expect(after("public_subnets", "aws_ecs_service.worker_service").network_configuration[0].assign_public_ip).toBe(true);
    const changes = moduleChanges(result.json, "public_subnets");
    const subnets = changes.filter((c) => c.type === "aws_subnet");
    expect(subnets.map((c) => c.change.after.tags.Tier)).toEqual(["public", "public"]);
    expect(subnets.every((c) => c.change.after.map_public_ip_on_launch === false)).toBe(true);
    expect(changes.filter((c) => ["aws_nat_gateway", "aws_eip", "aws_autoscaling_group"].includes(c.type))).toEqual([]);
  });

  it("GIVEN internet_egress = nat_instance THEN the instance requires IMDSv2, encrypts its volume, takes standard CPU credits, and the private routes target its static interface", () => {
    const template = after("nat_instance", "aws_launch_template.network_nat_instance_launch_template");
    expect(template.metadata_options).toEqual([expect.objectContaining({ http_tokens: "required", http_put_response_hop_limit: 1 })]);
    expect(template.block_device_mappings[0].ebs[0]).toMatchObject({ encrypted: "true", volume_type: "gp3" });
    expect(template.credit_specification).toEqual([{ cpu_credits: "standard" }]);
    expect(template.image_id).toBe("ami-0123456789abcdef0");
    expect(after("nat_instance", "aws_network_interface.network_nat_instance_network_interface").source_dest_check).toBe(false);
    expect(after("nat_instance", "aws_autoscaling_group.network_nat_instance_autoscaling_group")).toMatchObject({ min_size: 1, max_size: 1 });
    for (const i of [0, 1]) {
      expect(expressionsOf("nat_instance", `aws_route.network_private_default_route_${i}`).network_interface_id.references).toContain(
        "aws_network_interface.network_nat_instance_network_interface.id",
      );
    }
    expect(createdByType(moduleChanges(result.json, "nat_instance")).aws_nat_gateway).toBeUndefined();
  });

  it("plans one NAT gateway in single mode and one per AZ in per_az mode", () => {
    expect(createdByType(moduleChanges(result.json, "default")).aws_nat_gateway).toBe(1);
    expect(createdByType(moduleChanges(result.json, "per_az_nat")).aws_nat_gateway).toBe(3);
    expect(createdByType(moduleChanges(result.json, "existing_vpc")).aws_nat_gateway).toBeUndefined();
  });

  it("plans the state bucket with versioning and public access blocked, and the lock table protected", () => {
    expect(after("state", "aws_s3_bucket_public_access_block.bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(after("state", "aws_dynamodb_table.lock_table")).toMatchObject({
      name: "prefect-ecs-terraform-locks",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "LockID",
      deletion_protection_enabled: true,
      point_in_time_recovery: [{ enabled: true }],
    });
  });

  it("summarizes the real plan for reviewers: creations only, every module's resources, a cost", () => {
    const total = Object.values(synthesized).reduce((sum, json) => sum + Object.values(synthesizedByType(json)).reduce((a, b) => a + b, 0), 0);
    const summary = summarizePlan(result.json, costMarkdown(estimate(inventoryOf(resourcesOfPlan(result.json)))));
    expect(summary).toContain(`**Plan:** ${total} to add, 0 to change, 0 to replace, 0 to destroy.`);
    expect(summary).not.toContain("Destroys and replacements");
    const nats = Object.values(synthesized).reduce((sum, json) => sum + (synthesizedByType(json).aws_nat_gateway ?? 0), 0);
    expect(summary).toContain(`| add | \`aws_nat_gateway\` | ${nats} |`);
    expect(summary).toContain(`| NAT gateway hours | ${nats} × 730 h`);
    expect(summary).toContain("`module.default.network_vpc`");
    expect(summary).toContain("### Estimated monthly cost");
    expectNoCanary(summary, "the plan summary");
  });

  it.each(Object.keys(CASES))("prices the %s plan exactly as the stack it was planned from", (name) => {
    const fromPlan = estimate(inventoryOf(resourcesOfPlan({ ...result.json, resource_changes: moduleChanges(result.json, name) }), "us-east-1"));
    const fromSynth = estimate(inventoryOf(resourcesOfSynth(synthesized[name]), "us-east-1"));
    expect(fromPlan.lines).toEqual(fromSynth.lines);
    expect(fromPlan.total).toBeGreaterThan(0);
  });

  it("GIVEN every secret as a TF_VAR_ canary THEN the stacks use each, and plan output, plan JSON and the plan file show none", () => {
    for (const key of SECRET_KEYS) expect(PLAN_TIME_ENV[`TF_VAR_${key}` as keyof typeof PLAN_TIME_ENV]).toBe(SECRET_CANARIES[key]);
    const uses = (key: string) => Object.values(synthesized).some((json) => JSON.stringify(json.resource).includes(`var.${key}`));
    expect(SECRET_KEYS.filter((key) => !uses(key))).toEqual([]);
    expectNoCanary(result.text, "plan output");
    expectNoCanary(JSON.stringify(result.json), "plan JSON");
    expectNoCanary(readFileSync(join(result.dir, "plan.bin")).toString("latin1"), "the saved plan file");
  });
});

describe("real Terraform: plan-time checks", () => {
  it("GIVEN the internet-facing listener and a weak auth string in TF_VAR_ THEN the plan stops with the rule, never the value", () => {
    const root = modulesRoot({ server: synthesized.prefect_server_public });
    terraform(root, ["init", "-input=false"]);
    const plan = terraform(root, ["plan", "-input=false"], {
      env: { ...PLAN_TIME_ENV, TF_VAR_prefect_api_auth_string: "admin:weak-pw" },
      check: false,
    });
    expect(plan.status).toBe(1);
    expect(plan.output).toMatch(/prefect_api_auth_string must be <user>:<password> with a password of at least\s+16 characters/);
    expect(plan.output).not.toContain("weak-pw");
  });

  it("GIVEN every secret as a canary in a var file (as terraform.tfvars reaches Terraform) THEN plan output and plan JSON show none", () => {
    const root = modulesRoot({ cloud: synthesized.manual_pool, server: synthesized.prefect_server_public });
    const file = Object.entries(SECRET_CANARIES)
      .map(([key, canary]) => `${key} = ${JSON.stringify(canary)}`)
      .concat(['prefect_account_id = "0b5c1a2e-1111-4222-8333-944455556666"', 'prefect_workspace_id = "1b5c1a2e-1111-4222-8333-944455556666"'])
      .join("\n");
    writeFileSync(join(root, "secrets.tfvars"), `${file}\n`);
    terraform(root, ["init", "-input=false"]);
    const plan = terraform(root, ["plan", "-input=false", "-var-file=secrets.tfvars", "-out=plan.bin"]);
    const json = terraform(root, ["show", "-json", "plan.bin"]).stdout;
    expect(JSON.parse(json).resource_changes.length).toBeGreaterThan(0);
    expectNoCanary(plan.output, "plan output");
    expectNoCanary(json, "plan JSON");
  });

  it("refuses a changed synth-time setting and a Prefect id that is not a UUID, naming each", () => {
    const root = modulesRoot({ checks: synthesized.manual_pool }, { checks: { worker_cpu: 1024, prefect_account_id: "my-account" } });
    terraform(root, ["init", "-input=false"]);
    const plan = terraform(root, ["plan", "-input=false"], { env: PLAN_TIME_ENV, check: false });
    expect(plan.status).toBe(1);
    expect(plan.output).toContain("worker_cpu differs from the value the stack was synthesized with");
    expect(plan.output).toContain("prefect_account_id must be your Prefect Cloud account id");
  });
});
