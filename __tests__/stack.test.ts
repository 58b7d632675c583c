import { describe, expect, it } from "vitest";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { terraformJsonEncode } from "../src/stacks/variables";
import { only, resources, settingsProblems, synth, synthState } from "./support/synth";

describe("providers and state backend", () => {
  const { text, json } = synth({ tags: { Team: "data" } });

  it("configures the AWS provider with the region and default tags on every resource", () => {
    expect(text).toHaveProviderWithProperties(AwsProvider, {
      region: "us-east-1",
      default_tags: [{ tags: { Team: "data", Project: "prefect-ecs", Environment: "dev", ManagedBy: "cdktf" } }],
    });
  });

  it("requires Terraform 1.11 or later in both stacks (write-only arguments and ephemeral variables need it)", () => {
    expect(json.terraform.required_version).toBe(">= 1.11");
    expect(synthState({ state_bucket: "acme-tfstate" }).json.terraform.required_version).toBe(">= 1.11");
  });

  it("GIVEN no state_bucket THEN state is local, at the project root, with no absolute path", () => {
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.prefect-ecs-dev.tfstate" } });
  });

  it("GIVEN no state_bucket THEN the operator is told how to move state to S3", () => {
    expect(synth().stack.notes.join(" ")).toMatch(/set state_bucket .* --migrate-state/);
  });

  it("GIVEN state_bucket THEN an encrypted S3 backend with DynamoDB locking keyed by project and environment", () => {
    const remote = synth({ state_bucket: "acme-tfstate", state_lock_table: "acme-locks", state_region: "eu-west-1", environment: "prod" });
    expect(remote.json.terraform.backend).toEqual({
      s3: { bucket: "acme-tfstate", key: "prefect-ecs/prod/terraform.tfstate", region: "eu-west-1", dynamodb_table: "acme-locks", encrypt: true },
    });
    expect(remote.stack.notes).toEqual([]);
  });
});

describe("Terraform variables", () => {
  const { json } = synth({ worker_cpu: 1024, worker_memory: 2048, tags: { b: "2", a: "1" } });

  it("declares every settings key, so terraform.tfvars raises no undeclared-variable warning", async () => {
    const { SETTING_KEYS } = await import("../src/settings");
    expect(Object.keys(json.variable).sort()).toEqual([...SETTING_KEYS].sort());
  });

  it("makes the API key sensitive and ephemeral, so it never reaches state or plan output", () => {
    expect(json.variable.prefect_api_key).toMatchObject({ sensitive: true, ephemeral: true, nullable: false });
    expect(json.variable.prefect_api_key.default).toBeUndefined();
  });

  it("checks Prefect ids at plan time with the same UUID rule the app uses", () => {
    const samples = [
      "0b5c1a2e-1111-4222-8333-944455556666",
      "0B5C1A2E-1111-4222-8333-944455556666",
      "0b5c1a2e11114222833394445555666",
      "0b5c1a2e-1111-4222-8333-9444555566667",
      " 0b5c1a2e-1111-4222-8333-944455556666",
      "my-account",
      "",
    ];
    for (const key of ["prefect_account_id", "prefect_workspace_id"]) {
      const condition: string = json.variable[key].validation[0].condition;
      const pattern = /can\(regex\("((?:[^"\\]|\\.)*)", var\.(\w+)\)\)/.exec(condition);
      expect(pattern?.[2]).toBe(key);
      // Terraform's regex is RE2; this pattern uses only syntax RE2 and JavaScript read alike.
      const planTime = new RegExp(JSON.parse(`"${pattern![1]}"`));
      for (const sample of samples) expect(planTime.test(sample), sample).toBe(settingsProblems({ [key]: sample }) === "");
    }
    expect(samples.filter((sample) => settingsProblems({ prefect_account_id: sample }) === "")).toEqual([samples[0]]);
  });

  it("fails the plan when a synth-time setting differs from the value the stack was built with", () => {
    expect(json.variable.worker_cpu.validation[0].condition).toBe('${var.worker_cpu == null || jsonencode(var.worker_cpu) == "1024"}');
    expect(json.variable.nat_gateway_mode.validation[0].condition).toBe("${var.nat_gateway_mode == null}");
  });

  it("encodes values exactly like Terraform's jsonencode: sorted keys and HTML-safe escapes", () => {
    expect(terraformJsonEncode({ b: "2", a: "<1>" })).toBe('{"a":"\\u003c1\\u003e","b":"2"}');
    expect(json.variable.tags.validation[0].condition).toContain(JSON.stringify('{"a":"1","b":"2"}'));
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbC123:a<1>&";
    const existing = synth({ existing_api_key_secret_arn: arn }).json;
    expect(existing.variable.existing_api_key_secret_arn.validation[0].condition).toContain(
      JSON.stringify(JSON.stringify(arn).replace("<1>&", "\\u003c1\\u003e\\u0026")),
    );
  });

  it("rejects an empty API key at plan time only when the stack uses the key", () => {
    expect(json.variable.prefect_api_key.validation).toEqual([
      { condition: "${length(trimspace(var.prefect_api_key)) > 0}", error_message: "prefect_api_key must not be empty." },
    ]);
    expect(json.variable.prefect_api_auth_string.validation).toBeUndefined();
  });

  it("GIVEN an existing secret and no managed work pool THEN the API key variable is optional", () => {
    const existing = synth({
      existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbC123",
      manage_work_pool: false,
    }).json;
    expect(existing.variable.prefect_api_key).toMatchObject({ nullable: true, default: null });
    // A non-empty check on an unused key would fail every plan that leaves it unset (null) or empty (CI's unset secret).
    expect(existing.variable.prefect_api_key.validation).toBeUndefined();
  });
});

describe("registry", () => {
  const { text, json } = synth({ ecr_keep_image_count: 12 });

  it("creates worker and flow repositories that scan on push, are encrypted and immutable by default", () => {
    for (const name of ["prefect-ecs-dev/worker", "prefect-ecs-dev/flows"]) {
      expect(text).toHaveResourceWithProperties(EcrRepository, {
        name,
        image_tag_mutability: "IMMUTABLE",
        image_scanning_configuration: { scan_on_push: true },
        encryption_configuration: [{ encryption_type: "AES256" }],
        force_delete: false,
      });
    }
  });

  it("expires untagged images and keeps the last N", () => {
    const policy = JSON.parse(resources(json, "aws_ecr_lifecycle_policy").registry_worker_lifecycle_policy.policy);
    expect(policy.rules.map((r: any) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 },
    ]);
  });

  it("GIVEN MUTABLE and force delete THEN both repositories follow", () => {
    const mutable = synth({ ecr_image_tag_mutability: "MUTABLE", ecr_force_delete: true }).json;
    expect(Object.values(resources(mutable, "aws_ecr_repository")).map((r) => [r.image_tag_mutability, r.force_delete])).toEqual([
      ["MUTABLE", true],
      ["MUTABLE", true],
    ]);
  });
});

describe("cluster and logs", () => {
  const { text, json } = synth();

  it("leaves Container Insights off by default: no alarm reads its metrics", () => {
    expect(text).toHaveResourceWithProperties(EcsCluster, { name: "prefect-ecs-dev", setting: [{ name: "containerInsights", value: "disabled" }] });
  });

  it("offers FARGATE and FARGATE_SPOT with FARGATE as the default strategy", () => {
    expect(only(json, "aws_ecs_cluster_capacity_providers")).toMatchObject({
      capacity_providers: ["FARGATE", "FARGATE_SPOT"],
      default_capacity_provider_strategy: [{ capacity_provider: "FARGATE", weight: 1, base: 0 }],
    });
  });

  it("has no Cloud Map namespace unless asked for", () => {
    expect(text).not.toHaveResource(ServiceDiscoveryPrivateDnsNamespace);
    const withNamespace = synth({ service_discovery_namespace: "prefect.internal" });
    expect(withNamespace.text).toHaveResourceWithProperties(ServiceDiscoveryPrivateDnsNamespace, { name: "prefect.internal" });
  });

  it("keeps worker and flow-run logs for the configured retention", () => {
    const logs = resources(synth({ log_retention_days: 90 }).json, "aws_cloudwatch_log_group");
    expect(logs.logs_worker_log_group).toMatchObject({ name: "/ecs/prefect-ecs-dev/worker", retention_in_days: 90 });
    expect(logs.logs_flow_run_log_group).toMatchObject({ name: "/ecs/prefect-ecs-dev/flow-runs", retention_in_days: 90 });
  });

  it("exposes the outputs operators need", () => {
    expect(Object.keys(json.output).sort()).toEqual(
      [
        "base_job_template",
        "cluster_arn",
        "cluster_name",
        "ecs_events_queue_name",
        "flow_run_cpu_architecture",
        "flow_run_efs_mount_path",
        "flow_run_execution_role_arn",
        "flow_run_log_group",
        "flow_run_security_group_id",
        "flow_run_task_role_arn",
        "flows_repository_url",
        "prefect_credential_secret_arn",
        "private_subnet_ids",
        "vpc_id",
        "work_pool_name",
        "worker_execution_role_arn",
        "worker_log_group",
        "worker_repository_url",
        "worker_service_name",
        "worker_task_role_arn",
      ].sort(),
    );
  });

  it("gives every resource a readable logical id without hash suffixes", () => {
    const ids = Object.values(json.resource).flatMap((byId) => Object.keys(byId));
    expect(ids.filter((id) => /_[0-9A-F]{8}$/.test(id))).toEqual([]);
    expect(ids).toContain("worker_service");
  });
});

describe("jsonencode order", () => {
  it("GIVEN map keys beyond U+FFFF WHEN encoded THEN they sort by UTF-8 bytes, as Go's jsonencode does", () => {
    // U+FF71 (3 UTF-8 bytes, EF BD B1) sorts before U+20000 (4 bytes, F0 A0 80 80) in Go; UTF-16 order is the reverse.
    expect(terraformJsonEncode({ "𠀀": "a", ｱ: "b" })).toBe('{"ｱ":"b","𠀀":"a"}');
  });
});
