import { DescribeNatGatewaysCommand } from "@aws-sdk/client-ec2";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { DescribeAccessPointsCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand } from "@aws-sdk/client-efs";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainedDifferences, unexplainedDifferences } from "../support/emulator-allowlist";
import { applyChange, planChange, restoreWhatCreateServiceDropped } from "../support/emulator-changes";
import { describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, STEP_TIMEOUT } from "../support/emulator-lane";

/**
 * Changes to a deployed default stack, one setting at a time, each planned, compared with what
 * docs/proof-and-tests.md promises (what is replaced and what changes in place), summarized for a reviewer, and applied.
 * The observer goes first: later plans would otherwise each re-apply the emulator's SQS formatting
 * difference and wait out SQS propagation again.
 */
const lane = new EmulatorLane("changes-network");
let values: Record<string, unknown> = {};

const workerTaskDefinition = async () => {
  const service = (
    await lane.aws.ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] }))
  ).services![0];
  return (await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition!;
};

beforeAll(async () => {
  await lane.deploy(values);
  await restoreWhatCreateServiceDropped(lane);
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describe("changes to the default stack", () => {
  it(
    "GIVEN the service holds what AWS would after CreateService THEN the default stack plans only the SQS formatting difference",
    async () => {
      const plan = await lane.stack.plan();
      expect(unexplainedDifferences(plan.json)).toEqual([]);
      expect(explainedDifferences(plan.json)).toEqual(["aws_sqs_queue.ecs_events_queue (update)"]);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN ecs_event_observer is turned off THEN the rule, target, queues and queue policy are destroyed, the worker's task definition is replaced and its service and role policy change in place",
    async () => {
      values = { ...values, ecs_event_observer: false };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({
        aws_cloudwatch_event_rule: ["delete"],
        aws_cloudwatch_event_target: ["delete"],
        aws_ecs_service: ["update"],
        aws_ecs_task_definition: ["replace"],
        aws_iam_role_policy: ["update"],
        aws_sqs_queue: ["delete", "delete"],
        aws_sqs_queue_policy: ["delete"],
      });
      expect(change.summary).toContain("**Plan:** 0 to add, 2 to change, 1 to replace, 5 to destroy.");
      expect(change.summary).toMatch(/⚠️ \*\*destroy\*\* `aws_sqs_queue\.[a-z_]+`/);
      expect(change.summary).toContain("| `ecs_events_queue_name` | destroy | (removed) |");
      await applyChange(lane);
      expect((await lane.aws.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
      expect((await workerTaskDefinition()).containerDefinitions![0].environment!.map((e) => e.name)).not.toContain(
        "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME",
      );
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN the worker grows (worker_cpu 1024, worker_memory 2048) THEN only its task definition is replaced and its service updated in place",
    async () => {
      values = { ...values, worker_cpu: 1024, worker_memory: 2048 };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({ aws_ecs_service: ["update"], aws_ecs_task_definition: ["replace"] });
      expect(change.summary).toContain("**Plan:** 0 to add, 1 to change, 1 to replace, 0 to destroy.");
      expect(change.summary).toMatch(/⚠️ \*\*replace\*\* `aws_ecs_task_definition\.[a-z_]+` — forced by (`cpu`, `memory`|`memory`, `cpu`)\n/);
      await applyChange(lane);
      expect(await workerTaskDefinition()).toMatchObject({ cpu: "1024", memory: "2048" });
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN nat_gateway_mode goes from single to per_az THEN a NAT gateway and its address are added and the second AZ's route changes in place",
    async () => {
      values = { ...values, nat_gateway_mode: "per_az" };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({ aws_eip: ["create"], aws_nat_gateway: ["create"], aws_route: ["update"] });
      expect(change.summary).toContain("**Plan:** 2 to add, 1 to change, 0 to replace, 0 to destroy.");
      expect(change.summary).not.toContain("Destroys and replacements");
      await applyChange(lane);
      const gateways = (await lane.aws.ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }] })))
        .NatGateways!;
      expect(gateways.filter((g) => g.State === "available")).toHaveLength(2);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN flow_run_efs is turned on THEN the file system, its mount targets, access point, policy and security group are added and nothing is replaced",
    async () => {
      values = { ...values, flow_run_efs: true };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({
        aws_efs_access_point: ["create"],
        aws_efs_file_system: ["create"],
        aws_efs_file_system_policy: ["create"],
        aws_efs_mount_target: ["create", "create"],
        aws_iam_role_policy: ["create"],
        aws_security_group: ["create"],
        aws_vpc_security_group_egress_rule: ["create"],
        aws_vpc_security_group_ingress_rule: ["create"],
      });
      expect(change.summary).toContain("**Plan:** 9 to add, 0 to change, 0 to replace, 0 to destroy.");
      expect(change.summary).toContain("| `base_job_template` | change |");
      await applyChange(lane);
      const fileSystems = (await lane.aws.efs.send(new DescribeFileSystemsCommand({}))).FileSystems!;
      expect(fileSystems.map((fs) => fs.FileSystemId)).toEqual([lane.outputs.flow_run_efs_file_system_id]);
      const mountTargets = (await lane.aws.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystems[0].FileSystemId }))).MountTargets!;
      expect(mountTargets.map((m) => m.SubnetId).sort()).toEqual([...lane.outputs.private_subnet_ids].sort());
      expect((await lane.aws.efs.send(new DescribeAccessPointsCommand({}))).AccessPoints!.map((a) => a.AccessPointId)).toEqual([
        lane.outputs.flow_run_efs_access_point_id,
      ]);
      const template = JSON.parse(lane.outputs.base_job_template);
      expect(template.job_configuration.task_definition.volumes[0].efsVolumeConfiguration).toMatchObject({
        fileSystemId: fileSystems[0].FileSystemId,
        authorizationConfig: { accessPointId: lane.outputs.flow_run_efs_access_point_id, iam: "ENABLED" },
      });
    },
    STEP_TIMEOUT,
  );
});

describeReplanAndDestroy(lane);
