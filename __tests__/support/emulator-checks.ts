import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeRuleCommand, ListRulesCommand, ListTargetsByRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from "@aws-sdk/client-iam";
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { type BaseJobTemplate, templateProblems } from "../../src/work-pool/template";
import { explainedDifferences, unexplainedDifferences } from "./emulator-allowlist";
import { EMULATOR_CREDENTIALS } from "./emulator";
import { inventory } from "./emulator-aws";
import { DEPLOY_TIMEOUT, type EmulatorLane, leftBehind, STEP_TIMEOUT } from "./emulator-lane";
import { OVERRIDE_FILE, STACK_FILE } from "./emulator-stack";
import { CANARY_API_KEY, expectNoCanary, PLAN_TIME_ENV } from "./synth";
import { PREFECT_SERVER_PORT } from "../../src/naming";

/** The AWS managed policy both execution roles carry. */
export const EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/** The setting prefect-aws's ECS observer reads its queue name from (a prefect-aws contract). */
export const OBSERVER_QUEUE_ENV = "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME";
export const NFS_PORT = 2049;

/** IAM returns policy documents URL-encoded. */
const policyJson = (text: string | undefined): any => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(decodeURIComponent(text));
  }
};
const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export interface RoleFacts {
  readonly name: string;
  readonly arn: string;
  /** Service principals the role trusts. */
  readonly trustedBy: string[];
  readonly attached: string[];
  /** Inline policy documents by name. */
  readonly inline: Record<string, any>;
}

/** What the emulator holds for one applied stack, read with the AWS SDK (never from Terraform). */
export interface StackFacts {
  readonly cluster: any;
  readonly service: any;
  readonly taskDefinition: any;
  readonly container: any;
  readonly vpc: any;
  readonly subnets: any[];
  readonly routeTables: any[];
  readonly natGateways: any[];
  readonly addresses: any[];
  readonly networkInterfaces: any[];
  /** Running instances named as the stack's NAT instance. */
  readonly natInstances: any[];
  readonly securityGroups: any[];
  readonly rules: SecurityGroupRule[];
  /** Roles the stack created, by ARN. */
  readonly roles: Map<string, RoleFacts>;
  /** Log groups the stack created. */
  readonly logGroups: any[];
  readonly template: BaseJobTemplate;
  /** The credential's secret as Secrets Manager lists it (the stack's, or the operator's). */
  readonly secrets: any[];
}

export async function stackFacts(lane: EmulatorLane): Promise<StackFacts> {
  const { ec2, ecs, iam, logs, secrets } = lane.aws;
  const cluster = (await ecs.send(new DescribeClustersCommand({ clusters: [lane.outputs.cluster_name] }))).clusters![0];
  const service = (await ecs.send(new DescribeServicesCommand({ cluster: cluster.clusterArn, services: [lane.outputs.worker_service_name] })))
    .services![0];
  const taskDefinition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition!;
  const vpcId = lane.outputs.vpc_id as string;
  const inVpc = [{ Name: "vpc-id", Values: [vpcId] }];
  const [vpcs, subnets, routeTables, natGateways, addresses, networkInterfaces, securityGroups, natInstances] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })).then((r) => r.Vpcs ?? []),
    ec2.send(new DescribeSubnetsCommand({ Filters: inVpc })).then((r) => r.Subnets ?? []),
    ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc })).then((r) => r.RouteTables ?? []),
    ec2.send(new DescribeNatGatewaysCommand({ Filter: inVpc })).then((r) => (r.NatGateways ?? []).filter((g) => g.State !== "deleted")),
    ec2.send(new DescribeAddressesCommand({})).then((r) => r.Addresses ?? []),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters: inVpc })).then((r) => r.NetworkInterfaces ?? []),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: inVpc })).then((r) => r.SecurityGroups ?? []),
    ec2
      .send(new DescribeInstancesCommand({ Filters: [...inVpc, { Name: "tag:Name", Values: [`${lane.settings.name_prefix}-nat`] }] }))
      .then((r) => (r.Reservations ?? []).flatMap((res) => res.Instances ?? []).filter((i) => i.State?.Name !== "terminated")),
  ]);
  const rules = securityGroups.length
    ? ((await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: securityGroups.map((g) => g.GroupId!) }] })))
        .SecurityGroupRules ?? [])
    : [];

  const roleNames = ((await iam.send(new ListRolesCommand({}))).Roles ?? [])
    .map((r) => r.RoleName!)
    .filter((name) => !(lane.baseline["iam roles"] ?? []).includes(name));
  const roles = new Map<string, RoleFacts>();
  for (const name of roleNames) {
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    const trust = policyJson(role.AssumeRolePolicyDocument);
    const attached = ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [])
      .map((p) => p.PolicyArn!)
      .sort();
    const inline: Record<string, any> = {};
    for (const policyName of (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []) {
      inline[policyName] = policyJson((await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }))).PolicyDocument);
    }
    const trustedBy = (trust.Statement as any[]).filter((s) => s.Effect === "Allow").flatMap((s) => asList(s.Principal?.Service));
    roles.set(role.Arn!, { name, arn: role.Arn!, trustedBy, attached, inline });
  }
  const logGroups = ((await logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).filter(
    (g) => !(lane.baseline["logs log groups"] ?? []).includes(g.logGroupName!),
  );
  const secretList = (await secrets.send(new ListSecretsCommand({}))).SecretList ?? [];
  return {
    cluster,
    service,
    taskDefinition,
    container: taskDefinition.containerDefinitions![0],
    vpc: vpcs[0],
    subnets,
    routeTables,
    natGateways,
    addresses,
    networkInterfaces,
    natInstances,
    securityGroups,
    rules,
    roles,
    logGroups,
    template: JSON.parse(lane.outputs.base_job_template),
    secrets: secretList,
  };
}

/** The template's default for one variable. */
export const templateDefault = (template: BaseJobTemplate, name: string): any => template.variables.properties[name]?.default;

/** Where the stack says the credential comes from, as ECS `valueFrom`, and under which variable. */
export function expectedCredential(lane: EmulatorLane, facts: StackFacts): { envName: string; valueFrom: string; secretArn: string } | undefined {
  const s = lane.settings;
  const selfHosted = s.prefect_api_url !== undefined || s.prefect_server;
  if (selfHosted && s.self_hosted_auth !== "auth_string") return undefined;
  const envName = selfHosted ? "PREFECT_API_AUTH_STRING" : "PREFECT_API_KEY";
  if (s.existing_api_key_secret_arn) {
    const [secretArn, jsonKey] = [s.existing_api_key_secret_arn.split(":").slice(0, 7).join(":"), s.existing_api_key_secret_arn.split(":")[7]];
    return { envName, secretArn, valueFrom: jsonKey ? `${secretArn}:${jsonKey}::` : secretArn };
  }
  // The in-stack server's database password has a secret of its own, which no worker or flow run reads.
  const created = facts.secrets.filter(
    (secret) => !(lane.baseline["secretsmanager secrets"] ?? []).includes(secret.Name) && secret.Name !== databasePasswordSecretName(lane),
  );
  if (created.length !== 1) throw new Error(`expected the stack to create one secret, found ${created.map((c) => c.Name).join(", ") || "none"}`);
  return { envName, secretArn: created[0].ARN, valueFrom: created[0].ARN };
}

/** The in-stack server's database password secret (prefect_server), named by the stack. */
export const databasePasswordSecretName = (lane: EmulatorLane) => `${lane.settings.name_prefix}/prefect-db-password`;

/** Egress ports the stack promises its task security groups (443, plus a self-hosted API's port). */
export function promisedEgressPorts(lane: EmulatorLane): number[] {
  const url = lane.settings.prefect_api_url;
  if (!url) return [443];
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === "http:" ? 80 : 443;
  return [...new Set([443, port])].sort((a, b) => a - b);
}

const expectedNatCount = (lane: EmulatorLane) =>
  lane.settings.existing_vpc_id || lane.settings.internet_egress !== "nat_gateway"
    ? 0
    : lane.settings.nat_gateway_mode === "per_az"
      ? (lane.settings.availability_zones?.length ?? lane.settings.az_count)
      : 1;

const ruleSummary = (rule: SecurityGroupRule) =>
  `${rule.IsEgress ? "egress" : "ingress"} ${rule.IpProtocol} ${rule.FromPort}-${rule.ToPort} ${rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.ReferencedGroupInfo?.GroupId ?? rule.PrefixListId}`;

/**
 * The promises the docs make about any applied stack, checked against what the emulator holds. Each
 * variant's test file calls this after its lane is deployed.
 */
export function describeAppliedStack(lane: EmulatorLane, options: { observer?: boolean } = {}): void {
  let factsPromise: Promise<StackFacts> | undefined;
  const facts = () => (factsPromise ??= stackFacts(lane));

  describe("applied against the emulator", () => {
    it("GIVEN the stack's own file THEN it holds no test setting: credentials, endpoints and skip flags live only in the override", () => {
      const applied = lane.stack.readFile(STACK_FILE);
      expect(JSON.parse(applied).provider.aws).toEqual(lane.json.provider.aws);
      for (const testSetting of [lane.emulator.endpoint, EMULATOR_CREDENTIALS.accessKeyId, "skip_credentials_validation"]) {
        expect(applied).not.toContain(testSetting);
        expect(lane.stack.readFile(OVERRIDE_FILE)).toContain(testSetting);
      }
    });

    // Settings are known only once the lane has deployed, so the mode is read inside the test.
    it("GIVEN the applied stack THEN no subnet hands out public IPs, and public addresses are only where the egress mode puts them (NAT gateways, the NAT instance, or the tasks in public subnets)", async () => {
      const f = await facts();
      const egress = lane.settings.existing_vpc_id ? "existing_vpc" : lane.settings.internet_egress;
      expect(f.subnets.length).toBeGreaterThan(0);
      expect(f.subnets.filter((s) => s.MapPublicIpOnLaunch).map((s) => s.SubnetId)).toEqual([]);
      const assigned = egress === "public_subnets" ? "ENABLED" : "DISABLED";
      expect(f.service.networkConfiguration.awsvpcConfiguration.assignPublicIp).toBe(assigned);
      expect(templateDefault(f.template, "network_configuration").assignPublicIp).toBe(assigned);
      expect(f.natGateways).toHaveLength(expectedNatCount(lane));
      const natInterfaces = f.natGateways.flatMap((g) => g.NatGatewayAddresses.map((a: any) => a.NetworkInterfaceId));
      const publicInterfaces = f.networkInterfaces.filter((n) => n.Association?.PublicIp).map((n) => n.NetworkInterfaceId);
      const stackAddresses = f.addresses.filter((a) => !(lane.baseline["ec2 Elastic IPs"] ?? []).includes(`${a.AllocationId} ${a.PublicIp}`));
      if (egress === "nat_instance") {
        // Only the NAT instance's primary interface may hold an address: on AWS its launch address, until its boot
        // script moves the Elastic IP there. moto gives it none (EMULATOR_OBSERVATIONS) and runs no user data, so the
        // Elastic IP stays unassociated.
        const launched = f.natInstances.flatMap((i) =>
          i.NetworkInterfaces.filter((n: any) => n.Attachment?.DeviceIndex === 0).map((n: any) => n.NetworkInterfaceId),
        );
        expect(launched).toHaveLength(1);
        expect(publicInterfaces.filter((id) => !launched.includes(id))).toEqual([]);
        expect(stackAddresses).toHaveLength(1);
        expect(stackAddresses[0].AssociationId ?? "").toBe("");
      } else {
        expect(publicInterfaces.sort()).toEqual([...natInterfaces].sort());
        expect(stackAddresses.map((a) => a.NetworkInterfaceId).sort()).toEqual([...natInterfaces].sort());
      }
    });

    it("GIVEN the worker and flow-run security groups THEN they have no inbound rule and reach out only on the promised TCP ports", async () => {
      const f = await facts();
      const workerGroups: string[] = f.service.networkConfiguration.awsvpcConfiguration.securityGroups;
      const flowRunGroups: string[] = templateDefault(f.template, "network_configuration").securityGroups;
      expect(workerGroups).toHaveLength(1);
      expect(flowRunGroups).toHaveLength(1);
      expect(flowRunGroups[0]).not.toBe(workerGroups[0]);
      const ports = promisedEgressPorts(lane);
      const rulesOf = (groupId: string) =>
        f.rules
          .filter((r) => r.GroupId === groupId)
          .map(ruleSummary)
          .sort();
      // An in-stack server is reached through a rule naming its security group, and nothing else on its port.
      const serverGroup = lane.settings.prefect_server
        ? f.securityGroups.find((g) => g.GroupName === `${lane.settings.name_prefix}-prefect-server`)?.GroupId
        : undefined;
      if (lane.settings.prefect_server) expect(serverGroup).toBeDefined();
      const toServer = serverGroup ? [`egress tcp ${PREFECT_SERVER_PORT}-${PREFECT_SERVER_PORT} ${serverGroup}`] : [];
      expect(rulesOf(workerGroups[0])).toEqual([...ports.map((p) => `egress tcp ${p}-${p} 0.0.0.0/0`), ...toServer].sort());
      const efsGroup = lane.settings.flow_run_efs
        ? f.securityGroups.find((g) => g.IpPermissions?.some((p: any) => p.FromPort === NFS_PORT))?.GroupId
        : undefined;
      expect(rulesOf(flowRunGroups[0])).toEqual(
        [
          ...ports.map((p) => `egress tcp ${p}-${p} 0.0.0.0/0`),
          ...toServer,
          ...(efsGroup ? [`egress tcp ${NFS_PORT}-${NFS_PORT} ${efsGroup}`] : []),
        ].sort(),
      );
    });

    it("GIVEN every security group in the VPC THEN none admits traffic from anywhere, and the stack's VPC's default group has no rules", async () => {
      const f = await facts();
      const open = f.rules.filter((r) => !r.IsEgress && (r.CidrIpv4 === "0.0.0.0/0" || r.CidrIpv6 === "::/0")).map(ruleSummary);
      expect(open).toEqual([]);
      if (!lane.settings.existing_vpc_id) {
        const defaultGroup = f.securityGroups.find((g) => g.GroupName === "default");
        expect(f.rules.filter((r) => r.GroupId === defaultGroup.GroupId).map(ruleSummary)).toEqual([]);
      }
    });

    it("GIVEN the worker's task definition THEN the credential arrives only through secrets[].valueFrom of the stack's secret, and no environment holds it", async () => {
      const f = await facts();
      const credential = expectedCredential(lane, f);
      if (!credential) {
        // A server without auth: no credential anywhere in the worker's definition.
        expect(f.container.secrets ?? []).toEqual([]);
        expect(JSON.stringify(f.taskDefinition)).not.toMatch(/PREFECT_API_KEY|PREFECT_API_AUTH_STRING/);
        return;
      }
      expect(f.container.secrets).toEqual([{ name: credential.envName, valueFrom: credential.valueFrom }]);
      const environment: { name: string; value: string }[] = f.container.environment ?? [];
      expect(environment.map((e) => e.name)).not.toContain(credential.envName);
      expectNoCanary(JSON.stringify(f.taskDefinition), "the worker's task definition");
      const templateKey = credential.envName === "PREFECT_API_KEY" ? "prefect_api_key_secret_arn" : "prefect_api_auth_string_secret_arn";
      expect(templateDefault(f.template, templateKey)).toBe(credential.valueFrom);
    });

    it("GIVEN the stack's secrets THEN each holds the value Terraform was given (the credential; the server's database password), and none is in Terraform's state", async () => {
      const f = await facts();
      const state = await lane.stack.stateText();
      expect(JSON.parse(state).resources.length).toBeGreaterThan(0);
      expectNoCanary(state, "Terraform's state");
      if (lane.settings.prefect_server) {
        const password = (await lane.aws.secrets.send(new GetSecretValueCommand({ SecretId: databasePasswordSecretName(lane) }))).SecretString;
        expect(password).toBe(PLAN_TIME_ENV.TF_VAR_prefect_server_db_password);
      }
      const credential = expectedCredential(lane, f);
      if (!credential) return;
      const value = (await lane.aws.secrets.send(new GetSecretValueCommand({ SecretId: credential.secretArn }))).SecretString!;
      const given = credential.envName === "PREFECT_API_KEY" ? PLAN_TIME_ENV.TF_VAR_prefect_api_key : PLAN_TIME_ENV.TF_VAR_prefect_api_auth_string;
      if (lane.settings.existing_api_key_secret_arn) expect(JSON.parse(value)).toEqual({ api_key: CANARY_API_KEY });
      else expect(value).toBe(given);
    });

    it("GIVEN the four task roles THEN each is trusted by ECS tasks only and carries exactly its own policies", async () => {
      const f = await facts();
      const credential = expectedCredential(lane, f);
      const byArn = (arn: string) => {
        const role = f.roles.get(arn);
        if (!role) throw new Error(`${arn} is not a role the stack created`);
        return role;
      };
      const workerExecution = byArn(f.taskDefinition.executionRoleArn);
      const workerTask = byArn(f.taskDefinition.taskRoleArn);
      const flowRunExecution = byArn(templateDefault(f.template, "execution_role_arn"));
      const flowRunTask = byArn(templateDefault(f.template, "task_role_arn"));
      const four = [workerExecution, workerTask, flowRunExecution, flowRunTask];
      expect(new Set(four.map((r) => r.arn)).size).toBe(4);
      for (const role of four) expect(role.trustedBy, role.name).toEqual(["ecs-tasks.amazonaws.com"]);

      expect(workerExecution.attached).toEqual([EXECUTION_POLICY_ARN]);
      expect(flowRunExecution.attached).toEqual([EXECUTION_POLICY_ARN]);
      expect(workerTask.attached).toEqual([]);
      expect(flowRunTask.attached).toEqual([...(lane.settings.flow_run_policy_arns ?? [])].sort());

      const statements = (role: RoleFacts) => Object.values(role.inline).flatMap((doc) => doc.Statement);
      const allowing = (role: RoleFacts, action: string) => statements(role).filter((s) => asList(s.Action).includes(action));
      if (credential) {
        for (const role of [workerExecution, flowRunExecution]) {
          expect(
            allowing(role, "secretsmanager:GetSecretValue").flatMap((s) => asList(s.Resource)),
            role.name,
          ).toEqual([credential.secretArn]);
        }
      }
      expect(allowing(workerTask, "secretsmanager:GetSecretValue")).toEqual([]);
      expect(allowing(flowRunTask, "secretsmanager:GetSecretValue")).toEqual([]);
      const passRole = allowing(workerTask, "iam:PassRole");
      expect(passRole.flatMap((s) => asList(s.Resource)).sort()).toEqual([flowRunExecution.arn, flowRunTask.arn].sort());
      expect(passRole.every((s) => s.Condition?.StringEquals?.["iam:PassedToService"] === "ecs-tasks.amazonaws.com")).toBe(true);
      const runTask = allowing(workerTask, "ecs:RunTask");
      expect(runTask.length).toBeGreaterThan(0);
      expect(JSON.stringify(runTask)).toContain(f.cluster.clusterArn);
      // Inline policy names per role, as the stack declares them.
      const declared = Object.values(lane.json.resource.aws_iam_role_policy ?? {}).map((p: any) => p.name);
      const applied = [...f.roles.values()].flatMap((r) => Object.keys(r.inline));
      expect(applied.sort()).toEqual(declared.sort());
    });

    it("GIVEN every log group the stack created THEN it keeps logs for log_retention_days, and the worker logs to its own group", async () => {
      const f = await facts();
      const names = f.logGroups.map((g) => g.logGroupName).sort();
      expect(names).toEqual(expect.arrayContaining([lane.outputs.worker_log_group, lane.outputs.flow_run_log_group]));
      expect(f.logGroups.filter((g) => g.retentionInDays !== lane.settings.log_retention_days).map((g) => g.logGroupName)).toEqual([]);
      expect(f.container.logConfiguration.options["awslogs-group"]).toBe(lane.outputs.worker_log_group);
    });

    it("GIVEN the base_job_template output THEN Prefect would accept it, and it names exactly the created cluster, subnets, security group, roles and log group", async () => {
      const f = await facts();
      expect(templateProblems(f.template)).toEqual([]);
      expect(lane.outputs.base_job_template).not.toContain("${");
      expect(templateDefault(f.template, "cluster")).toBe(f.cluster.clusterArn);
      expect(templateDefault(f.template, "vpc_id")).toBe(f.vpc.VpcId);
      const network = templateDefault(f.template, "network_configuration");
      const workerSubnets: string[] = f.service.networkConfiguration.awsvpcConfiguration.subnets;
      expect([...network.subnets].sort()).toEqual([...workerSubnets].sort());
      expect(network.subnets.every((id: string) => f.subnets.some((s) => s.SubnetId === id))).toBe(true);
      if (!lane.settings.existing_vpc_id) {
        // Each subnet's route table sends the internet through the stack's NAT gateway, its NAT instance's static
        // interface, or (public subnets) the internet gateway.
        const natIds = new Set(f.natGateways.map((g) => g.NatGatewayId));
        const egress = lane.settings.internet_egress;
        const natInterface = lane.outputs.nat_instance_network_interface_id;
        for (const subnet of network.subnets) {
          const table = f.routeTables.find((t) => t.Associations?.some((a: any) => a.SubnetId === subnet));
          const route = table?.Routes?.find((r: any) => r.DestinationCidrBlock === "0.0.0.0/0");
          if (egress === "nat_instance") expect(route?.NetworkInterfaceId, subnet).toBe(natInterface);
          else if (egress === "public_subnets") expect(route?.GatewayId, subnet).toMatch(/^igw-/);
          else expect(natIds.has(route?.NatGatewayId), subnet).toBe(true);
        }
      }
      expect(network.securityGroups).toEqual([lane.outputs.flow_run_security_group_id]);
      expect(f.securityGroups.map((g) => g.GroupId)).toContain(lane.outputs.flow_run_security_group_id);
      const executionRole = f.roles.get(templateDefault(f.template, "execution_role_arn"));
      const taskRole = f.roles.get(templateDefault(f.template, "task_role_arn"));
      expect(executionRole?.attached).toContain(EXECUTION_POLICY_ARN);
      expect(taskRole?.attached).not.toContain(EXECUTION_POLICY_ARN);
      const logOptions = templateDefault(f.template, "cloudwatch_logs_options");
      expect(f.logGroups.map((g) => g.logGroupName)).toContain(logOptions["awslogs-group"]);
      expect(logOptions["awslogs-group"]).not.toBe(f.container.logConfiguration.options["awslogs-group"]);
    });

    if (options.observer ?? true) {
      it("GIVEN the ECS event observer THEN only this cluster's task events reach the worker's queue, which only that rule may fill", async () => {
        const f = await facts();
        const { sqs, events } = lane.aws;
        const queueName = lane.outputs.ecs_events_queue_name;
        const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
        const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }))).Attributes!;
        const queueArn = attributes.QueueArn;
        const rules = (await events.send(new ListRulesCommand({}))).Rules ?? [];
        const targets = await Promise.all(
          rules.map(async (r) => ({ rule: r, targets: (await events.send(new ListTargetsByRuleCommand({ Rule: r.Name! }))).Targets ?? [] })),
        );
        const feeding = targets.filter((t) => t.targets.some((target) => target.Arn === queueArn));
        expect(feeding).toHaveLength(1);
        const rule = (await events.send(new DescribeRuleCommand({ Name: feeding[0].rule.Name! })))!;
        expect(JSON.parse(rule.EventPattern!)).toEqual({
          source: ["aws.ecs"],
          "detail-type": ["ECS Task State Change"],
          detail: { clusterArn: [f.cluster.clusterArn] },
        });
        expect(attributes.SqsManagedSseEnabled).toBe("true");
        const redrive = JSON.parse(attributes.RedrivePolicy!);
        expect(redrive.maxReceiveCount).toBe(5);
        expect(redrive.deadLetterTargetArn).toMatch(/^arn:aws:sqs:/);
        expect(redrive.deadLetterTargetArn).not.toBe(queueArn);
        const policy = JSON.parse(attributes.Policy!);
        expect(policy.Statement).toEqual([
          expect.objectContaining({
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
            Condition: { ArnEquals: { "aws:SourceArn": rule.Arn } },
          }),
        ]);
        expect(f.container.environment).toContainEqual({ name: OBSERVER_QUEUE_ENV, value: queueName });
        const workerTask = f.roles.get(f.taskDefinition.taskRoleArn)!;
        const reads = Object.values(workerTask.inline)
          .flatMap((doc: any) => doc.Statement)
          .filter((s: any) => asList(s.Action).includes("sqs:ReceiveMessage"));
        expect(reads.flatMap((s: any) => asList(s.Resource))).toEqual([queueArn]);
      });
    }
  });
}

/** The second plan right after apply, compared with the allowlist of known emulator differences. */
export async function replanIsClean(lane: EmulatorLane): Promise<{ explained: string[] }> {
  const plan = await lane.stack.plan();
  expect(unexplainedDifferences(plan.json)).toEqual([]);
  const explained = explainedDifferences(plan.json);
  expect(plan.status).toBe(explained.length ? 2 : 0);
  return { explained };
}

/** Destroys the lane's stack and checks that nothing of it is left, in Terraform's state or in any service it used. */
export async function destroyLeavesNothing(lane: EmulatorLane): Promise<void> {
  const ownSecrets = ((await lane.aws.secrets.send(new ListSecretsCommand({}))).SecretList ?? []).filter(
    (secret) => !(lane.baseline["secretsmanager secrets"] ?? []).includes(secret.Name!),
  );
  const run = await lane.stack.destroy();
  expect(run.status, run.output.slice(-4000)).toBe(0);
  expect(await lane.stack.stateList()).toEqual([]);
  expect(leftBehind(lane, await inventory(lane.aws))).toEqual({});
  // A deleted secret waits out its recovery window (docs/settings.md: secret_recovery_window_days), or is gone at once with 0.
  const window = lane.settings.secret_recovery_window_days;
  for (const secret of ownSecrets) {
    const described = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secret.ARN })).catch((error) => error);
    if (window === 0) expect(described.name, secret.Name).toBe("ResourceNotFoundException");
    else expect(daysUntil(described.DeletedDate), secret.Name).toBeCloseTo(window, 1);
  }
}

/** Days from now until a date (DescribeSecret's DeletedDate is when a scheduled deletion happens). */
export const daysUntil = (date: Date | undefined) => (date ? (date.getTime() - Date.now()) / 86_400_000 : Number.NaN);

/** Re-plan, destroy, and the emulator's own health: the closing tests of every variant's lane. */
export function describeReplanAndDestroy(lane: EmulatorLane, options: { afterReplan?: () => void; afterDestroy?: () => void } = {}): void {
  describe("planned again, then destroyed", () => {
    it(
      "GIVEN the applied stack WHEN planned again THEN nothing changes except the allowlisted emulator differences",
      async () => {
        await replanIsClean(lane);
      },
      STEP_TIMEOUT,
    );

    options.afterReplan?.();

    it(
      "WHEN destroyed THEN Terraform's state is empty and nothing of the stack is left in any service it used",
      async () => {
        await destroyLeavesNothing(lane);
      },
      DEPLOY_TIMEOUT,
    );

    options.afterDestroy?.();

    it("GIVEN the whole lifecycle THEN the emulator was never asked for an operation it does not implement", () => {
      expect([...lane.emulator.notImplemented]).toEqual([]);
    });
  });
}
