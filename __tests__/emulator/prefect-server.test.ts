import { spawn, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { DescribeDBInstancesCommand, DescribeDBParametersCommand } from "@aws-sdk/client-rds";
import { GetNamespaceCommand, GetServiceCommand } from "@aws-sdk/client-servicediscovery";
import { DescribeSecurityGroupRulesCommand } from "@aws-sdk/client-ec2";
import { RequestCertificateCommand } from "@aws-sdk/client-acm";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  databasePasswordSecretName,
  describeAppliedStack,
  describeReplanAndDestroy,
  expectedCredential,
  stackFacts,
} from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";
import { doubleCalls, prefectDoubleWorkdir } from "../support/prefect-double";
import { VARIANTS } from "../support/synth";
import { PREFECT_IMAGE } from "../../src/versions";
import { TEMPLATE_ENV } from "../../src/work-pool/worker-bootstrap";

/**
 * The in-stack Prefect server (prefect_server): RDS PostgreSQL, one server task behind a Cloud Map name,
 * a worker that writes its own pool, basic auth, and the opt-in public HTTPS listener (on a certificate the
 * operator brings, requested from the emulator's ACM first), and the alarms. A dev profile (no deletion protection, no final
 * snapshot) so the lane can destroy; the protected default is asserted at synth and in the offline plan.
 */
const lane = new EmulatorLane("prefect-server");
const SETTINGS = {
  ...VARIANTS.prefect_server,
  self_hosted_auth: "auth_string",
  prefect_server_public_cidrs: ["203.0.113.0/24"],
  // The server's and the database's alarms apply and destroy too.
  alarm_email: "ops@example.com",
  prefect_server_db_deletion_protection: false,
  prefect_server_db_final_snapshot: false,
};
let certificateArn: string;

beforeAll(async () => {
  await lane.open();
  certificateArn = (await lane.aws.acm.send(new RequestCertificateCommand({ DomainName: "prefect.example.com" }))).CertificateArn!;
  await lane.deploy({ ...SETTINGS, prefect_server_public_certificate_arn: certificateArn });
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("the in-stack server, as applied", () => {
  const service = async (name: string) =>
    (await lane.aws.ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [name] }))).services![0];
  const containerOf = async (name: string) => {
    const taskDefinition = (await service(name)).taskDefinition;
    return (await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition!.containerDefinitions![0];
  };

  it("GIVEN the database THEN it is PostgreSQL, encrypted, private, in the stack's private subnets, behind its own security group", async () => {
    const db = (await lane.aws.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: lane.outputs.prefect_database_identifier })))
      .DBInstances![0];
    expect(db).toMatchObject({ Engine: "postgres", StorageEncrypted: true, PubliclyAccessible: false, DBName: "prefect", MasterUsername: "prefect" });
    expect(db.Endpoint?.Address).toBe(lane.outputs.prefect_database_endpoint);
    expect(db.DBSubnetGroup!.Subnets!.map((s) => s.SubnetIdentifier).sort()).toEqual([...lane.outputs.private_subnet_ids].sort());
    const [dbGroup] = db.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId!);
    const rules = (await lane.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [dbGroup] }] })))
      .SecurityGroupRules!;
    const server = await service(lane.outputs.prefect_server_service_name);
    const serverGroup = server.networkConfiguration!.awsvpcConfiguration!.securityGroups![0];
    expect(rules.map((r) => [r.IsEgress, r.FromPort, r.ReferencedGroupInfo?.GroupId ?? r.CidrIpv4])).toEqual([[false, 5432, serverGroup]]);
    const parameters = (
      await lane.aws.rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: db.DBParameterGroups![0].DBParameterGroupName }))
    ).Parameters!;
    expect(parameters).toContainEqual(expect.objectContaining({ ParameterName: "rds.force_ssl", ParameterValue: "1" }));
  });

  it("GIVEN the server service THEN one task of the pinned image, registered in Cloud Map as server.<name_prefix>.internal", async () => {
    const server = await service(lane.outputs.prefect_server_service_name);
    expect(server.desiredCount).toBe(1);
    // moto keeps no deployment configuration (EMULATOR_OBSERVATIONS); Terraform's state holds what was applied.
    const state = JSON.parse(await lane.stack.stateText());
    const applied = state.resources.find((r: any) => r.type === "aws_ecs_service" && r.name === "server_service").instances[0].attributes;
    expect(applied).toMatchObject({ deployment_maximum_percent: 100, deployment_minimum_healthy_percent: 0, desired_count: 1 });
    const registry = server.serviceRegistries![0].registryArn!;
    const discovery = (await lane.aws.cloudMap.send(new GetServiceCommand({ Id: registry.split("/").pop() }))).Service!;
    // moto leaves NamespaceId empty for a namespace given in DnsConfig (EMULATOR_OBSERVATIONS).
    const namespaceId = discovery.NamespaceId ?? discovery.DnsConfig?.NamespaceId;
    const namespace = (await lane.aws.cloudMap.send(new GetNamespaceCommand({ Id: namespaceId }))).Namespace!;
    expect(discovery.DnsConfig?.DnsRecords).toEqual([{ Type: "A", TTL: 10 }]);
    expect(`http://${discovery.Name}.${namespace.Name}:4200/api`).toBe(lane.outputs.prefect_server_url);
    const container = await containerOf(lane.outputs.prefect_server_service_name);
    expect(container.image).toBe(PREFECT_IMAGE);
    expect(container.environment).toContainEqual({ name: "PREFECT_SERVER_DATABASE_HOST", value: lane.outputs.prefect_database_endpoint });
    expect(container.secrets).toEqual([
      { name: "PREFECT_SERVER_DATABASE_PASSWORD", valueFrom: expect.stringContaining(`:secret:${databasePasswordSecretName(lane)}-`) },
      // The server requires the same auth string the worker sends (one secret).
      { name: "PREFECT_SERVER_API_AUTH_STRING", valueFrom: expectedCredential(lane, await stackFacts(lane))!.valueFrom },
    ]);
  });

  it("GIVEN the worker's applied task definition WHEN its command runs with a stand-in prefect THEN the pool gets exactly the rendered template", async () => {
    const container = await containerOf(lane.outputs.worker_service_name);
    const environment = Object.fromEntries(container.environment!.map((e) => [e.name!, e.value!]));
    expect(environment.PREFECT_API_URL).toBe(lane.outputs.prefect_server_url);
    // A stand-in for the server's /api/ready; the URL is the only value replaced.
    const ready: Server = createServer((_, response) => response.end("{}"));
    await new Promise<void>((resolve) => ready.listen(0, "127.0.0.1", resolve));
    try {
      const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
      const w = prefectDoubleWorkdir({ tools: ["mktemp", "rm"], links: { python } });
      const env = {
        ...environment,
        PREFECT_API_URL: `http://127.0.0.1:${(ready.address() as AddressInfo).port}/api`,
        PATH: w.bin,
        TMPDIR: join(w.dir, "tmp"),
        DOUBLE_LOG: w.log,
      };
      const child = spawn(container.command![0], container.command!.slice(1), { cwd: w.dir, env });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      expect(await new Promise((resolve) => child.on("close", resolve)), stderr).toBe(0);
      const calls = doubleCalls(w);
      // Terraform's base64gzip(), decoded by the container's Python, gives back the template output byte for byte.
      expect(calls.find((c) => c.args[1] === "create")?.templateText).toBe(lane.outputs.base_job_template);
      expect(calls.at(-1)?.args.slice(0, 4)).toEqual(["worker", "start", "--pool", lane.outputs.work_pool_name]);
      // gzip, then base64's 4/3: about a quarter of the template's size in the task definition.
      expect(environment[TEMPLATE_ENV].length).toBeLessThan(lane.outputs.base_job_template.length / 3);
    } finally {
      await new Promise<void>((resolve) => ready.close(() => resolve()));
    }
  });
});

describe("the server's alarms, as applied", () => {
  it("GIVEN alarm_email THEN the server-down and database-storage alarms watch the applied service and database", async () => {
    const alarms = (await lane.aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${lane.settings.name_prefix}-prefect-` })))
      .MetricAlarms!;
    const byName = Object.fromEntries(alarms.map((a) => [a.AlarmName, a]));
    expect(byName[`${lane.settings.name_prefix}-prefect-server-down`]?.Dimensions).toContainEqual({
      Name: "ServiceName",
      Value: lane.outputs.prefect_server_service_name,
    });
    expect(byName[`${lane.settings.name_prefix}-prefect-db-storage-low`]?.Dimensions).toEqual([
      { Name: "DBInstanceIdentifier", Value: lane.outputs.prefect_database_identifier },
    ]);
  });
});

describe("the opt-in public listener, as applied", () => {
  it("GIVEN the certificate THEN one internet-facing ALB listens on HTTPS 443 only and forwards to the server task's port", async () => {
    const { elb } = lane.aws;
    const [balancer] = (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!;
    expect(balancer).toMatchObject({ Type: "application", DNSName: lane.outputs.prefect_server_public_dns_name });
    // moto reports no Scheme for a balancer created without one (EMULATOR_OBSERVATIONS); AWS's default is internet-facing.
    expect(balancer.Scheme).not.toBe("internal");
    const state = JSON.parse(await lane.stack.stateText());
    expect(state.resources.find((r: any) => r.type === "aws_lb").instances[0].attributes).toMatchObject({
      internal: false,
      drop_invalid_header_fields: true,
    });
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: balancer.LoadBalancerArn }))).Listeners!;
    expect(listeners.map((l) => [l.Port, l.Protocol, l.SslPolicy, l.Certificates?.[0]?.CertificateArn])).toEqual([
      [443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06", certificateArn],
    ]);
    const [group] = (await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: balancer.LoadBalancerArn }))).TargetGroups!;
    expect(group).toMatchObject({ Port: 4200, Protocol: "HTTP", TargetType: "ip", HealthCheckPath: "/api/health" });
    const server = (
      await lane.aws.ecs.send(
        new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.prefect_server_service_name] }),
      )
    ).services![0];
    expect(server.loadBalancers).toEqual([{ targetGroupArn: group.TargetGroupArn, containerName: "prefect-server", containerPort: 4200 }]);
    const rules = (
      await lane.aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: balancer.SecurityGroups! }] }))
    ).SecurityGroupRules!;
    expect(rules.filter((r) => !r.IsEgress).map((r) => [r.FromPort, r.CidrIpv4])).toEqual([[443, "203.0.113.0/24"]]);
  });
});

describeReplanAndDestroy(lane);
