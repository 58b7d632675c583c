import { Construct } from "constructs";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";

export interface ExistingSubnetsProps {
  /** existing_vpc_id: every subnet must be in it. */
  readonly vpcId: string;
  /** existing_private_subnet_ids. */
  readonly subnetIds: readonly string[];
  /** EFS creates one mount target per subnet and allows one per AZ, so the subnets must be in distinct AZs. */
  readonly oneSubnetPerAz: boolean;
  /** An RDS subnet group needs subnets in at least two AZs (the in-stack server's database). @default no minimum */
  readonly minDistinctAzs?: number;
  /** Cloud Map's private DNS names resolve only in a VPC with DNS support and DNS host names on (the in-stack server). @default false */
  readonly requireVpcDns?: boolean;
}

/**
 * The operator's subnets, read at plan time and checked before anything is created: a subnet outside the VPC, or
 * two subnets in one AZ when EFS needs a mount target in each (EFS allows one per AZ), fail the plan with the key
 * named instead of failing the apply half-way. Used only where those rules matter (EFS, the in-stack server's
 * database and private DNS name), since the lookup needs AWS access at plan time.
 */
export class ExistingSubnets extends Construct {
  readonly subnets: DataAwsSubnet[] = [];

  constructor(scope: Construct, id: string, props: ExistingSubnetsProps) {
    super(scope, id);
    props.subnetIds.forEach((subnetId, i) => {
      const earlierAzs = this.subnets.map((s) => `${s.fqn}.availability_zone`);
      const postcondition = [
        {
          condition: `\${self.vpc_id == "${props.vpcId}"}`,
          errorMessage: `existing_private_subnet_ids: ${subnetId} is not in existing_vpc_id = ${props.vpcId}.`,
        },
      ];
      if (props.oneSubnetPerAz && earlierAzs.length) {
        postcondition.push({
          condition: `\${!contains([${earlierAzs.join(", ")}], self.availability_zone)}`,
          errorMessage: `existing_private_subnet_ids: ${subnetId} is in an AZ an earlier subnet of the list uses; with flow_run_efs, list one subnet per AZ (EFS allows one mount target per AZ).`,
        });
      }
      const last = i === props.subnetIds.length - 1;
      if (last && props.minDistinctAzs) {
        postcondition.push({
          condition: `\${length(distinct([${[...earlierAzs, "self.availability_zone"].join(", ")}])) >= ${props.minDistinctAzs}}`,
          errorMessage: `existing_private_subnet_ids must span at least ${props.minDistinctAzs} AZs: an RDS DB subnet group for the in-stack Prefect server's database needs subnets in ${props.minDistinctAzs} AZs.`,
        });
      }
      this.subnets.push(new DataAwsSubnet(this, `subnet_${i}`, { id: subnetId, lifecycle: { postcondition } }));
    });
    if (props.requireVpcDns) {
      new DataAwsVpc(this, "vpc", {
        id: props.vpcId,
        lifecycle: {
          postcondition: [
            {
              condition: "${self.enable_dns_support && self.enable_dns_hostnames}",
              errorMessage: `existing_vpc_id = ${props.vpcId} needs DNS support and DNS host names turned on: the in-stack Prefect server's Cloud Map name resolves only through the VPC's DNS.`,
            },
          ],
        },
      });
    }
  }
}
