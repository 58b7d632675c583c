import { CreateSubnetCommand, CreateVpcCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { added, inventory } from "../support/emulator-aws";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/** The operator's own VPC and private subnets, created in the emulator first; the stack adds no network. */
const lane = new EmulatorLane("existing-vpc");
let vpcId: string;
let subnetIds: string[];

beforeAll(async () => {
  await lane.open();
  const { ec2 } = lane.aws;
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }))).Vpc!.VpcId!;
  subnetIds = await Promise.all(
    ["us-east-1a", "us-east-1b"].map(
      async (az, i) =>
        (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: az }))).Subnet!.SubnetId!,
    ),
  );
  await lane.deploy({ availability_zones: undefined, existing_vpc_id: vpcId, existing_private_subnet_ids: subnetIds });
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("an existing VPC", () => {
  it("GIVEN existing_vpc_id THEN the stack creates no VPC, subnet, gateway, route or address, and runs in the given subnets", async () => {
    const created = added(lane.baseline, await inventory(lane.aws));
    for (const kind of [
      "ec2 vpcs",
      "ec2 subnets",
      "ec2 internet gateways",
      "ec2 NAT gateways",
      "ec2 Elastic IPs",
      "ec2 route tables",
      "ec2 flow logs",
    ]) {
      expect(created[kind], kind).toBeUndefined();
    }
    expect(lane.outputs.vpc_id).toBe(vpcId);
    expect(lane.outputs.private_subnet_ids).toEqual(subnetIds);
  });
});

describeReplanAndDestroy(lane, {
  afterDestroy: () =>
    it("GIVEN the stack is destroyed THEN the operator's VPC and subnets are still there", async () => {
      expect((await lane.aws.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs).toHaveLength(1);
      expect((await lane.aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }))).Subnets).toHaveLength(2);
    }),
});
