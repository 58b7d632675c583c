import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { MAX_TASK_DEFINITION_BYTES, renderedTaskDefinitionBytes } from "../src/compute/task-definition-size";
import { resources, settingsProblems, synth, type Synthesized, type TerraformJson } from "./support/synth";

/**
 * ECS's "Task definition size limit", 64 KiB and not adjustable (Amazon ECS service quotas,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html). The stack refuses
 * settings that would exceed it at synth, from the size Terraform will render, not the size of cdk.tf.json.
 */
const queues = (count: number, length = 63) => Array.from({ length: count }, (_, i) => `q${i}-`.padEnd(length, "x"));

/** Synthesizes, or returns the refusal (SettingsError's message) when the stack refuses the settings. */
function synthOrRefusal(values: Record<string, unknown>): string {
  try {
    synth(values);
    return "";
  } catch (error) {
    return String((error as Error).message);
  }
}

function estimateOf({ stack }: Synthesized, id: string): number {
  const taskDefinition = stack.node.findAll().find((c) => (c as EcsTaskDefinition).friendlyUniqueId === id) as EcsTaskDefinition;
  return renderedTaskDefinitionBytes(stack, taskDefinition, "us-east-1");
}

describe("ECS's 64 KiB task-definition limit, checked at synth", () => {
  it.each([
    ["1000 work queues of 63 characters (a Prefect Cloud worker)", { work_queues: queues(1000) }, ["work_queues (1000 queues"]],
    [
      "500 work queues of 63 characters with the in-stack server (names written twice, and the pool's template)",
      { prefect_server: true, work_queues: queues(500) },
      ["work_queues (500 queues", "written twice", "prefect_server = true (the work pool's base job template"],
    ],
    ["a 70,000-character prefect_api_url", { prefect_api_url: `https://prefect.example.com/${"a/".repeat(35_000)}api` }, ["prefect_api_url: 700"]],
  ])("GIVEN %s THEN synth refuses it, naming the settings, the computed size and the limit", (_, values, named) => {
    const refusal = synthOrRefusal(values);
    expect(refusal).toMatch(
      /The worker's task definition would be about \d+ bytes \(\d+\.\d KiB\) once Terraform renders it, above ECS's limit of 65536 bytes \(64 KiB, RegisterTaskDefinition\); what makes it big: /,
    );
    const bytes = Number(/about (\d+) bytes/.exec(refusal)![1]);
    expect(bytes).toBeGreaterThan(MAX_TASK_DEFINITION_BYTES);
    for (const text of named) expect(refusal).toContain(text);
    // Only settings the operator wrote are named; settings validation itself has nothing against the values.
    expect(refusal).not.toMatch(/worker_image|work_pool_name/);
    expect(settingsProblems({ availability_zones: ["us-east-1a", "us-east-1b"], ...values })).toBe("");
  });

  it.each([
    ["the defaults (Prefect Cloud)", {}, "worker_task_definition"],
    ["the in-stack server's worker", { prefect_server: true }, "worker_task_definition"],
    ["the in-stack server", { prefect_server: true }, "server_task_definition"],
    ["500 queues of 63 characters on Prefect Cloud", { work_queues: queues(500) }, "worker_task_definition"],
    [
      "the largest realistic in-stack setup: 100 long queues, EFS, the pull-through cache, the longest names",
      {
        project_name: "p".repeat(20),
        environment: "e".repeat(12),
        prefect_server: true,
        flow_run_efs: true,
        ecr_pull_through_cache: "ecr_public",
        work_queues: queues(100),
      },
      "worker_task_definition",
    ],
  ])("GIVEN %s THEN it synthesizes, its computed size under the limit", (_, values, id) => {
    const synthesized = synth(values);
    expect(estimateOf(synthesized, id)).toBeLessThan(MAX_TASK_DEFINITION_BYTES);
  });

  /**
   * The task definition as AWS would receive it, rendered independently of the estimate: every `${…}` of
   * cdk.tf.json replaced with the value AWS would give in account 123456789012, us-east-1 (partition "aws").
   */
  function renderedAsAws(json: TerraformJson, id: string): number {
    const named = (type: string, name: string) => resources(json, type)[name];
    const value = (expression: string): string => {
      const [type, name, attribute] = expression.split(".");
      const config = named(type, name);
      if (expression === "var.prefect_account_id" || expression === "var.prefect_workspace_id") return "0b5c1a2e-1111-4222-8333-944455556666";
      if (type === "aws_secretsmanager_secret") return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${config.name}-AbC123`;
      if (type === "aws_iam_role") return `arn:aws:iam::123456789012:role/${config.name}`;
      if (attribute === "name") return config.name;
      throw new Error(`no rendering for ${expression}`);
    };
    const render = (text: string) => text.replace(/\$\{([^{}]*)\}/g, (_, expression: string) => value(expression));
    const {
      container_definitions: containers,
      family,
      cpu,
      memory,
      network_mode,
      requires_compatibilities,
      runtime_platform,
      execution_role_arn,
      task_role_arn,
      volume,
    } = resources(json, "aws_ecs_task_definition")[id];
    const others = { family, cpu, memory, network_mode, requires_compatibilities, runtime_platform, execution_role_arn, task_role_arn, volume };
    return Buffer.byteLength(render(containers)) + Buffer.byteLength(render(JSON.stringify(others)));
  }

  it("GIVEN the default stack THEN the computed size is at or above the task definition AWS would receive, and within 3 % of it", () => {
    const synthesized = synth();
    const estimate = estimateOf(synthesized, "worker_task_definition");
    const actual = renderedAsAws(synthesized.json, "worker_task_definition");
    expect(estimate).toBeGreaterThanOrEqual(actual);
    expect(estimate).toBeLessThanOrEqual(actual * 1.03);
    // And neither is the length of the expressions in cdk.tf.json: an ARN renders longer than its reference.
    expect(estimate).not.toBe(Buffer.byteLength(synthesized.json.resource.aws_ecs_task_definition.worker_task_definition.container_definitions));
  });

  it("GIVEN the in-stack server's worker THEN its base64gzip'd template counts at least at its gzipped size (Node's gzip, as Terraform's)", () => {
    const synthesized = synth({ prefect_server: true });
    const template = (synthesized.json as unknown as { locals: Record<string, string> }).locals.base_job_template;
    // A plausible rendering of the template's references (ids and ARNs of their usual lengths).
    const rendered = template.replace(/\$\{([^{}]*)\}/g, "arn:aws:iam::123456789012:role/prefect-ecs-dev-flow-run-execution");
    const base64 = gzipSync(Buffer.from(rendered)).toString("base64").length;
    const withoutTemplate = JSON.parse(synthesized.json.resource.aws_ecs_task_definition.worker_task_definition.container_definitions);
    expect(JSON.stringify(withoutTemplate)).toContain("${base64gzip(local.base_job_template)}");
    // The template is several KiB once compressed: the estimate counts it, not its 40-character expression.
    expect(estimateOf(synthesized, "worker_task_definition")).toBeGreaterThan(
      Buffer.byteLength(synthesized.json.resource.aws_ecs_task_definition.worker_task_definition.container_definitions) + base64 - 100,
    );
  });
});
