import { DescribeRouteTablesCommand, DescribeVpcEndpointsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";
import { VARIANTS } from "../support/synth";

/** No NAT at all: the worker and flow runs run in the public subnets with public IPs of their own. */
const lane = new EmulatorLane("public-subnets");

beforeAll(() => lane.deploy({ ...VARIANTS.public_subnets, ecs_event_observer: false }), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane, { observer: false });

describe("public subnets", () => {
  it("GIVEN the VPC THEN it has only the public subnets, one route table to the internet gateway, and the S3 endpoint on it", async () => {
    const { ec2 } = lane.aws;
    const inVpc = [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }];
    const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }))).RouteTables!.filter(
      (t) => !t.Associations?.some((a) => a.Main),
    );
    expect(tables).toHaveLength(1);
    expect(tables[0].Associations!.map((a) => a.SubnetId).sort()).toEqual([...lane.outputs.public_subnet_ids].sort());
    expect(tables[0].Routes!.find((r) => r.DestinationCidrBlock === "0.0.0.0/0")?.GatewayId).toMatch(/^igw-/);
    const endpoints = (await ec2.send(new DescribeVpcEndpointsCommand({ Filters: inVpc }))).VpcEndpoints!;
    expect(endpoints.map((e) => [e.VpcEndpointType, e.RouteTableIds])).toEqual([["Gateway", [tables[0].RouteTableId]]]);
  });
});

describeReplanAndDestroy(lane);
