import { Construct } from "constructs";
import { Fn, type ITerraformDependable, TerraformLocal } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { FLOW_RUN_INSTANCES_SUFFIX } from "../naming";
import { TaskSecurityGroup } from "../network/security-groups";
import type { CpuArchitecture } from "../rules/ec2-instances";
import { assumedBy } from "../security/iam-policy";
import { hardenedInstance } from "../security/instance-hardening";

/** AWS's public parameters for the current ECS-optimized Amazon Linux 2023 image (retrieve-ecs-optimized_AMI.html). */
export const ECS_AL2023_IMAGE_PARAMETER: Readonly<Record<CpuArchitecture, string>> = {
  X86_64: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
  ARM64: "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
};

export interface FlowRunInstancesProps {
  readonly namePrefix: string;
  /** The cluster the instances join (the ECS agent's ECS_CLUSTER). */
  readonly clusterName: string;
  readonly vpcId: string;
  /** The task subnets: private, routed through the NAT. */
  readonly subnetIds: string[];
  readonly partition: string;
  readonly architecture: CpuArchitecture;
  readonly instanceType: string;
  /** Instances kept running. */
  readonly minSize: number;
  readonly maxSize: number;
  /** The share of the instances' capacity ECS managed scaling aims to use, in %. */
  readonly targetCapacity: number;
  /** Stopped, initialized instances the group starts before launching new ones. @default 0 (no warm pool) */
  readonly warmPoolSize?: number;
  readonly volumeGb: number;
  /** A fixed image; otherwise the current ECS-optimized Amazon Linux 2023 image, read from AWS's public parameter. */
  readonly imageId?: string;
}

/**
 * The ECS agent's settings. prefer-cached: a warm instance starts a flow run from the image it already holds
 * (pulled only when absent; a mutable tag is then not pulled again). Tasks cannot reach the instance's metadata
 * service (and so its role). With a warm pool the agent registers only once the instance leaves it.
 * It reaches Terraform as a template string: the cluster's name may be a reference, nothing else holds `${` or `%{`.
 */
export function ecsAgentConfig(clusterName: string, warmPool: boolean): string {
  return [
    `ECS_CLUSTER=${clusterName}`,
    "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
    "ECS_AWSVPC_BLOCK_IMDS=true",
    "ECS_ENABLE_CONTAINER_METADATA=true",
    ...(warmPool ? ["ECS_WARM_POOLS_CHECK=true"] : []),
  ].join("\n");
}

/**
 * Warm EC2 capacity for flow runs: an Auto Scaling group of ECS-optimized instances behind an ECS capacity provider
 * with managed scaling (ECS adds instances when runs wait and removes idle ones down to the minimum), managed
 * termination protection (scale-in never stops an instance with a running flow) and managed draining (a replaced
 * instance's tasks finish first). The instances have no public address, IMDSv2 only, encrypted volumes, and a role
 * with AWS's managed policy for the ECS agent.
 */
export class FlowRunInstances extends Construct {
  readonly capacityProvider: EcsCapacityProvider;
  readonly autoscalingGroup: AutoscalingGroup;
  readonly launchTemplate: LaunchTemplate;
  readonly role: IamRole;
  /** What a flow run placed on these instances needs first: the provider, and the agent's rights to register them. */
  readonly prerequisites: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: FlowRunInstancesProps) {
    super(scope, id);
    const name = `${props.namePrefix}${FLOW_RUN_INSTANCES_SUFFIX}`;
    this.role = new IamRole(this, "role", {
      name: `${name}-instance`,
      description: "Flow-run EC2 instances: the ECS agent registers them and pulls images",
      assumeRolePolicy: assumedBy("ec2.amazonaws.com"),
    });
    // AWS's policy for the ECS agent on an instance (register, poll, submit state, pull from ECR, write logs).
    const agentPolicy = new IamRolePolicyAttachment(this, "agent_policy", {
      role: this.role.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`,
    });
    const profile = new IamInstanceProfile(this, "instance_profile", { name: `${name}-instance`, role: this.role.name });
    // The instance's own interface calls out to ECS, ECR and CloudWatch only; each task has its own interface and group.
    const hostGroup = new TaskSecurityGroup(this, "host_security_group", {
      vpcId: props.vpcId,
      name: `${name}-instances`,
      description: "Flow-run EC2 instances: HTTPS out to ECS, ECR and CloudWatch; nothing in",
    });

    const imageId =
      props.imageId ??
      new DataAwsSsmParameter(this, "image_id", { name: ECS_AL2023_IMAGE_PARAMETER[props.architecture], withDecryption: false }).insecureValue;
    const warmPool = (props.warmPoolSize ?? 0) > 0;
    this.launchTemplate = new LaunchTemplate(this, "launch_template", {
      name,
      description: "Prefect flow runs: ECS-optimized Amazon Linux 2023",
      imageId,
      instanceType: props.instanceType,
      // Burstable types would otherwise bill surplus CPU credits ("unlimited" is their default).
      creditSpecification: props.instanceType.startsWith("t") ? { cpuCredits: "standard" } : undefined,
      iamInstanceProfile: { arn: profile.arn },
      // awsvpc tasks are also kept from the metadata service by the agent (ECS_AWSVPC_BLOCK_IMDS).
      ...hardenedInstance({ name, securityGroupId: hostGroup.securityGroup.id, volumeGb: props.volumeGb, publicAddress: false }),
      userData: Fn.base64encode(
        new TerraformLocal(
          this,
          "agent_config",
          `#!/bin/bash\ncat >> /etc/ecs/ecs.config <<'EOF'\n${ecsAgentConfig(props.clusterName, warmPool)}\nEOF\n`,
        ).asString,
      ),
    });

    this.autoscalingGroup = new AutoscalingGroup(this, "autoscaling_group", {
      name,
      minSize: props.minSize,
      maxSize: props.maxSize,
      vpcZoneIdentifier: props.subnetIds,
      launchTemplate: { id: this.launchTemplate.id, version: `${this.launchTemplate.latestVersion}` },
      healthCheckType: "EC2",
      // Managed termination protection needs every instance protected from scale-in; ECS lifts it when one is idle.
      protectFromScaleIn: true,
      // A new image or type replaces instances at deploy; protected instances are replaced, after ECS drains them.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 0, scaleInProtectedInstances: "Refresh" } },
      warmPool: warmPool ? { poolState: "Stopped", minSize: props.warmPoolSize } : undefined,
      tag: [
        { key: "Name", value: name, propagateAtLaunch: true },
        // ECS adds this tag when managed scaling is on; stating it keeps the next plan from removing it.
        { key: "AmazonECSManaged", value: "true", propagateAtLaunch: true },
      ],
      // A destroy would otherwise wait forever: scale-in protected instances never leave a group scaled to zero.
      forceDelete: true,
      forceDeleteWarmPool: true,
      // Managed scaling sets the desired capacity; Terraform would otherwise reset it on every apply.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
      dependsOn: [profile, agentPolicy],
    });

    this.capacityProvider = new EcsCapacityProvider(this, "capacity_provider", {
      name,
      autoScalingGroupProvider: {
        autoScalingGroupArn: this.autoscalingGroup.arn,
        managedTerminationProtection: "ENABLED",
        managedDraining: "ENABLED",
        managedScaling: { status: "ENABLED", targetCapacity: props.targetCapacity, minimumScalingStepSize: 1, maximumScalingStepSize: props.maxSize },
      },
    });
    this.prerequisites = [this.capacityProvider, agentPolicy];
  }
}
