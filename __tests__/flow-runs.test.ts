import { describe, expect, it } from "vitest";
import { EFS_POSIX_USER, NFS_PORT } from "../src/storage/efs";
import { only, resources, synth, synthVariant } from "./support/synth";

const templateOf = (json: any) => JSON.parse(json.locals.base_job_template);

describe("flow-run security group", () => {
  const { json } = synth();
  const group = resources(json, "aws_security_group").flow_run_security_group_security_group;

  it("is separate from the worker's, has no ingress and only HTTPS egress", () => {
    expect(group.name).toBe("prefect-ecs-dev-flow-runs");
    expect(resources(json, "aws_vpc_security_group_ingress_rule")).toEqual({});
    const egress = Object.values(resources(json, "aws_vpc_security_group_egress_rule")).filter(
      (r) => r.security_group_id === "${aws_security_group.flow_run_security_group_security_group.id}",
    );
    expect(egress.map((r) => [r.ip_protocol, r.from_port])).toEqual([["tcp", 443]]);
  });

  it("is the security group the template gives flow runs", () => {
    expect(templateOf(json).variables.properties.network_configuration.default.securityGroups).toEqual([
      "${aws_security_group.flow_run_security_group_security_group.id}",
    ]);
  });
});

describe("flow-run settings", () => {
  it("defaults the image to the flows repository at flow_run_image_tag", () => {
    const image = templateOf(synth({ flow_run_image_tag: "2024.06" }).json).variables.properties.image.default;
    expect(image).toBe("${aws_ecr_repository.registry_flows_repository.repository_url}:2024.06");
  });

  it("uses flow_run_image when given", () => {
    const image = templateOf(synth({ flow_run_image: "ghcr.io/acme/flows:1.2" }).json).variables.properties.image.default;
    expect(image).toBe("ghcr.io/acme/flows:1.2");
  });

  it("sizes flow runs with flow_run_cpu and flow_run_memory", () => {
    const { properties } = templateOf(synth({ flow_run_cpu: 2048, flow_run_memory: 8192 }).json).variables;
    expect([properties.cpu.default, properties.memory.default]).toEqual([2048, 8192]);
  });

  it("gives flow runs the key's secret with its JSON key, from an existing secret", () => {
    const { properties } = templateOf(synthVariant("existing_secret").json).variables;
    expect(properties.prefect_api_key_secret_arn.default).toBe(
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbC123:api_key::",
    );
  });

  it("attaches flow_run_policy_arns to the flow-run task role only", () => {
    const arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/flows-data"];
    const attachments = Object.values(resources(synth({ flow_run_policy_arns: arns }).json, "aws_iam_role_policy_attachment")).filter((a) =>
      arns.includes(a.policy_arn),
    );
    expect(attachments.map((a) => [a.role, a.policy_arn])).toEqual(arns.map((arn) => ["${aws_iam_role.iam_flow_run_task_role.name}", arn]));
  });
});

describe("EFS for flow runs", () => {
  const { json } = synth({ flow_run_efs: true, flow_run_efs_mount_path: "/data" });

  it("is off by default", () => {
    expect(resources(synth().json, "aws_efs_file_system")).toEqual({});
  });

  it("creates an encrypted file system that moves cold files to Infrequent Access", () => {
    expect(only(json, "aws_efs_file_system")).toMatchObject({
      encrypted: true,
      lifecycle_policy: [{ transition_to_ia: "AFTER_30_DAYS" }, { transition_to_primary_storage_class: "AFTER_1_ACCESS" }],
    });
  });

  it("puts a mount target in each private subnet, behind the EFS security group", () => {
    const targets = Object.values(resources(json, "aws_efs_mount_target"));
    expect(targets.map((t) => t.subnet_id)).toEqual(["${aws_subnet.network_private_subnet_0.id}", "${aws_subnet.network_private_subnet_1.id}"]);
    expect(targets.every((t) => t.security_groups[0] === "${aws_security_group.efs_security_group.id}")).toBe(true);
  });

  it("allows NFS only from the flow-run security group", () => {
    expect(only(json, "aws_vpc_security_group_ingress_rule")).toMatchObject({
      security_group_id: "${aws_security_group.efs_security_group.id}",
      ip_protocol: "tcp",
      from_port: NFS_PORT,
      to_port: NFS_PORT,
      referenced_security_group_id: "${aws_security_group.flow_run_security_group_security_group.id}",
    });
    expect(resources(json, "aws_vpc_security_group_egress_rule").efs_nfs_to_efs).toMatchObject({
      security_group_id: "${aws_security_group.flow_run_security_group_security_group.id}",
      from_port: NFS_PORT,
      referenced_security_group_id: "${aws_security_group.efs_security_group.id}",
    });
  });

  it("mounts through an access point with a POSIX user and its own root directory", () => {
    expect(only(json, "aws_efs_access_point")).toMatchObject({
      posix_user: { uid: EFS_POSIX_USER.uid, gid: EFS_POSIX_USER.gid },
      root_directory: { path: "/prefect", creation_info: { owner_uid: 1000, owner_gid: 1000, permissions: "0750" } },
    });
  });

  it("refuses unencrypted connections in the file system policy", () => {
    const policy = JSON.parse(only(json, "aws_efs_file_system_policy").policy);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  it("lets the flow-run task role mount and write this file system through the access point only", () => {
    const policy = JSON.parse(resources(json, "aws_iam_role_policy").iam_flow_run_task_flow_run_access_policy.policy);
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Sid: "MountFlowRunEfsThroughAccessPoint",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: "${aws_efs_file_system.efs_file_system.arn}",
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": "${aws_efs_access_point.efs_access_point.arn}" } },
      },
    ]);
  });

  it("adds the volume and mount point to the template's task definition", () => {
    const taskDefinition = templateOf(json).job_configuration.task_definition;
    expect(taskDefinition.volumes[0].efsVolumeConfiguration).toEqual({
      fileSystemId: "${aws_efs_file_system.efs_file_system.id}",
      rootDirectory: "/",
      transitEncryption: "ENABLED",
      authorizationConfig: { accessPointId: "${aws_efs_access_point.efs_access_point.id}", iam: "ENABLED" },
    });
    expect(taskDefinition.containerDefinitions[0].mountPoints).toEqual([{ sourceVolume: "efs", containerPath: "/data", readOnly: false }]);
    // EFS IAM authorization reads the task definition's role, not the RunTask override.
    expect(taskDefinition.taskRoleArn).toBe("{{ task_role_arn }}");
  });

  it("creates the pool only after the mount targets exist", () => {
    expect(resources(json, "null_resource").work_pool_pool.depends_on).toEqual(
      expect.arrayContaining(["aws_efs_mount_target.efs_mount_target_0", "aws_efs_access_point.efs_access_point"]),
    );
  });
});
