import { Construct } from "constructs";
import { Fn, type ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { planSubnets } from "../rules/cidr";
import { NatInstance } from "./nat-instance";
import { assumedBy, policyDocument } from "../security/iam-policy";

export interface NetworkProps {
  readonly namePrefix: string;
  readonly region: string;
  /** VPC IPv4 block; subnets are derived from it (see cidr.ts). */
  readonly cidr: string;
  /** AZ names. @default the first `azCount` AZs the account can use, looked up at plan time */
  readonly availabilityZones?: string[];
  /** Number of AZs when `availabilityZones` is not given. */
  readonly azCount: number;
  /**
   * How tasks reach the internet: NAT gateways (one for all AZs, or one per AZ so an AZ outage does not cut
   * the others off), one NAT instance, or no NAT at all, with tasks in the public subnets.
   */
  readonly egress: Egress;
  readonly partition: string;
  /** Retention of the VPC flow log group, days. */
  readonly flowLogRetentionDays: number;
  /** Interface endpoints for ECR, CloudWatch Logs and Secrets Manager in every private subnet. @default false */
  readonly interfaceEndpoints?: boolean;
}

export type Egress =
  | { readonly mode: "nat_gateway"; readonly natGatewayMode: "single" | "per_az" }
  | { readonly mode: "nat_instance"; readonly instanceType: string; readonly imageId?: string }
  | { readonly mode: "public_subnets" };

/** AWS services the tasks call that interface endpoints can keep off the NAT (ECR image layers use the S3 gateway). */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

/**
 * A VPC with public subnets (the NAT and internet gateways) and private subnets for the tasks; with
 * `public_subnets` egress, the tasks run in the public subnets with public IPs and there are no private ones.
 */
export class Network extends Construct {
  readonly vpcId: string;
  readonly privateSubnetIds: string[];
  readonly publicSubnetIds: string[];
  /** The subnets the worker and flow runs run in. */
  readonly taskSubnetIds: string[];
  /** Whether tasks need a public IP to reach the internet (public_subnets egress). */
  readonly assignPublicIp: boolean;
  readonly natGateways: NatGateway[];
  readonly natInstance?: NatInstance;
  /** What must exist before a task can reach the internet: NAT gateways, or the NAT instance's group. */
  readonly egressPrerequisites: ITerraformDependable[];
  /** The VPC and private subnets with their route associations: what tasks need before they can start. */
  readonly taskPrerequisites: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { namePrefix } = props;
    const plan = planSubnets(props.cidr, props.azCount);
    // The AZ lookup needs AWS credentials and network, so it is only emitted when AZs are not listed.
    const lookup = props.availabilityZones
      ? undefined
      : new DataAwsAvailabilityZones(this, "available_azs", {
          state: "available",
          filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
          // element() wraps around a short list, which would stack subnets (and EFS mount targets) in one AZ.
          lifecycle: {
            postcondition: [
              {
                condition: `\${length(self.names) >= ${props.azCount}}`,
                errorMessage: `az_count = ${props.azCount} is more AZs than the region offers this account; lower az_count or list availability_zones.`,
              },
            ],
          },
        });
    const azAt = (i: number) => props.availabilityZones?.[i] ?? Fn.element(lookup!.names, i);
    const azIndexes = [...Array(props.azCount).keys()];
    const azLabel = (i: number) => props.availabilityZones?.[i] ?? `az${i + 1}`;

    const vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: namePrefix },
    });
    this.vpcId = vpc.id;
    this.taskPrerequisites.push(vpc);

    // Managing the default security group with no rules removes its allow-all rules (EC2.2, CKV2_AWS_12).
    new DefaultSecurityGroup(this, "default_security_group", { vpcId: vpc.id, tags: { Name: `${namePrefix}-default-deny-all` } });

    const internetGateway = new InternetGateway(this, "internet_gateway", { vpcId: vpc.id, tags: { Name: namePrefix } });

    // No subnet hands out public IPs: NAT gateways get Elastic IPs, and public tasks ask for theirs explicitly.
    const subnets = (tier: "public" | "private", cidrs: string[]) =>
      azIndexes.map(
        (i) =>
          new Subnet(this, `${tier}_subnet_${i}`, {
            vpcId: vpc.id,
            availabilityZone: azAt(i),
            cidrBlock: cidrs[i],
            mapPublicIpOnLaunch: false,
            tags: { Name: `${namePrefix}-${tier}-${azLabel(i)}`, Tier: tier },
          }),
      );
    const { egress } = props;
    const publicSubnets = subnets("public", plan.publicCidrs);
    const privateSubnets = egress.mode === "public_subnets" ? [] : subnets("private", plan.privateCidrs);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.assignPublicIp = egress.mode === "public_subnets";
    this.taskSubnetIds = this.assignPublicIp ? this.publicSubnetIds : this.privateSubnetIds;

    const publicRouteTable = new RouteTable(this, "public_route_table", { vpcId: vpc.id, tags: { Name: `${namePrefix}-public` } });
    const publicDefaultRoute = new Route(this, "public_default_route", {
      routeTableId: publicRouteTable.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });
    const publicAssociations = publicSubnets.map((subnet, i) => {
      const association = new RouteTableAssociation(this, `public_route_table_association_${i}`, {
        subnetId: subnet.id,
        routeTableId: publicRouteTable.id,
      });
      if (this.assignPublicIp) this.taskPrerequisites.push(subnet, association);
      return association;
    });

    const natCount = egress.mode === "nat_gateway" ? (egress.natGatewayMode === "per_az" ? props.azCount : 1) : 0;
    this.natGateways = azIndexes.slice(0, natCount).map((i) => {
      const eip = new Eip(this, `nat_eip_${i}`, { domain: "vpc", tags: { Name: `${namePrefix}-nat-${azLabel(i)}` }, dependsOn: [internetGateway] });
      return new NatGateway(this, `nat_gateway_${i}`, {
        allocationId: eip.allocationId,
        subnetId: publicSubnets[i].id,
        tags: { Name: `${namePrefix}-${azLabel(i)}` },
        dependsOn: [internetGateway],
      });
    });

    this.natInstance =
      egress.mode === "nat_instance"
        ? new NatInstance(this, "nat_instance", {
            namePrefix,
            partition: props.partition,
            region: props.region,
            vpcId: vpc.id,
            vpcCidr: props.cidr,
            subnetId: publicSubnets[0].id,
            instanceType: egress.instanceType,
            imageId: egress.imageId,
            bootPrerequisites: [publicDefaultRoute, publicAssociations[0]],
          })
        : undefined;
    this.egressPrerequisites = this.natInstance ? [this.natInstance.autoscalingGroup] : this.assignPublicIp ? [publicDefaultRoute] : this.natGateways;

    // One private route table per AZ in every NAT mode, so switching modes only changes routes.
    const privateRouteTables = privateSubnets.map((subnet, i) => {
      const table = new RouteTable(this, `private_route_table_${i}`, { vpcId: vpc.id, tags: { Name: `${namePrefix}-private-${azLabel(i)}` } });
      new Route(this, `private_default_route_${i}`, {
        routeTableId: table.id,
        destinationCidrBlock: "0.0.0.0/0",
        ...(this.natInstance
          ? { networkInterfaceId: this.natInstance.networkInterface.id }
          : { natGatewayId: this.natGateways[natCount === 1 ? 0 : i].id }),
      });
      const association = new RouteTableAssociation(this, `private_route_table_association_${i}`, { subnetId: subnet.id, routeTableId: table.id });
      this.taskPrerequisites.push(subnet, association);
      return table;
    });

    // Gateway endpoints are free and keep ECR layer downloads (served from S3) off the NAT bill.
    new VpcEndpoint(this, "s3_gateway_endpoint", {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: this.assignPublicIp ? [publicRouteTable.id] : privateRouteTables.map((t) => t.id),
      tags: { Name: `${namePrefix}-s3` },
    });

    if (props.interfaceEndpoints) {
      const endpointSecurityGroup = new SecurityGroup(this, "endpoint_security_group", {
        name: `${namePrefix}-vpc-endpoints`,
        description: "Interface VPC endpoints: HTTPS from inside the VPC only",
        vpcId: vpc.id,
        tags: { Name: `${namePrefix}-vpc-endpoints` },
      });
      new VpcSecurityGroupIngressRule(this, "endpoint_https_from_vpc", {
        securityGroupId: endpointSecurityGroup.id,
        description: "HTTPS from the VPC",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: props.cidr,
      });
      for (const service of INTERFACE_ENDPOINT_SERVICES) {
        new VpcEndpoint(this, `${service.replace(".", "_")}_endpoint`, {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${props.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: this.privateSubnetIds,
          securityGroupIds: [endpointSecurityGroup.id],
          tags: { Name: `${namePrefix}-${service}` },
        });
      }
    }

    const flowLogGroup = new CloudwatchLogGroup(this, "flow_log_group", {
      name: `/vpc/${namePrefix}/flow-logs`,
      retentionInDays: props.flowLogRetentionDays,
    });
    const flowLogRole = new IamRole(this, "flow_log_role", {
      name: `${namePrefix}-vpc-flow-logs`,
      description: "Lets VPC Flow Logs write to its CloudWatch log group",
      assumeRolePolicy: assumedBy("vpc-flow-logs.amazonaws.com"),
    });
    new IamRolePolicy(this, "flow_log_role_policy", {
      name: "write-flow-logs",
      role: flowLogRole.id,
      policy: policyDocument([
        {
          Sid: "WriteFlowLogs",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: `${flowLogGroup.arn}:*`,
        },
      ]),
    });
    new FlowLog(this, "flow_log", {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      maxAggregationInterval: 600,
      tags: { Name: namePrefix },
    });
  }
}
