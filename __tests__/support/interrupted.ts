import { DescribeNatGatewaysCommand } from "@aws-sdk/client-ec2";
import { expect } from "vitest";
import { type AwsClients, added, type Inventory, inventory } from "./emulator-aws";
import type { OperatorProject, RunResult } from "./operator-project";

export const DEPLOY = ["deploy", "--", "--auto-approve", "--skip-provider-lock"];
export const DESTROY = ["destroy", "--", "--auto-approve", "--skip-provider-lock"];

/** The operator's tfvars for these lanes: the stock stack, with the work pool kept out (hashicorp/null is not here). */
export const TFVARS = "manage_work_pool = false\n";

/** Output lines that say a resource of this type was created (cdktf adds the construct path: `aws_vpc.network_vpc (network/vpc): …`). */
export const created = (output: string, type: string): number =>
  (output.match(new RegExp(`${type}\\.[A-Za-z0-9_]+(?: \\([^)]*\\))?: Creation complete`, "g")) ?? []).length;
export const destroyed = (output: string): number => (output.match(/: Destruction complete/g) ?? []).length;

/** Inventory kinds, and how many of each one deployed stack holds, from its configuration's resource counts. */
const KINDS: [string, (count: (type: string) => number) => number][] = [
  ["ec2 vpcs", (c) => c("aws_vpc")],
  ["ec2 subnets", (c) => c("aws_subnet")],
  ["ec2 internet gateways", (c) => c("aws_internet_gateway")],
  ["ec2 NAT gateways", (c) => c("aws_nat_gateway")],
  ["ec2 Elastic IPs", (c) => c("aws_eip")],
  // Every VPC comes with a main route table and a default security group of its own.
  ["ec2 route tables", (c) => c("aws_route_table") + c("aws_vpc")],
  ["ec2 security groups", (c) => c("aws_security_group") + c("aws_vpc")],
  ["ec2 VPC endpoints", (c) => c("aws_vpc_endpoint")],
  ["ec2 flow logs", (c) => c("aws_flow_log")],
  ["ecs clusters", (c) => c("aws_ecs_cluster")],
  ["ecs services", (c) => c("aws_ecs_service")],
  ["ecs task definitions", (c) => c("aws_ecs_task_definition")],
  ["ecr repositories", (c) => c("aws_ecr_repository")],
  ["iam roles", (c) => c("aws_iam_role")],
  ["secretsmanager secrets", (c) => c("aws_secretsmanager_secret")],
  ["logs log groups", (c) => c("aws_cloudwatch_log_group")],
  ["sqs queues", (c) => c("aws_sqs_queue")],
  ["events rules", (c) => c("aws_cloudwatch_event_rule")],
];

/** Asserts the emulator holds exactly one of everything the configuration declares (beyond the baseline). */
export async function expectExactlyOneOfEverything(aws: AwsClients, baseline: Inventory, project: OperatorProject): Promise<void> {
  const config = project.config();
  const count = (type: string) => Object.keys(config.resource[type] ?? {}).length;
  const fresh = added(baseline, await inventory(aws));
  const expected = Object.fromEntries(KINDS.map(([kind, want]) => [kind, want(count)]));
  const actual = Object.fromEntries(KINDS.map(([kind]) => [kind, (fresh[kind] ?? []).length]));
  expect(actual).toEqual(expected);
  expect(count("aws_vpc")).toBe(1);
}

/** The network interfaces of every NAT gateway in the emulator (moto keeps them after the gateway is deleted). */
export async function natInterfaces(aws: AwsClients): Promise<string[]> {
  const gateways = (await aws.ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways ?? [];
  return gateways.flatMap((g) => (g.NatGatewayAddresses ?? []).map((a) => a.NetworkInterfaceId!)).filter(Boolean);
}

/** Asserts nothing the stack made is left (beyond the baseline), except moto's NAT gateway interfaces (MOTO_LEFTOVERS). */
export async function expectNothingLeft(aws: AwsClients, baseline: Inventory, natInterfaceIds: readonly string[]): Promise<void> {
  const fresh = added(baseline, await inventory(aws));
  const interfaces = (fresh["ec2 network interfaces"] ?? []).filter((id) => !natInterfaceIds.includes(id));
  if (interfaces.length) fresh["ec2 network interfaces"] = interfaces;
  else delete fresh["ec2 network interfaces"];
  expect(fresh).toEqual({});
}

/** The failure text of a run, for assertion messages. */
export const tail = (result: RunResult) => result.output.slice(-6000);
