import { DescribeNatGatewaysCommand, DescribeRouteTablesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";
import { VARIANTS } from "../support/synth";

/** One NAT gateway per AZ (three AZs): an AZ outage cuts off no other AZ. */
const lane = new EmulatorLane("per-az-nat");

beforeAll(() => lane.deploy(VARIANTS.per_az_nat), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("per-AZ NAT gateways", () => {
  it("GIVEN nat_gateway_mode = per_az THEN each private subnet reaches the internet through a NAT gateway in its own AZ", async () => {
    const { ec2 } = lane.aws;
    const privateSubnets: string[] = lane.outputs.private_subnet_ids;
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }] }))).Subnets!;
    const azOf = (subnetId: string) => subnets.find((s) => s.SubnetId === subnetId)!.AvailabilityZone;
    const gateways = (await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }] }))).NatGateways!;
    const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }] }))).RouteTables!;
    const natOf = (subnetId: string) =>
      tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId))!.Routes!.find((r) => r.DestinationCidrBlock === "0.0.0.0/0")!
        .NatGatewayId!;

    expect(privateSubnets.map(azOf)).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    const used = privateSubnets.map(natOf);
    expect(new Set(used).size).toBe(3);
    for (const subnetId of privateSubnets) {
      const gateway = gateways.find((g) => g.NatGatewayId === natOf(subnetId))!;
      expect(azOf(gateway.SubnetId!), subnetId).toBe(azOf(subnetId));
      expect(privateSubnets).not.toContain(gateway.SubnetId);
    }
  });
});

describeReplanAndDestroy(lane);
