import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeLaunchTemplateVersionsCommand, DescribeNetworkInterfacesCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand, GetRolePolicyCommand } from "@aws-sdk/client-iam";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { ListTargetsByRuleCommand } from "@aws-sdk/client-eventbridge";
import { DescribeKeyCommand, GetKeyRotationStatusCommand } from "@aws-sdk/client-kms";
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/**
 * Egress through one NAT instance. No AMI id is given, so the image is looked up in AWS's public SSM
 * parameter, which moto serves. moto starts the instance but runs no user data: the boot script's work
 * (Elastic IP, static interface, forwarding) is tested by running the script with stand-ins in the fast tier.
 * The lane also carries the alarms (all four kinds, with an email topic).
 */
const lane = new EmulatorLane("nat-instance");

// No monthly_budget_usd here: against moto the provider's CreateBudget never returned (moto's own API answers it
// directly), so the budget is proven by the synth tests and the offline plan only (docs/proof-and-tests.md: Proof).
beforeAll(() => lane.deploy({ internet_egress: "nat_instance", alarm_email: "ops@example.com" }), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("the NAT instance", () => {
  const name = () => `${lane.settings.name_prefix}-nat`;
  const group = async () =>
    (await lane.aws.ec2Autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name()] }))).AutoScalingGroups![0];

  it("GIVEN its group THEN exactly one instance runs, in the static interface's subnet, from the latest Amazon Linux 2023 arm64 image", async () => {
    const g = await group();
    expect([g.MinSize, g.MaxSize, g.DesiredCapacity]).toEqual([1, 1, 1]);
    expect(g.Instances).toHaveLength(1);
    const eni = (
      await lane.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [lane.outputs.nat_instance_network_interface_id] }))
    ).NetworkInterfaces![0];
    expect(g.VPCZoneIdentifier).toBe(eni.SubnetId);
    expect(eni.SourceDestCheck).toBe(false);
    const version = (await lane.aws.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name(), Versions: ["$Latest"] })))
      .LaunchTemplateVersions![0].LaunchTemplateData!;
    // moto's copy of the public parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64.
    expect(version.ImageId).toMatch(/^ami-[0-9a-f]{17}$/);
    expect(version.MetadataOptions).toMatchObject({ HttpTokens: "required", HttpPutResponseHopLimit: 1 });
    expect(version.BlockDeviceMappings![0].Ebs).toMatchObject({ Encrypted: true, VolumeType: "gp3" });
    expect(version.KeyName).toBeUndefined();
    const userData = Buffer.from(version.UserData!, "base64").toString("utf8");
    expect(userData).toContain(`ENI_ID="${lane.outputs.nat_instance_network_interface_id}"`);
    expect(userData).toMatch(/EIP_ALLOCATION_ID="eipalloc-[0-9a-f]+"/);
  });

  it("GIVEN its instance THEN it is the stack's, with the role that may claim the interface and address", async () => {
    const instance = (await lane.aws.ec2Autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name()] })))
      .AutoScalingGroups![0].Instances![0];
    expect(instance.LaunchTemplate?.LaunchTemplateName).toBe(name());
    const profile = (await lane.aws.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name() }))).InstanceProfile!;
    expect(profile.Roles!.map((r) => r.RoleName)).toEqual([name()]);
    const policy = JSON.parse(
      decodeURIComponent(
        (await lane.aws.iam.send(new GetRolePolicyCommand({ RoleName: name(), PolicyName: "claim-nat-addresses" }))).PolicyDocument!,
      ),
    );
    expect(policy.Statement.slice(0, 2).map((statement: any) => statement.Resource)).toEqual([
      expect.stringMatching(/:network-interface\/eni-/),
      expect.stringMatching(/:elastic-ip\/eipalloc-/),
    ]);
  });

  it("GIVEN the instance's root volume (/dev/xvda, Amazon Linux 2023's root device) THEN it is encrypted gp3", async () => {
    const volumes = (await lane.aws.ec2.send(new DescribeVolumesCommand({}))).Volumes ?? [];
    const root = volumes.filter((v) => v.Attachments?.some((a) => a.Device === "/dev/xvda"));
    expect(root.map((v) => [v.Encrypted, v.VolumeType, v.Size])).toEqual([[true, "gp3", 8]]);
    // moto also attaches an unencrypted /dev/sda1 to every instance (EMULATOR_OBSERVATIONS); AWS does not.
    expect(volumes.filter((v) => !v.Encrypted).flatMap((v) => v.Attachments!.map((a) => a.Device))).toEqual(["/dev/sda1"]);
  });
});

describe("alarms and budget", () => {
  it("GIVEN alarm_email THEN the topic is encrypted with the stack's key and the email subscription waits for confirmation", async () => {
    const topicArn = lane.outputs.alarm_topic_arn;
    const attributes = (await lane.aws.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes!;
    expect(attributes.KmsMasterKeyId).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\//);
    const key = (await lane.aws.kms.send(new DescribeKeyCommand({ KeyId: attributes.KmsMasterKeyId }))).KeyMetadata!;
    expect(key.KeyManager).toBe("CUSTOMER");
    expect((await lane.aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled).toBe(true);
    const subscriptions = (await lane.aws.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions!;
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint])).toEqual([["email", "ops@example.com"]]);
  });

  it("GIVEN the alarms THEN the worker, both observer queues and the NAT group are watched, each notifying the topic on ALARM and OK", async () => {
    const alarms = (await lane.aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: lane.settings.name_prefix }))).MetricAlarms!;
    const byName = Object.fromEntries(alarms.map((a) => [a.AlarmName!.slice(lane.settings.name_prefix.length + 1), a]));
    expect(Object.keys(byName).sort()).toEqual(["nat-instance-down", "observer-dead-letters", "observer-queue-stale", "worker-down"]);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([lane.outputs.alarm_topic_arn]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([lane.outputs.alarm_topic_arn]);
    }
    expect(byName["worker-down"].Dimensions!.map((d) => [d.Name, d.Value]).sort()).toEqual([
      ["ClusterName", lane.outputs.cluster_name],
      ["ServiceName", lane.outputs.worker_service_name],
    ]);
    expect(byName["observer-queue-stale"].Dimensions).toEqual([{ Name: "QueueName", Value: lane.outputs.ecs_events_queue_name }]);
    expect(byName["nat-instance-down"].Dimensions).toEqual([{ Name: "AutoScalingGroupName", Value: `${lane.settings.name_prefix}-nat` }]);
  });

  it("GIVEN the task-stop rule THEN it targets the topic with an input transformer", async () => {
    const rule = `${lane.settings.name_prefix}-worker-task-stopped`;
    const targets = (await lane.aws.events.send(new ListTargetsByRuleCommand({ Rule: rule }))).Targets!;
    expect(targets.map((t) => t.Arn)).toEqual([lane.outputs.alarm_topic_arn]);
    expect(targets[0].InputTransformer?.InputTemplate).toContain("Prefect worker task stopped (<code>)");
  });
});

describeReplanAndDestroy(lane);
