import { AllocateAddressCommand, CreateNatGatewayCommand, DescribeTagsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS_TAG, STACK_TAG } from "../../src/naming";
import { HOURS_PER_MONTH, PRICES } from "../../src/review/price-table";
import { type Emulator, startEmulator } from "../support/emulator";
import { type AwsClients, added, awsClients, type Inventory, inventory } from "../support/emulator-aws";
import { created, DEPLOY, DESTROY, expectExactlyOneOfEverything, expectNothingLeft, natInterfaces, tail, TFVARS } from "../support/interrupted";
import { OperatorProject } from "../support/operator-project";

/**
 * A first deploy killed late (SIGKILL to Terraform, its providers and the command) while the ECS cluster's capacity
 * providers are set, before the worker's task definition and service, then `npm run deploy` again; then duplicates an earlier run left (a NAT gateway and its address, tagged
 * with the stack's addresses), listed with their cost and removed only with --remove-duplicates.
 */
let emulator: Emulator;
let aws: AwsClients;
let project: OperatorProject;
let baseline: Inventory;
const nat: string[] = [];
const planted: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  aws = awsClients(emulator.endpoint);
  baseline = await inventory(aws);
  project = new OperatorProject(emulator, TFVARS, "interrupted-services");
});
afterAll(async () => {
  project?.remove();
  await emulator?.stop();
});

/** The tags an earlier run of this stack gave the resource at `address`. */
const stackTags = (address: string) => [
  { Key: STACK_TAG, Value: "prefect-ecs-dev" },
  { Key: ADDRESS_TAG, Value: address },
];

describe("a first deploy killed while the ECS services are set up", () => {
  it("GIVEN Terraform is killed while the cluster's capacity providers are set THEN it stopped before the worker's service", async () => {
    const first = await project.run(DEPLOY, {
      killWhen: (output) => /aws_ecs_cluster_capacity_providers\.\w+[^\n]*: Creating\.\.\./.test(output),
    });
    expect(first.killed, tail(first)).toBe(true);
    expect(first.code).not.toBe(0);
    expect(created(first.output, "aws_ecs_cluster")).toBe(1);
    expect(created(first.output, "aws_ecs_service")).toBe(0);
  });

  it("WHEN npm run deploy runs again THEN it completes, and the emulator holds exactly one of everything", async () => {
    const second = await project.run(DEPLOY);
    expect(second.code, tail(second)).toBe(0);
    await expectExactlyOneOfEverything(aws, baseline, project);
  });
});

describe("duplicates an earlier run left", () => {
  it("GIVEN a second NAT gateway and address carrying the stack's addresses WHEN npm run deploy runs THEN it lists them with their cost and leaves them", async () => {
    const subnet = (
      await aws.ec2.send(
        new DescribeTagsCommand({
          Filters: [
            { Name: "key", Values: [ADDRESS_TAG] },
            { Name: "value", Values: ["aws_subnet.network_public_subnet_0"] },
          ],
        }),
      )
    ).Tags?.[0]?.ResourceId;
    const eip = await aws.ec2.send(
      new AllocateAddressCommand({
        Domain: "vpc",
        TagSpecifications: [{ ResourceType: "elastic-ip", Tags: stackTags("aws_eip.network_nat_eip_0") }],
      }),
    );
    const gateway = await aws.ec2.send(
      new CreateNatGatewayCommand({
        SubnetId: subnet,
        AllocationId: eip.AllocationId,
        TagSpecifications: [{ ResourceType: "natgateway", Tags: stackTags("aws_nat_gateway.network_nat_gateway_0") }],
      }),
    );
    planted.push(eip.AllocationId!, gateway.NatGateway!.NatGatewayId!);

    const result = await project.run(DEPLOY);
    expect(result.code, tail(result)).toBe(0);
    const natMonth = (PRICES.nat_gateway_hour * HOURS_PER_MONTH).toFixed(2);
    const ipMonth = (PRICES.public_ipv4_hour * HOURS_PER_MONTH).toFixed(2);
    expect(result.output).toContain(`  aws_nat_gateway.network_nat_gateway_0  ${planted[1]}  $${natMonth}/month`);
    expect(result.output).toContain(`  aws_eip.network_nat_eip_0  ${planted[0]}  $${ipMonth}/month`);
    expect(result.output).toContain("They are left alone. To delete them: npm run deploy -- [environment] --remove-duplicates");
    const fresh = added(baseline, await inventory(aws));
    expect(fresh["ec2 NAT gateways"]).toHaveLength(2);
  });

  it("WHEN npm run deploy runs with --remove-duplicates THEN they are deleted and the stack's own stay", async () => {
    nat.push(...(await natInterfaces(aws)));
    const result = await project.run([...DEPLOY, "--remove-duplicates"]);
    expect(result.code, tail(result)).toBe(0);
    expect(result.output).toContain(`removed aws_nat_gateway.network_nat_gateway_0 ${planted[1]}`);
    expect(result.output).toContain(`removed aws_eip.network_nat_eip_0 ${planted[0]}`);
    const fresh = added(baseline, await inventory(aws));
    expect(fresh["ec2 NAT gateways"]).toHaveLength(1);
    expect(fresh["ec2 NAT gateways"]).not.toContain(planted[1]);
    expect(fresh["ec2 Elastic IPs"]).toEqual(expect.not.arrayContaining([planted[0]]));
    await expectExactlyOneOfEverything(aws, baseline, project);
  });

  it("THEN the destroy leaves nothing", async () => {
    const destroy = await project.run(DESTROY);
    expect(destroy.code, tail(destroy)).toBe(0);
    await expectNothingLeft(aws, baseline, nat);
  });
});
