import { ExistingSubnets } from "../network/existing-subnets";
import { TaskSecurityGroup } from "../network/security-groups";
import { Network } from "../network/vpc";
import { stackOutput } from "../stacks/outputs";
import type { FeatureContext } from "./context";

/**
 * Where the tasks run: a new VPC or the operator's own, the subnets the worker and flow runs use, and their
 * security groups (no inbound traffic; outbound only what reaching Prefect needs).
 */
export class TaskNetwork {
  readonly vpcId: string;
  /** The VPC this stack creates; undefined with existing_vpc_id. */
  readonly vpc?: Network;
  /** Private subnets behind a NAT, or the public ones with public_subnets egress. */
  readonly taskSubnetIds: string[];
  readonly assignPublicIp: boolean;
  readonly workerSecurityGroup: TaskSecurityGroup;
  readonly flowRunSecurityGroup: TaskSecurityGroup;

  constructor({ stack, settings, connection, partition }: FeatureContext) {
    const prefix = settings.name_prefix;
    this.vpc = settings.existing_vpc_id
      ? undefined
      : new Network(stack, "network", {
          namePrefix: prefix,
          region: settings.aws_region,
          cidr: settings.vpc_cidr,
          availabilityZones: settings.availability_zones,
          azCount: settings.az_count,
          partition,
          egress:
            settings.internet_egress === "nat_instance"
              ? { mode: "nat_instance", instanceType: settings.nat_instance_type, imageId: settings.nat_instance_ami_id }
              : settings.internet_egress === "public_subnets"
                ? { mode: "public_subnets" }
                : { mode: "nat_gateway", natGatewayMode: settings.nat_gateway_mode },
          flowLogRetentionDays: settings.log_retention_days,
          interfaceEndpoints: settings.vpc_interface_endpoints,
        });
    this.vpcId = this.vpc?.vpcId ?? settings.existing_vpc_id!;
    this.taskSubnetIds = this.vpc?.taskSubnetIds ?? settings.existing_private_subnet_ids!;
    this.assignPublicIp = this.vpc?.assignPublicIp ?? false;

    const egressPorts = [...connection.egressPorts];
    const outbound = connection.inStackServer
      ? "outbound HTTPS, and the in-stack Prefect server's API"
      : egressPorts.length === 1
        ? "outbound HTTPS only"
        : `outbound TCP ${egressPorts.join(" and ")} only`;
    const taskGroup = (id: string, name: string, what: string) =>
      new TaskSecurityGroup(stack, id, {
        vpcId: this.vpcId,
        name: `${prefix}-${name}`,
        description: `${what}: no inbound traffic; ${outbound}`,
        egressPorts,
      });
    this.workerSecurityGroup = taskGroup("worker_security_group", "worker", "Prefect worker");
    this.flowRunSecurityGroup = taskGroup("flow_run_security_group", "flow-runs", "Prefect flow runs");
    // An existing VPC is checked at plan time for what EFS and the server need of it.
    if ((settings.flow_run_efs || settings.prefect_server) && settings.existing_vpc_id) {
      new ExistingSubnets(stack, "existing_subnets", {
        vpcId: this.vpcId,
        subnetIds: this.taskSubnetIds,
        oneSubnetPerAz: settings.flow_run_efs,
        minDistinctAzs: settings.prefect_server ? 2 : undefined,
        requireVpcDns: settings.prefect_server,
      });
    }

    stackOutput(stack, "vpc_id", this.vpcId, "VPC the worker and flow runs use");
    if (this.assignPublicIp)
      stackOutput(stack, "public_subnet_ids", this.taskSubnetIds, "Public subnets the worker and flow runs run in, with public IPs");
    else stackOutput(stack, "private_subnet_ids", this.taskSubnetIds, "Private subnets for the worker and flow runs");
    stackOutput(stack, "flow_run_security_group_id", this.flowRunSecurityGroup.securityGroup.id, "Security group of flow-run tasks");
  }

  /** What must exist before a task can reach the internet (none in an existing VPC). */
  get egressPrerequisites() {
    return this.vpc?.egressPrerequisites ?? [];
  }

  /** The VPC and task subnets with their routes (none in an existing VPC). */
  get taskPrerequisites() {
    return this.vpc?.taskPrerequisites ?? [];
  }
}
