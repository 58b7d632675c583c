import { describe, expect, it } from "vitest";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { planSubnets } from "../src/rules/cidr";
import { only, resources, synth, synthVariant } from "./support/synth";

describe("subnet plan", () => {
  it("GIVEN a /16 WHEN planned THEN private subnets take the low /20 blocks and public ones start at block 8", () => {
    expect(planSubnets("10.0.0.0/16", 3)).toEqual({
      privateCidrs: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
      publicCidrs: ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"],
    });
  });

  it("GIVEN one more AZ WHEN planned THEN existing subnets keep their CIDRs", () => {
    const two = planSubnets("172.16.0.0/20", 2);
    const three = planSubnets("172.16.0.0/20", 3);
    expect(three.privateCidrs.slice(0, 2)).toEqual(two.privateCidrs);
    expect(three.publicCidrs.slice(0, 2)).toEqual(two.publicCidrs);
  });

  it("GIVEN the smallest VPC (/24) WHEN planned THEN subnets are /28, the smallest AWS allows", () => {
    expect(planSubnets("192.168.1.0/24", 2).publicCidrs).toEqual(["192.168.1.128/28", "192.168.1.144/28"]);
  });
});

describe("network", () => {
  const { json, text } = synth();

  it("creates a VPC with DNS support and hostnames at the default CIDR", () => {
    expect(text).toHaveResourceWithProperties(Vpc, { cidr_block: "10.0.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
  });

  it("creates one public and one private subnet per AZ, none mapping public IPs", () => {
    const subnets = Object.values(resources(json, "aws_subnet"));
    expect(subnets).toHaveLength(4);
    expect(subnets.map((s) => s.availability_zone).sort()).toEqual(["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1b"]);
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
    expect(subnets.filter((s) => s.tags.Tier === "private").map((s) => s.cidr_block)).toEqual(["10.0.0.0/20", "10.0.16.0/20"]);
  });

  it("does not look AZs up when they are listed (the lookup needs AWS)", () => {
    expect(text).not.toHaveDataSource(DataAwsAvailabilityZones);
  });

  it("looks AZs up when only az_count is given, and places subnets by index", () => {
    const lookedUp = synth({ availability_zones: undefined, az_count: 3 });
    expect(lookedUp.text).toHaveDataSource(DataAwsAvailabilityZones);
    const azs = Object.values(resources(lookedUp.json, "aws_subnet")).map((s) => s.availability_zone);
    expect(azs).toContain("${element(data.aws_availability_zones.network_available_azs.names, 2)}");
  });

  it("routes public subnets to the internet gateway and private subnets to a NAT gateway", () => {
    const routes = Object.values(resources(json, "aws_route"));
    expect(routes.filter((r) => r.gateway_id === "${aws_internet_gateway.network_internet_gateway.id}")).toHaveLength(1);
    expect(routes.filter((r) => r.nat_gateway_id)).toHaveLength(2);
    expect(Object.keys(resources(json, "aws_route_table_association"))).toHaveLength(4);
  });

  it("GIVEN nat_gateway_mode single THEN one NAT gateway with one Elastic IP serves every AZ", () => {
    expect(Object.keys(resources(json, "aws_nat_gateway"))).toHaveLength(1);
    expect(Object.keys(resources(json, "aws_eip"))).toHaveLength(1);
    const natTargets = new Set(
      Object.values(resources(json, "aws_route"))
        .map((r) => r.nat_gateway_id)
        .filter(Boolean),
    );
    expect([...natTargets]).toEqual(["${aws_nat_gateway.network_nat_gateway_0.id}"]);
  });

  it("GIVEN nat_gateway_mode per_az THEN each AZ routes through its own NAT gateway", () => {
    const perAz = synthVariant("per_az_nat").json;
    expect(Object.keys(resources(perAz, "aws_nat_gateway"))).toHaveLength(3);
    expect(Object.keys(resources(perAz, "aws_eip"))).toHaveLength(3);
    const route2 = resources(perAz, "aws_route").network_private_default_route_2;
    expect(route2.nat_gateway_id).toBe("${aws_nat_gateway.network_nat_gateway_2.id}");
  });

  it("adds a free S3 gateway endpoint on every private route table", () => {
    const endpoint = only(json, "aws_vpc_endpoint");
    expect(endpoint).toMatchObject({ vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.us-east-1.s3" });
    expect(endpoint.route_table_ids).toEqual([
      "${aws_route_table.network_private_route_table_0.id}",
      "${aws_route_table.network_private_route_table_1.id}",
    ]);
  });

  it("sends VPC flow logs to a log group with retention, through a role scoped to that group", () => {
    expect(only(json, "aws_flow_log")).toMatchObject({
      traffic_type: "ALL",
      log_destination: "${aws_cloudwatch_log_group.network_flow_log_group.arn}",
    });
    expect(resources(json, "aws_cloudwatch_log_group").network_flow_log_group.retention_in_days).toBe(30);
    const policy = JSON.parse(resources(json, "aws_iam_role_policy").network_flow_log_role_policy.policy);
    expect(policy.Statement[0].Resource).toBe("${aws_cloudwatch_log_group.network_flow_log_group.arn}:*");
  });

  it("manages the default security group with no rules", () => {
    const sg = only(json, "aws_default_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  it("GIVEN vpc_interface_endpoints THEN ECR, Logs and Secrets Manager endpoints sit in the private subnets, reachable from the VPC only", () => {
    const withEndpoints = synth({ vpc_interface_endpoints: true }).json;
    const endpoints = Object.values(resources(withEndpoints, "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type === "Interface");
    expect(endpoints.map((e) => e.service_name).sort()).toEqual(
      [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
        "com.amazonaws.us-east-1.secretsmanager",
      ].sort(),
    );
    expect(endpoints.every((e) => e.private_dns_enabled === true && e.subnet_ids.length === 2)).toBe(true);
    expect(resources(withEndpoints, "aws_vpc_security_group_ingress_rule").network_endpoint_https_from_vpc).toMatchObject({
      from_port: 443,
      cidr_ipv4: "10.0.0.0/16",
    });
    expect(Object.values(resources(json, "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type === "Interface")).toEqual([]);
  });

  it("GIVEN an existing VPC THEN no network resource is created and its subnets are used", () => {
    const existing = synthVariant("existing_vpc").json;
    for (const type of ["aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_internet_gateway", "aws_flow_log"]) {
      expect(resources(existing, type)).toEqual({});
    }
    expect(only(existing, "aws_ecs_service").network_configuration.subnets).toEqual(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
    const groups = Object.values(resources(existing, "aws_security_group"));
    expect(groups.map((g) => g.vpc_id)).toEqual(["vpc-0123456789abcdef0", "vpc-0123456789abcdef0"]);
  });
});
