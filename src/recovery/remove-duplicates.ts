/**
 * Deletes duplicates (src/recovery/recover.ts) when the operator asks with --remove-duplicates. Only EC2 resources
 * can be duplicates (they have no unique names), so only they are deleted here, dependents first: what runs in a
 * subnet before the subnet, rules and routes with their group and table, the VPC last.
 */
import type { Duplicate } from "./recover";

/** Deletion order by type: a NAT gateway holds its subnet and address; a VPC goes only when it is empty. */
const ORDER = [
  "aws_nat_gateway",
  "aws_vpc_endpoint",
  "aws_flow_log",
  "aws_network_interface",
  "aws_eip",
  "aws_launch_template",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_route_table",
  "aws_subnet",
  "aws_internet_gateway",
  "aws_security_group",
  "aws_vpc",
];
export const REMOVABLE_TYPES: readonly string[] = ORDER;

export async function removeDuplicates(duplicates: readonly Duplicate[], region: string, log: (line: string) => void): Promise<void> {
  const ec2 = await import("@aws-sdk/client-ec2");
  const client = new ec2.EC2Client({ region });
  const typeOf = (d: Duplicate) => d.address.split(".")[0];
  const unknown = duplicates.filter((d) => !ORDER.includes(typeOf(d)));
  if (unknown.length) throw new Error(`cannot remove ${unknown.map((d) => d.address).join(", ")}: only EC2 duplicates are removed here`);
  const sorted = [...duplicates].sort((a, b) => ORDER.indexOf(typeOf(a)) - ORDER.indexOf(typeOf(b)));
  try {
    for (const duplicate of sorted) {
      const id = duplicate.id;
      switch (typeOf(duplicate)) {
        case "aws_nat_gateway":
          await client.send(new ec2.DeleteNatGatewayCommand({ NatGatewayId: id }));
          // Its network interface and address stay in use until it is deleted.
          await ec2.waitUntilNatGatewayDeleted({ client, maxWaitTime: 600 }, { NatGatewayIds: [id] });
          break;
        case "aws_vpc_endpoint":
          await client.send(new ec2.DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
          break;
        case "aws_flow_log":
          await client.send(new ec2.DeleteFlowLogsCommand({ FlowLogIds: [id] }));
          break;
        case "aws_network_interface":
          await client.send(new ec2.DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
          break;
        case "aws_eip":
          await client.send(new ec2.ReleaseAddressCommand({ AllocationId: id }));
          break;
        case "aws_launch_template":
          await client.send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateId: id }));
          break;
        case "aws_vpc_security_group_ingress_rule":
        case "aws_vpc_security_group_egress_rule": {
          const rule = (await client.send(new ec2.DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id] }))).SecurityGroupRules?.[0];
          if (!rule?.GroupId) break;
          if (rule.IsEgress) await client.send(new ec2.RevokeSecurityGroupEgressCommand({ GroupId: rule.GroupId, SecurityGroupRuleIds: [id] }));
          else await client.send(new ec2.RevokeSecurityGroupIngressCommand({ GroupId: rule.GroupId, SecurityGroupRuleIds: [id] }));
          break;
        }
        case "aws_route_table": {
          const table = (await client.send(new ec2.DescribeRouteTablesCommand({ RouteTableIds: [id] }))).RouteTables?.[0];
          for (const association of table?.Associations ?? []) {
            if (!association.Main && association.RouteTableAssociationId) {
              await client.send(new ec2.DisassociateRouteTableCommand({ AssociationId: association.RouteTableAssociationId }));
            }
          }
          await client.send(new ec2.DeleteRouteTableCommand({ RouteTableId: id }));
          break;
        }
        case "aws_subnet":
          await client.send(new ec2.DeleteSubnetCommand({ SubnetId: id }));
          break;
        case "aws_internet_gateway": {
          const gateway = (await client.send(new ec2.DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }))).InternetGateways?.[0];
          for (const attachment of gateway?.Attachments ?? []) {
            if (attachment.VpcId) await client.send(new ec2.DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: attachment.VpcId }));
          }
          await client.send(new ec2.DeleteInternetGatewayCommand({ InternetGatewayId: id }));
          break;
        }
        case "aws_security_group":
          await client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: id }));
          break;
        case "aws_vpc":
          await client.send(new ec2.DeleteVpcCommand({ VpcId: id }));
          break;
      }
      log(`  removed ${duplicate.address} ${id}`);
    }
  } finally {
    client.destroy();
  }
}
