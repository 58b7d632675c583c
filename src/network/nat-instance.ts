import { Construct } from "constructs";
import { Fn, type ITerraformDependable, TerraformLocal } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { hardenedInstance } from "../security/instance-hardening";
import { assumedBy, policyDocument } from "../security/iam-policy";
import { stackOutput } from "../stacks/outputs";

/** AWS's public parameter naming the latest Amazon Linux 2023 AMI for arm64 (the standard image, with the AWS CLI). */
export const AL2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/** Root volume of the NAT instance: the Amazon Linux 2023 image's own size. */
export const NAT_INSTANCE_VOLUME_GB = 8;

export interface NatInstanceProps {
  readonly namePrefix: string;
  readonly partition: string;
  readonly region: string;
  readonly vpcId: string;
  /** The VPC's IPv4 block: the only traffic the instance accepts and forwards. */
  readonly vpcCidr: string;
  /** Public subnet the instance and its static interface live in (one AZ). */
  readonly subnetId: string;
  /** An EC2 instance type of a Graviton family (the image is arm64). */
  readonly instanceType: string;
  /** AMI id. @default the latest Amazon Linux 2023 arm64 image, read from AWS's public SSM parameter at plan time */
  readonly imageId?: string;
  /** What the boot script needs first: the public subnet's route to the internet gateway. */
  readonly bootPrerequisites: ITerraformDependable[];
}

/**
 * One small ARM instance that forwards the private subnets' traffic to the internet, instead of a NAT gateway.
 *
 * The private routes point at a static network interface, never at an instance, so they never change. An Auto
 * Scaling group of exactly one keeps an instance running; each instance, at boot (user data below), turns
 * forwarding and masquerading on, turns its source/destination check off, takes the Elastic IP on its primary
 * interface (a stable egress address; AWS then releases the address it launched with, so only one public IPv4
 * is billed) and attaches the static interface. A replaced instance means a few minutes without egress.
 */
export class NatInstance extends Construct {
  /** The interface the private subnets' default routes target. */
  readonly networkInterface: NetworkInterface;
  readonly elasticIp: Eip;
  readonly autoscalingGroup: AutoscalingGroup;
  readonly launchTemplate: LaunchTemplate;
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: NatInstanceProps) {
    super(scope, id);
    const name = `${props.namePrefix}-nat`;

    this.securityGroup = new SecurityGroup(this, "security_group", {
      name,
      description: "NAT instance: any traffic from inside the VPC, out to the internet",
      vpcId: props.vpcId,
      tags: { Name: name },
    });
    new VpcSecurityGroupIngressRule(this, "ingress_from_vpc", {
      securityGroupId: this.securityGroup.id,
      description: "Traffic from the VPC to forward",
      ipProtocol: "-1",
      cidrIpv4: props.vpcCidr,
    });
    new VpcSecurityGroupEgressRule(this, "egress_to_internet", {
      securityGroupId: this.securityGroup.id,
      description: "Forwarded traffic and the instance's own AWS API and package calls",
      ipProtocol: "-1",
      cidrIpv4: "0.0.0.0/0",
    });

    this.networkInterface = new NetworkInterface(this, "network_interface", {
      subnetId: props.subnetId,
      securityGroups: [this.securityGroup.id],
      // It forwards packets that are neither from nor to its own address.
      sourceDestCheck: false,
      description: `${name}: target of the private subnets' default routes`,
      tags: { Name: name },
    });
    this.elasticIp = new Eip(this, "elastic_ip", { domain: "vpc", tags: { Name: name } });

    // Any account in the ARN: a role acts in its own account only, and the tag condition narrows it to this NAT.
    const instances = `arn:${props.partition}:ec2:${props.region}:*:instance/*`;
    const ownInstances = { StringEquals: { "ec2:ResourceTag/Name": name } };
    this.role = new IamRole(this, "role", {
      name,
      description: "NAT instance: takes its Elastic IP and static network interface at boot",
      assumeRolePolicy: assumedBy("ec2.amazonaws.com"),
    });
    const rolePolicy = new IamRolePolicy(this, "role_policy", {
      name: "claim-nat-addresses",
      role: this.role.id,
      policy: policyDocument([
        { Sid: "ThisInterface", Action: "ec2:AttachNetworkInterface", Resource: this.networkInterface.arn },
        { Sid: "ThisAddress", Action: "ec2:AssociateAddress", Resource: this.elasticIp.arn },
        {
          Sid: "OwnInstances",
          Action: ["ec2:AttachNetworkInterface", "ec2:AssociateAddress", "ec2:ModifyInstanceAttribute"],
          Resource: instances,
          Condition: ownInstances,
        },
      ]),
    });
    const profile = new IamInstanceProfile(this, "instance_profile", { name, role: this.role.name });

    const imageId = props.imageId ?? new DataAwsSsmParameter(this, "image_id", { name: AL2023_ARM64_PARAMETER, withDecryption: false }).insecureValue;

    this.launchTemplate = new LaunchTemplate(this, "launch_template", {
      name,
      description: "Prefect ECS NAT instance",
      imageId,
      instanceType: props.instanceType,
      // T4g instances are "unlimited" by default and bill surplus CPU credits; forwarding needs little CPU.
      // Credit specifications apply to burstable (T) types only.
      creditSpecification: props.instanceType.startsWith("t") ? { cpuCredits: "standard" } : undefined,
      iamInstanceProfile: { arn: profile.arn },
      // A launch address lets the boot script reach the EC2 API; the Elastic IP then replaces it.
      ...hardenedInstance({ name, securityGroupId: this.securityGroup.id, volumeGb: NAT_INSTANCE_VOLUME_GB, publicAddress: true }),
      // A local keeps the script readable in cdk.tf.json (and lets it hold double quotes inside a function call).
      userData: Fn.base64encode(
        new TerraformLocal(
          this,
          "boot_script",
          natInstanceBootScript({ networkInterfaceId: this.networkInterface.id, allocationId: this.elasticIp.allocationId, vpcCidr: props.vpcCidr }),
        ).asString,
      ),
    });

    this.autoscalingGroup = new AutoscalingGroup(this, "autoscaling_group", {
      name,
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      // The static interface lives in one subnet (one AZ), so the instance must too.
      vpcZoneIdentifier: [props.subnetId],
      launchTemplate: { id: this.launchTemplate.id, version: `${this.launchTemplate.latestVersion}` },
      healthCheckType: "EC2",
      // Free at one-minute granularity; the NAT alarm watches the instances in service.
      enabledMetrics: ["GroupInServiceInstances"],
      metricsGranularity: "1Minute",
      healthCheckGracePeriod: 120,
      // A new image or size replaces the instance at deploy; with one instance, the old one must go first.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 0 } },
      tag: [{ key: "Name", value: name, propagateAtLaunch: true }],
      dependsOn: [profile, rolePolicy, ...props.bootPrerequisites],
    });
    stackOutput(this, "nat_instance_egress_ip", this.elasticIp.publicIp, "The address the tasks' internet traffic leaves from (for allowlists)");
    stackOutput(
      this,
      "nat_instance_network_interface_id",
      this.networkInterface.id,
      "The NAT instance's static interface, target of the private routes",
    );
  }
}

export interface BootScriptProps {
  readonly networkInterfaceId: string;
  readonly allocationId: string;
  readonly vpcCidr: string;
}

/**
 * The NAT instance's user data. It runs once, as root, at first boot. It avoids `${` and `%{`: Terraform
 * would read them as its own template syntax; the two ids are Terraform references on purpose.
 */
export function natInstanceBootScript(props: BootScriptProps): string {
  return `#!/bin/bash
# NAT instance boot: forward the VPC's traffic to the internet through this instance.
set -euo pipefail
ENI_ID="${props.networkInterfaceId}"
EIP_ALLOCATION_ID="${props.allocationId}"
VPC_CIDR="${props.vpcCidr}"

retry() { for attempt in 1 2 3 4 5 6; do "$@" && return 0; sleep 10; done; "$@"; }
imds() {
  local token
  token=$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
  curl -sSf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
INSTANCE_ID=$(imds instance-id)
AWS_DEFAULT_REGION=$(imds placement/region)
export AWS_DEFAULT_REGION

# Forwarding on; reverse-path filtering off, since traffic arrives on the static interface and leaves by the primary one.
tee /etc/sysctl.d/90-nat-instance.conf >/dev/null <<'SYSCTL'
net.ipv4.ip_forward = 1
net.ipv4.conf.all.rp_filter = 0
net.ipv4.conf.default.rp_filter = 0
SYSCTL
sysctl --system >/dev/null

# Masquerade the VPC's traffic out of the interface holding the default route (the primary one), across reboots.
OUT=$(ip -4 route show default | awk '{print $5; exit}')
retry dnf install -y nftables
tee /etc/sysconfig/nftables.conf >/dev/null <<NFT
table ip nat_instance {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr $VPC_CIDR oifname "$OUT" masquerade
  }
}
NFT
systemctl enable nftables
systemctl restart nftables

# The primary interface forwards traffic that is neither from nor to it.
retry aws ec2 modify-instance-attribute --instance-id "$INSTANCE_ID" --no-source-dest-check
# A stable egress address; AWS releases the launch address. Before the attach: with two interfaces, AWS needs an interface id.
retry aws ec2 associate-address --allocation-id "$EIP_ALLOCATION_ID" --instance-id "$INSTANCE_ID" --allow-reassociation
# The static interface the private routes point at; the instance this one replaces may hold it for a few minutes.
for attempt in $(seq 1 30); do
  aws ec2 attach-network-interface --network-interface-id "$ENI_ID" --instance-id "$INSTANCE_ID" --device-index 1 && exit 0
  sleep 10
done
echo "could not attach $ENI_ID to $INSTANCE_ID" >&2
exit 1
`;
}
