import { describe, expect, it } from "vitest";
import { ecsAgentConfig, ECS_AL2023_IMAGE_PARAMETER } from "../src/compute/flow-run-instances";
import { instanceShape, placementError } from "../src/rules/ec2-instances";
import { HOURS_PER_MONTH, PRICES } from "../src/review/price-table";
import { monthlyCost, only, resources, settingsProblems, synth } from "./support/synth";

/** flow_run_capacity = "ec2": warm EC2 instances behind an ECS capacity provider, and the pool's template that uses it. */

const EC2 = { flow_run_capacity: "ec2" };
/** The pool's base job template as synthesized (a local holding its JSON). */
const template = (json: ReturnType<typeof synth>["json"]) =>
  JSON.parse(
    Object.values((json as unknown as { locals: Record<string, unknown> }).locals).find(
      (v): v is string => typeof v === "string" && v.includes("job_configuration"),
    )!,
  );

describe("warm EC2 capacity for flow runs", () => {
  it("GIVEN the default settings THEN there is no instance, group or capacity provider, and the cluster offers Fargate only", () => {
    const { json } = synth();
    for (const type of ["aws_autoscaling_group", "aws_launch_template", "aws_ecs_capacity_provider"])
      expect(json.resource[type], type).toBeUndefined();
    expect(only(json, "aws_ecs_cluster_capacity_providers").capacity_providers).toEqual(["FARGATE", "FARGATE_SPOT"]);
  });

  it('GIVEN flow_run_capacity = "ec2" THEN a capacity provider with managed scaling, termination protection and draining joins the cluster', () => {
    const { json } = synth(EC2);
    const provider = only(json, "aws_ecs_capacity_provider");
    expect(provider.auto_scaling_group_provider).toMatchObject({
      managed_termination_protection: "ENABLED",
      managed_draining: "ENABLED",
      managed_scaling: { status: "ENABLED", target_capacity: 100, minimum_scaling_step_size: 1, maximum_scaling_step_size: 4 },
    });
    expect(provider.auto_scaling_group_provider.auto_scaling_group_arn).toMatch(/^\$\{aws_autoscaling_group\.\w+\.arn\}$/);
    expect(only(json, "aws_ecs_cluster_capacity_providers").capacity_providers).toEqual([
      "FARGATE",
      "FARGATE_SPOT",
      expect.stringMatching(/aws_ecs_capacity_provider\.\w+\.name/),
    ]);
  });

  it("GIVEN it THEN the group keeps the minimum warm in the task subnets, protects instances from scale-in and leaves desired capacity to ECS", () => {
    const { json } = synth({ ...EC2, flow_run_instances_min: 2, flow_run_instances_max: 6 });
    const group = only(json, "aws_autoscaling_group");
    expect(group).toMatchObject({ min_size: 2, max_size: 6, protect_from_scale_in: true, lifecycle: { ignore_changes: ["desired_capacity"] } });
    // Protected instances would hold a destroy (a group scaled to zero keeps them): it terminates them instead.
    expect(group).toMatchObject({ force_delete: true, force_delete_warm_pool: true });
    expect(group.desired_capacity).toBeUndefined();
    expect(group.vpc_zone_identifier).toEqual(only(json, "aws_ecs_service").network_configuration.subnets);
    expect(group.instance_refresh.preferences.scale_in_protected_instances).toBe("Refresh");
    expect(group.warm_pool).toBeUndefined();
    expect(synth({ ...EC2, flow_run_warm_pool_size: 2 }).json.resource.aws_autoscaling_group).toMatchObject({
      [Object.keys(json.resource.aws_autoscaling_group)[0]]: { warm_pool: { pool_state: "Stopped", min_size: 2 } },
    });
  });

  it("GIVEN it THEN instances use IMDSv2 only, an encrypted volume, no public address, and the current ECS image of the architecture", () => {
    const { json } = synth(EC2);
    const launch = only(json, "aws_launch_template");
    expect(launch.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
    expect(launch.block_device_mappings[0].ebs).toMatchObject({ encrypted: "true", volume_type: "gp3", volume_size: 30 });
    expect(launch.network_interfaces[0].associate_public_ip_address).toBe("false");
    expect(launch.instance_type).toBe("m7i.large");
    expect(Object.values(json.data!.aws_ssm_parameter).map((p) => p.name)).toContain(ECS_AL2023_IMAGE_PARAMETER.X86_64);
    const arm = synth({ ...EC2, flow_run_cpu_architecture: "ARM64" }).json;
    expect(only(arm, "aws_launch_template").instance_type).toBe("m7g.large");
    expect(Object.values(arm.data!.aws_ssm_parameter).map((p) => p.name)).toContain(ECS_AL2023_IMAGE_PARAMETER.ARM64);
  });

  it("GIVEN an explicit image id THEN no parameter is read, so the plan needs no AWS call for it", () => {
    const { json } = synth({ ...EC2, flow_run_ami_id: "ami-0123456789abcdef0" });
    expect(only(json, "aws_launch_template").image_id).toBe("ami-0123456789abcdef0");
    expect(Object.values(json.data?.aws_ssm_parameter ?? {}).map((p) => p.name)).not.toContain(ECS_AL2023_IMAGE_PARAMETER.X86_64);
  });

  it("GIVEN it THEN the instance role has exactly AWS's managed policy for the ECS agent, and nothing inline", () => {
    const { json } = synth(EC2);
    const role = Object.entries(resources(json, "aws_iam_role")).find(([, r]) => r.name === "prefect-ecs-dev-flow-runs-instance")!;
    expect(JSON.parse(role[1].assume_role_policy).Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
    const attached = Object.values(resources(json, "aws_iam_role_policy_attachment")).filter((a) => a.role.includes(role[0]));
    expect(attached.map((a) => a.policy_arn)).toEqual([
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]);
    expect(Object.values(resources(json, "aws_iam_role_policy")).filter((p) => p.role.includes(role[0]))).toEqual([]);
  });

  it("GIVEN it THEN the ECS agent joins the cluster, prefers cached images and keeps tasks from the instance's metadata", () => {
    expect(ecsAgentConfig("prefect-ecs-dev", false).split("\n")).toEqual([
      "ECS_CLUSTER=prefect-ecs-dev",
      "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
      "ECS_AWSVPC_BLOCK_IMDS=true",
      "ECS_ENABLE_CONTAINER_METADATA=true",
    ]);
    expect(ecsAgentConfig("c", true)).toContain("ECS_WARM_POOLS_CHECK=true");
  });

  it("GIVEN it THEN the pool's template sends RunTask to the instances' provider, with awsvpc and the flow-run security group, and no public IP", () => {
    const { json } = synth(EC2);
    const { variables, job_configuration } = template(json);
    expect(variables.properties.launch_type.default).toBe("EC2");
    expect(variables.properties.capacity_provider_strategy.default).toEqual([
      { capacityProvider: expect.stringMatching(/aws_ecs_capacity_provider\.\w+\.name/), weight: 1, base: 0 },
    ]);
    expect(job_configuration.task_definition).toMatchObject({ networkMode: "awsvpc", requiresCompatibilities: ["EC2"] });
    expect(variables.properties.network_configuration.default.assignPublicIp).toBe("DISABLED");
    const fargate = template(synth().json);
    expect(fargate.variables.properties.capacity_provider_strategy.default).toBeUndefined();
    expect(fargate.job_configuration.task_definition.networkMode).toBeUndefined();
  });
});

describe("what EC2 capacity costs", () => {
  it("GIVEN two instances kept warm and one in the warm pool THEN the estimate bills two instances' hours and three volumes", () => {
    const lines = monthlyCost({ ...EC2, flow_run_instances_min: 2, flow_run_warm_pool_size: 1 }).lines;
    const hourly = (PRICES.ec2_instance_hour as Record<string, number>)["m7i.large"];
    expect(lines).toContainEqual(
      expect.objectContaining({ item: "flow-run instances kept warm (m7i.large)", monthly: 2 * HOURS_PER_MONTH * hourly }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ item: "flow-run instance volumes (gp3)", monthly: 3 * 30 * PRICES.ebs_gp3_gb_month }));
    expect(lines.map((l) => l.item)).not.toContainEqual(expect.stringMatching(/^NAT instance/));
  });

  it("GIVEN a type the price table lacks THEN its hours are shown as not priced, never as free", () => {
    const lines = monthlyCost({ ...EC2, flow_run_instance_type: "c7a.xlarge" }).lines;
    expect(lines).toContainEqual({
      item: "flow-run instances kept warm c7a.xlarge: not in the price table (src/review/prices.json)",
      quantity: "not priced",
      monthly: 0,
    });
  });
});

describe("EC2 capacity settings", () => {
  it("GIVEN instance types THEN their architecture, vCPUs and memory follow EC2's specifications", () => {
    // https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html: m7i.large 2 vCPU 8 GiB; c7g.medium 1 vCPU 2 GiB; t3.medium 2 vCPU 4 GiB.
    expect(instanceShape("m7i.large")).toEqual({ architecture: "X86_64", vcpus: 2, memoryMib: 8192 });
    expect(instanceShape("c7g.medium")).toEqual({ architecture: "ARM64", vcpus: 1, memoryMib: 2048 });
    expect(instanceShape("r6i.2xlarge")).toEqual({ architecture: "X86_64", vcpus: 8, memoryMib: 65536 });
    expect(instanceShape("t3.medium")).toEqual({ architecture: "X86_64", vcpus: 2, memoryMib: 4096 });
    expect(instanceShape("t4g.xlarge")).toEqual({ architecture: "ARM64", vcpus: 4, memoryMib: 16384 });
    for (const missing of ["m7i.medium", "m7i.large.x", "p5.48xlarge", "t3.nano", "m7i", "constructor.large"])
      expect(instanceShape(missing), missing).toBeUndefined();
  });

  it.each([
    [
      { flow_run_instances_min: 2 },
      'flow_run_instances_min only applies to flow runs on EC2 instances, but flow_run_capacity (not set, so "fargate"); set flow_run_capacity = "ec2"',
    ],
    [
      { ...EC2, flow_run_instance_type: "m7g.large" },
      'flow_run_instance_type = "m7g.large" is an ARM64 type, but flow_run_cpu_architecture (not set, so "X86_64")',
    ],
    [{ ...EC2, flow_run_instance_type: "p5.48xlarge" }, 'flow_run_instance_type = "p5.48xlarge" is not valid: use an EC2 instance type: x86_64: m5,'],
    [{ ...EC2, flow_run_instances_min: 5 }, "flow_run_instances_min = 5 is above flow_run_instances_max (not set, so 4)"],
    [{ ...EC2, flow_run_warm_pool_size: 5 }, "flow_run_warm_pool_size = 5 is above flow_run_instances_max (not set, so 4)"],
    [
      { ...EC2, internet_egress: "public_subnets" },
      'flow_run_capacity = "ec2" runs flow runs in private subnets (ECS gives a task a public IP on Fargate only)',
    ],
    [{ ...EC2, flow_run_spot: true }, 'flow_run_spot = true asks for Fargate Spot, but flow_run_capacity = "ec2"; remove flow_run_spot'],
    [{ ...EC2, flow_run_cpu: 4096, flow_run_memory: 8192 }, "one m7i.large cannot hold a flow run of 4096 CPU units (it has 2048) or 8192 MiB"],
    [{ flow_run_capacity: "lambda" }, 'flow_run_capacity = "lambda" is not valid: use "fargate", "fargate_spot" or "ec2"'],
  ])("GIVEN %j THEN it is refused before anything reaches AWS", (values, message) => {
    expect(settingsProblems(values)).toContain(message);
  });

  it("GIVEN sizes EC2 instances take that Fargate does not pair THEN they are accepted on EC2 when they fit", () => {
    // Fargate pairs 1024 CPU with 2048-8192 MiB; an instance task only has to fit the instance.
    expect(settingsProblems({ flow_run_cpu: 1024, flow_run_memory: 1024 })).toContain("flow_run_memory");
    expect(settingsProblems({ ...EC2, flow_run_cpu: 1024, flow_run_memory: 1024 })).toBe("");
    expect(placementError("m7i.large", 2048, 7000)).toBeUndefined();
  });

  it("GIVEN flow_run_spot = true alone THEN flow runs still go to Fargate Spot", () => {
    expect(template(synth({ flow_run_spot: true }).json).variables.properties.launch_type.default).toBe("FARGATE_SPOT");
    expect(template(synth({ flow_run_capacity: "fargate_spot" }).json).variables.properties.launch_type.default).toBe("FARGATE_SPOT");
  });
});
