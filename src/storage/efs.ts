import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { EfsFileSystem } from "@cdktf/provider-aws/lib/efs-file-system";
import { EfsFileSystemPolicy } from "@cdktf/provider-aws/lib/efs-file-system-policy";
import { EfsMountTarget } from "@cdktf/provider-aws/lib/efs-mount-target";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { stackOutput } from "../stacks/outputs";

export const NFS_PORT = 2049;
/** POSIX identity flow runs use on the file system, and the directory they are rooted in. */
export const EFS_POSIX_USER = { uid: 1000, gid: 1000 } as const;
export const EFS_ROOT_DIRECTORY = "/prefect";

export interface FlowRunEfsProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** One mount target per subnet; the subnets must be in different AZs. */
  readonly subnetIds: string[];
  /** Only this security group (the flow runs') may reach NFS; it gets the matching egress rule. */
  readonly clientSecurityGroupId: string;
}

/** An encrypted EFS file system shared by flow runs through one access point. */
export class FlowRunEfs extends Construct {
  readonly fileSystem: EfsFileSystem;
  readonly accessPoint: EfsAccessPoint;
  readonly securityGroup: SecurityGroup;
  readonly mountTargets: EfsMountTarget[];
  /** What a flow run mounting the file system needs first: the file system, a mount target per AZ, the access point. */
  readonly prerequisites: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: FlowRunEfsProps) {
    super(scope, id);
    this.fileSystem = new EfsFileSystem(this, "file_system", {
      encrypted: true,
      performanceMode: "generalPurpose",
      throughputMode: "elastic",
      // Files untouched for 30 days move to Infrequent Access (about 92% cheaper per GB) and back on access.
      lifecyclePolicy: [{ transitionToIa: "AFTER_30_DAYS" }, { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" }],
      tags: { Name: `${props.namePrefix}-flow-runs` },
    });
    this.securityGroup = new SecurityGroup(this, "security_group", {
      name: `${props.namePrefix}-flow-run-efs`,
      description: "EFS for flow runs: NFS from the flow-run security group only",
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-flow-run-efs` },
    });
    new VpcSecurityGroupIngressRule(this, "nfs_from_flow_runs", {
      securityGroupId: this.securityGroup.id,
      description: "NFS from flow-run tasks",
      ipProtocol: "tcp",
      fromPort: NFS_PORT,
      toPort: NFS_PORT,
      referencedSecurityGroupId: props.clientSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, "nfs_to_efs", {
      securityGroupId: props.clientSecurityGroupId,
      description: "NFS to the flow-run EFS file system",
      ipProtocol: "tcp",
      fromPort: NFS_PORT,
      toPort: NFS_PORT,
      referencedSecurityGroupId: this.securityGroup.id,
    });
    this.mountTargets = props.subnetIds.map(
      (subnetId, i) =>
        new EfsMountTarget(this, `mount_target_${i}`, { fileSystemId: this.fileSystem.id, subnetId, securityGroups: [this.securityGroup.id] }),
    );
    this.accessPoint = new EfsAccessPoint(this, "access_point", {
      fileSystemId: this.fileSystem.id,
      posixUser: { ...EFS_POSIX_USER },
      rootDirectory: {
        path: EFS_ROOT_DIRECTORY,
        creationInfo: { ownerUid: EFS_POSIX_USER.uid, ownerGid: EFS_POSIX_USER.gid, permissions: "0750" },
      },
      tags: { Name: `${props.namePrefix}-flow-runs` },
    });
    this.prerequisites = [this.fileSystem, ...this.mountTargets, this.accessPoint];
    stackOutput(this, "flow_run_efs_file_system_id", this.fileSystem.id, "EFS file system mounted into flow runs");
    stackOutput(this, "flow_run_efs_access_point_id", this.accessPoint.id, "EFS access point flow runs mount through");
    // Refuse unencrypted NFS connections, whatever the client's IAM policy says.
    new EfsFileSystemPolicy(this, "file_system_policy", {
      fileSystemId: this.fileSystem.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyUnencryptedTransport",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "*",
            Resource: this.fileSystem.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
  }

  /** IAM statement letting a task mount and write through the access point only. */
  clientStatement() {
    return {
      Sid: "MountFlowRunEfsThroughAccessPoint",
      Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
      Resource: this.fileSystem.arn,
      Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": this.accessPoint.arn } },
    };
  }
}
