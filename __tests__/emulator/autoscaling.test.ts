import { DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand } from "@aws-sdk/client-application-auto-scaling";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/** An ARM64 worker scaled between 1 and 3 tasks on CPU and memory. */
const lane = new EmulatorLane("autoscaling");
const VALUES = { worker_min_count: 1, worker_max_count: 3, worker_cpu_architecture: "ARM64" };

beforeAll(() => lane.deploy(VALUES), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("autoscaling and an ARM64 worker", () => {
  it("GIVEN worker_min_count < worker_max_count THEN the service is a scalable target between them, tracking CPU and memory", async () => {
    const { autoscaling } = lane.aws;
    const resourceId = `service/${lane.outputs.cluster_name}/${lane.outputs.worker_service_name}`;
    const targets = (await autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" }))).ScalableTargets!;
    expect(targets.map((t) => [t.ResourceId, t.ScalableDimension, t.MinCapacity, t.MaxCapacity])).toEqual([
      [resourceId, "ecs:service:DesiredCount", 1, 3],
    ]);
    const policies = (await autoscaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: "ecs", ResourceId: resourceId })))
      .ScalingPolicies!;
    const tracking = policies
      .map((p) => ({ type: p.PolicyType, ...p.TargetTrackingScalingPolicyConfiguration }))
      .sort((a, b) => a.PredefinedMetricSpecification!.PredefinedMetricType!.localeCompare(b.PredefinedMetricSpecification!.PredefinedMetricType!));
    expect(tracking).toEqual([
      expect.objectContaining({
        type: "TargetTrackingScaling",
        TargetValue: lane.settings.worker_cpu_target,
        PredefinedMetricSpecification: expect.objectContaining({ PredefinedMetricType: "ECSServiceAverageCPUUtilization" }),
        ScaleOutCooldown: 60,
        ScaleInCooldown: 300,
      }),
      expect.objectContaining({
        type: "TargetTrackingScaling",
        TargetValue: lane.settings.worker_memory_target,
        PredefinedMetricSpecification: expect.objectContaining({ PredefinedMetricType: "ECSServiceAverageMemoryUtilization" }),
      }),
    ]);
  });

  it("GIVEN worker_cpu_architecture = ARM64 THEN the worker's task definition runs on ARM64 Linux", async () => {
    const { ecs } = lane.aws;
    const service = (await ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] })))
      .services![0];
    const taskDefinition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition!;
    expect(taskDefinition.runtimePlatform).toEqual({ cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" });
  });
});

describeReplanAndDestroy(lane);
