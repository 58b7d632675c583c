import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";

export interface TaskSecurityGroupProps {
  readonly vpcId: string;
  readonly name: string;
  readonly description: string;
  /** TCP ports the tasks may reach anywhere (through the NAT). @default [443] */
  readonly egressPorts?: number[];
}

/**
 * A security group for Fargate tasks that only call out: no ingress rule at all, and egress only on
 * the listed TCP ports. DNS to the VPC resolver is not filtered by security groups.
 */
export class TaskSecurityGroup extends Construct {
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: TaskSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, "security_group", {
      name: props.name,
      description: props.description,
      vpcId: props.vpcId,
      // Rules live in their own resources; an empty inline list would fight them.
      tags: { Name: props.name },
    });
    for (const port of props.egressPorts ?? [443]) {
      new VpcSecurityGroupEgressRule(this, `egress_tcp_${port}`, {
        securityGroupId: this.securityGroup.id,
        description: port === 443 ? "HTTPS to Prefect, ECR, Secrets Manager and CloudWatch Logs" : `TCP ${port} to the self-hosted Prefect API`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      });
    }
  }
}
