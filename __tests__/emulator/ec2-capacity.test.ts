import { DescribeAutoScalingGroupsCommand, DescribeWarmPoolCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeLaunchTemplateVersionsCommand } from "@aws-sdk/client-ec2";
import { DescribeCapacityProvidersCommand, DescribeClustersCommand, DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { GetInstanceProfileCommand, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/**
 * Flow runs on warm EC2 capacity (flow_run_capacity = "ec2") with a warm pool. No AMI id is given, so the image is
 * read from AWS's public parameter for the ECS-optimized Amazon Linux 2023 image, which moto serves. moto starts
 * the instances but runs no ECS agent: that the agent registers them, and start latency, can only be seen on AWS.
 */
const lane = new EmulatorLane("ec2-capacity");

beforeAll(
  () => lane.deploy({ flow_run_capacity: "ec2", flow_run_instances_min: 1, flow_run_instances_max: 3, flow_run_warm_pool_size: 1 }),
  DEPLOY_TIMEOUT,
);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("the flow runs' EC2 capacity", () => {
  const name = () => `${lane.settings.name_prefix}-flow-runs`;

  it("GIVEN the cluster THEN its capacity providers are Fargate's and the instances' provider, with managed scaling, termination protection and draining", async () => {
    const cluster = (await lane.aws.ecs.send(new DescribeClustersCommand({ clusters: [lane.outputs.cluster_arn] }))).clusters![0];
    expect([...cluster.capacityProviders!].sort()).toEqual(["FARGATE", "FARGATE_SPOT", name()].sort());
    const provider = (await lane.aws.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: [name()] }))).capacityProviders![0];
    expect(provider.autoScalingGroupProvider).toMatchObject({
      managedTerminationProtection: "ENABLED",
      managedDraining: "ENABLED",
      managedScaling: { status: "ENABLED", targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 3 },
    });
    expect(provider.autoScalingGroupProvider!.autoScalingGroupArn).toContain(`autoScalingGroupName/${name()}`);
  });

  it("GIVEN its group THEN the minimum runs in the task subnets, protected from scale-in, with one stopped instance in the warm pool", async () => {
    const group = (await lane.aws.ec2Autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name()] })))
      .AutoScalingGroups![0];
    expect([group.MinSize, group.MaxSize]).toEqual([1, 3]);
    expect(group.NewInstancesProtectedFromScaleIn).toBe(true);
    expect(group.Instances!.length).toBeGreaterThanOrEqual(1);
    expect(group.Instances!.every((i) => i.ProtectedFromScaleIn)).toBe(true);
    const service = (
      await lane.aws.ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] }))
    ).services![0];
    expect(group.VPCZoneIdentifier!.split(",").sort()).toEqual([...service.networkConfiguration!.awsvpcConfiguration!.subnets!].sort());
    const warm = await lane.aws.ec2Autoscaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: name() }));
    expect(warm.WarmPoolConfiguration).toMatchObject({ MinSize: 1, PoolState: "Stopped" });
  });

  it("GIVEN its launch template THEN instances take the ECS image, IMDSv2 only, an encrypted volume, no public address, and join the cluster", async () => {
    const version = (await lane.aws.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name(), Versions: ["$Latest"] })))
      .LaunchTemplateVersions![0].LaunchTemplateData!;
    // moto's copy of /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id.
    expect(version.ImageId).toMatch(/^ami-[0-9a-f]+$/);
    expect(version.InstanceType).toBe("m7i.large");
    expect(version.MetadataOptions).toMatchObject({ HttpTokens: "required", HttpPutResponseHopLimit: 1 });
    expect(version.BlockDeviceMappings![0].Ebs).toMatchObject({ Encrypted: true, VolumeType: "gp3", VolumeSize: 30 });
    expect(version.NetworkInterfaces![0].AssociatePublicIpAddress).toBe(false);
    const userData = Buffer.from(version.UserData!, "base64").toString("utf8");
    expect(userData).toContain(`ECS_CLUSTER=${lane.settings.name_prefix}\n`);
    expect(userData).toContain("ECS_IMAGE_PULL_BEHAVIOR=prefer-cached");
    expect(userData).toContain("ECS_WARM_POOLS_CHECK=true");
  });

  it("GIVEN the instance role THEN it carries AWS's managed policy for the ECS agent and nothing else", async () => {
    const profile = (await lane.aws.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: `${name()}-instance` }))).InstanceProfile!;
    const role = profile.Roles![0].RoleName!;
    const attached = (await lane.aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies!.map((p) => p.PolicyArn);
    expect(attached).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]);
    expect((await lane.aws.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames).toEqual([]);
  });
});

describeReplanAndDestroy(lane);
