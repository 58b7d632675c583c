import { describe, expect, it } from "vitest";
import { DEFAULT_WORKER_IMAGE } from "../src/settings";
import { only, resources, synth, synthVariant } from "./support/synth";

const workerEgress = (json: any) =>
  Object.values(resources(json, "aws_vpc_security_group_egress_rule")).filter(
    (r) => r.security_group_id === "${aws_security_group.worker_security_group_security_group.id}",
  );
const containerOf = (json: any) => JSON.parse(only(json, "aws_ecs_task_definition").container_definitions)[0];

describe("worker task definition", () => {
  const { json } = synth();
  const taskDefinition = only(json, "aws_ecs_task_definition");
  const container = containerOf(json);

  it("is a Fargate awsvpc task with the configured size and architecture", () => {
    expect(taskDefinition).toMatchObject({
      requires_compatibilities: ["FARGATE"],
      network_mode: "awsvpc",
      cpu: "512",
      memory: "1024",
      runtime_platform: { operating_system_family: "LINUX", cpu_architecture: "X86_64" },
    });
    expect(only(synth({ worker_cpu_architecture: "ARM64" }).json, "aws_ecs_task_definition").runtime_platform.cpu_architecture).toBe("ARM64");
  });

  it("runs the pinned prefect-aws image as container prefect-worker", () => {
    expect(container.name).toBe("prefect-worker");
    expect(container.image).toBe(DEFAULT_WORKER_IMAGE);
    expect(DEFAULT_WORKER_IMAGE).not.toMatch(/:latest$/);
  });

  it("starts an ECS worker on the pool, with its health endpoint", () => {
    expect(container.command).toEqual(["prefect", "worker", "start", "--pool", "dev-prefect-ecs", "--type", "ecs", "--with-healthcheck"]);
    expect(container.healthCheck.command[1]).toContain("http://localhost:8080/health");
  });

  it("builds PREFECT_API_URL from the Cloud account and workspace variables", () => {
    expect(container.environment).toContainEqual({
      name: "PREFECT_API_URL",
      value: "https://api.prefect.cloud/api/accounts/${var.prefect_account_id}/workspaces/${var.prefect_workspace_id}",
    });
  });

  it("injects the API key with secrets[].valueFrom and never through environment", () => {
    expect(container.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: "${aws_secretsmanager_secret.secrets_secret.arn}" }]);
    expect(container.environment.map((e: any) => e.name)).not.toContain("PREFECT_API_KEY");
  });

  it("logs to the worker log group with awslogs", () => {
    expect(container.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": "${aws_cloudwatch_log_group.logs_worker_log_group.name}",
        "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "worker",
      },
    });
  });

  it("keeps the root filesystem read-only with a scratch volume at /tmp", () => {
    expect(container.readonlyRootFilesystem).toBe(true);
    expect(container.mountPoints).toEqual([{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }]);
    expect(taskDefinition.volume).toEqual([{ name: "scratch" }]);
  });

  it("is never privileged and shares no host namespaces", () => {
    expect(container.privileged).toBeUndefined();
    expect(taskDefinition.pid_mode).toBeUndefined();
  });

  it("GIVEN a self-hosted server with an auth string THEN the URL is used as given and the auth string comes from its secret", () => {
    const selfHosted = containerOf(synthVariant("self_hosted").json);
    expect(selfHosted.environment).toContainEqual({ name: "PREFECT_API_URL", value: "http://prefect.internal:4200/api" });
    expect(selfHosted.secrets).toEqual([{ name: "PREFECT_API_AUTH_STRING", valueFrom: "${aws_secretsmanager_secret.secrets_secret.arn}" }]);
  });

  it("GIVEN a self-hosted server without auth THEN no secret is injected", () => {
    expect(containerOf(synth({ prefect_api_url: "https://prefect.example.com/api" }).json).secrets).toEqual([]);
  });

  it("GIVEN an existing JSON secret THEN valueFrom selects the JSON key", () => {
    expect(containerOf(synthVariant("existing_secret").json).secrets).toEqual([
      { name: "PREFECT_API_KEY", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbC123:api_key::" },
    ]);
  });
});

describe("worker service", () => {
  const { json } = synth({ worker_desired_count: 2 });
  const service = only(json, "aws_ecs_service");

  it("runs the desired count in private subnets without a public IP", () => {
    expect(service.desired_count).toBe(2);
    expect(service.network_configuration).toEqual({
      subnets: ["${aws_subnet.network_private_subnet_0.id}", "${aws_subnet.network_private_subnet_1.id}"],
      security_groups: ["${aws_security_group.worker_security_group_security_group.id}"],
      assign_public_ip: false,
    });
  });

  it("rolls back failed deployments and starts the new worker before stopping the old", () => {
    expect(service).toMatchObject({
      deployment_circuit_breaker: { enable: true, rollback: true },
      deployment_minimum_healthy_percent: 100,
      deployment_maximum_percent: 200,
      propagate_tags: "SERVICE",
      enable_execute_command: false,
      platform_version: "LATEST",
    });
  });

  it("waits for capacity providers, the NAT route, its roles' policies, the secret's value and the work pool", () => {
    expect(service.depends_on).toEqual([
      "aws_ecs_cluster.cluster_cluster",
      "aws_ecs_cluster_capacity_providers.cluster_capacity_providers",
      "aws_nat_gateway.network_nat_gateway_0",
      "aws_iam_role_policy_attachment.iam_worker_execution_managed_policy",
      "aws_iam_role_policy.iam_worker_execution_read_prefect_credential_policy",
      "aws_iam_role_policy.iam_worker_task_prefect_ecs_worker_policy",
      "aws_secretsmanager_secret.secrets_secret",
      "aws_secretsmanager_secret_version.secrets_secret_value",
      "null_resource.work_pool_template_sync",
    ]);
  });

  it("rolls a capacity change out as a deployment rather than replacing the service", () => {
    expect(service.force_new_deployment).toBe(true);
  });

  it("GIVEN worker_capacity fargate_spot THEN the service runs on FARGATE_SPOT", () => {
    expect(only(synth({ worker_capacity: "fargate_spot" }).json, "aws_ecs_service").capacity_provider_strategy).toEqual([
      { capacity_provider: "FARGATE_SPOT", weight: 1, base: 0 },
    ]);
    expect(service.capacity_provider_strategy[0].capacity_provider).toBe("FARGATE");
  });

  it("GIVEN enable_ecs_exec THEN ECS Exec is on and the root filesystem is writable", () => {
    const exec = synth({ enable_ecs_exec: true }).json;
    expect(only(exec, "aws_ecs_service").enable_execute_command).toBe(true);
    expect(containerOf(exec).readonlyRootFilesystem).toBe(false);
  });
});

describe("worker security group", () => {
  it("has no ingress and only HTTPS egress, every rule described", () => {
    const { json } = synth();
    const group = resources(json, "aws_security_group").worker_security_group_security_group;
    expect(group.description).toMatch(/no inbound/);
    expect(group.ingress).toBeUndefined();
    expect(resources(json, "aws_vpc_security_group_ingress_rule")).toEqual({});
    const egress = workerEgress(json);
    expect(egress.map((r) => [r.ip_protocol, r.from_port, r.to_port])).toEqual([["tcp", 443, 443]]);
    expect(egress.every((r) => r.description.length > 0)).toBe(true);
  });

  it("GIVEN a self-hosted API on port 4200 THEN that port is allowed out too", () => {
    const egress = workerEgress(synthVariant("self_hosted").json);
    expect(egress.map((r) => r.from_port).sort()).toEqual([4200, 443]);
  });
});
