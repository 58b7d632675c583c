import { DescribeRouteTablesCommand, DescribeSecurityGroupRulesCommand, DescribeVpcEndpointsCommand } from "@aws-sdk/client-ec2";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import {
  DescribeAccessPointsCommand,
  DescribeFileSystemPolicyCommand,
  DescribeFileSystemsCommand,
  DescribeLifecycleConfigurationCommand,
  DescribeMountTargetSecurityGroupsCommand,
  DescribeMountTargetsCommand,
} from "@aws-sdk/client-efs";
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAppliedStack, describeReplanAndDestroy, NFS_PORT, templateDefault } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/** EFS for flow runs, Spot capacity for worker and flow runs, a named work queue, and interface endpoints. */
const lane = new EmulatorLane("efs-spot");
const VALUES = { flow_run_efs: true, flow_run_spot: true, work_queues: ["default"], vpc_interface_endpoints: true, worker_capacity: "fargate_spot" };
const INTERFACE_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"];

beforeAll(() => lane.deploy(VALUES), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("EFS for flow runs", () => {
  it("GIVEN flow_run_efs THEN an encrypted file system moves idle files to Infrequent Access and back, and refuses unencrypted transport", async () => {
    const { efs } = lane.aws;
    const fileSystemId = lane.outputs.flow_run_efs_file_system_id;
    const [fileSystem] = (await efs.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId }))).FileSystems!;
    expect(fileSystem.Encrypted).toBe(true);
    const lifecycle = (await efs.send(new DescribeLifecycleConfigurationCommand({ FileSystemId: fileSystemId }))).LifecyclePolicies;
    expect(lifecycle).toEqual(expect.arrayContaining([{ TransitionToIA: "AFTER_30_DAYS" }, { TransitionToPrimaryStorageClass: "AFTER_1_ACCESS" }]));
    const policy = JSON.parse((await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }))).Policy!);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Resource: fileSystem.FileSystemArn, Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
  });

  it("GIVEN the file system THEN it has a mount target in each private subnet, reachable on NFS from the flow-run security group only", async () => {
    const { efs, ec2 } = lane.aws;
    const mountTargets = (await efs.send(new DescribeMountTargetsCommand({ FileSystemId: lane.outputs.flow_run_efs_file_system_id }))).MountTargets!;
    expect(mountTargets.map((m) => m.SubnetId).sort()).toEqual([...lane.outputs.private_subnet_ids].sort());
    const groups = new Set<string>();
    for (const target of mountTargets) {
      for (const group of (await efs.send(new DescribeMountTargetSecurityGroupsCommand({ MountTargetId: target.MountTargetId }))).SecurityGroups!)
        groups.add(group);
    }
    expect(groups.size).toBe(1);
    const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [...groups] }] })))
      .SecurityGroupRules!;
    expect(rules.filter((r) => !r.IsEgress).map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo?.GroupId, r.CidrIpv4])).toEqual([
      ["tcp", NFS_PORT, NFS_PORT, lane.outputs.flow_run_security_group_id, undefined],
    ]);
  });

  it("GIVEN the access point THEN flow runs mount it as 1000:1000 under /prefect, through IAM, as the template and the flow-run task role say", async () => {
    const { efs, iam } = lane.aws;
    const [accessPoint] = (await efs.send(new DescribeAccessPointsCommand({ FileSystemId: lane.outputs.flow_run_efs_file_system_id }))).AccessPoints!;
    expect(accessPoint.AccessPointId).toBe(lane.outputs.flow_run_efs_access_point_id);
    expect(accessPoint.PosixUser).toMatchObject({ Uid: 1000, Gid: 1000 });
    expect(accessPoint.RootDirectory?.Path).toBe("/prefect");
    const template = JSON.parse(lane.outputs.base_job_template);
    expect(template.job_configuration.task_definition.volumes).toEqual([
      expect.objectContaining({
        efsVolumeConfiguration: expect.objectContaining({
          fileSystemId: lane.outputs.flow_run_efs_file_system_id,
          transitEncryption: "ENABLED",
          authorizationConfig: { accessPointId: accessPoint.AccessPointId, iam: "ENABLED" },
        }),
      }),
    ]);
    const taskRole = (await iam.send(new GetRoleCommand({ RoleName: templateDefault(template, "task_role_arn").split("/").pop() }))).Role!;
    const statements = [];
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: taskRole.RoleName }))).PolicyNames!) {
      const document = (await iam.send(new GetRolePolicyCommand({ RoleName: taskRole.RoleName, PolicyName: name }))).PolicyDocument!;
      statements.push(...JSON.parse(decodeURIComponent(document)).Statement);
    }
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": accessPoint.AccessPointArn } },
      }),
    );
  });
});

describe("Spot capacity, a named queue and interface endpoints", () => {
  it("GIVEN flow_run_spot THEN the template starts flow runs on FARGATE_SPOT", () => {
    const template = JSON.parse(lane.outputs.base_job_template);
    expect(templateDefault(template, "launch_type")).toBe("FARGATE_SPOT");
  });

  it("GIVEN work_queues THEN the worker polls exactly those queues", async () => {
    const { ecs } = lane.aws;
    const service = (await ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] })))
      .services![0];
    const container = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition!
      .containerDefinitions![0];
    expect(container.command!.slice(-2)).toEqual(["--work-queue", "default"]);
  });

  it("GIVEN vpc_interface_endpoints THEN ECR, Logs and Secrets Manager are reachable inside every private subnet with private DNS, and S3 through the private route tables", async () => {
    const { ec2 } = lane.aws;
    const endpoints = (await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-id", Values: [lane.outputs.vpc_id] }] })))
      .VpcEndpoints!;
    const interfaces = endpoints.filter((e) => e.VpcEndpointType === "Interface");
    expect(interfaces.map((e) => e.ServiceName).sort()).toEqual(INTERFACE_SERVICES.map((s) => `com.amazonaws.us-east-1.${s}`).sort());
    for (const endpoint of interfaces) {
      expect(endpoint.SubnetIds?.sort(), endpoint.ServiceName).toEqual([...lane.outputs.private_subnet_ids].sort());
      expect(endpoint.PrivateDnsEnabled, endpoint.ServiceName).toBe(true);
    }
    const [gateway] = endpoints.filter((e) => e.VpcEndpointType === "Gateway");
    expect(gateway.ServiceName).toBe("com.amazonaws.us-east-1.s3");
    const tables = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: gateway.RouteTableIds }))).RouteTables!;
    const associated = tables.flatMap((t) => t.Associations ?? []).map((a) => a.SubnetId);
    expect(associated.sort()).toEqual([...lane.outputs.private_subnet_ids].sort());
  });
});

describeReplanAndDestroy(lane);
