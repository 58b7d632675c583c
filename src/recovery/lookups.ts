/**
 * The AWS calls behind src/recovery/catalog.ts: for one resource the state does not hold, what AWS already has in
 * its place. Read-only calls only. AWS SDK clients load on first use, so a deploy with nothing to look up pays for
 * none of them. Everything AWS answers is data: ids go into Terraform import blocks as JSON strings, and into
 * messages through the caller's terminal-safe printing.
 */
import { ADDRESS_TAG, STACK_TAG } from "../naming";
import type { ConfiguredResource } from "./terraform-files";
import { referencedAddress } from "./terraform-files";

/** One thing AWS holds that may be the resource. */
export interface Candidate {
  /** What `terraform import` (an import block's `id`) takes for this type. */
  readonly id: string;
  /** Its tags, when it can carry them (undefined: it cannot, and its parent or name vouches for it). */
  readonly tags?: Readonly<Record<string, string>>;
  /** A state that stops adoption, said as a sentence ("is scheduled for deletion on 2026-12-14"). */
  readonly blocked?: string;
}

export interface LookupContext {
  readonly region: string;
  readonly stack: string;
  /** The id Terraform has, or will have once adopted, for an address ("" when neither). */
  readonly idOf: (address: string) => string | undefined;
  /** An attribute the state holds for an address (e.g. a cluster's name). */
  readonly configOf: (address: string) => ConfiguredResource | undefined;
  /** EC2 resources carrying this stack's tag: address tag → ids (one DescribeTags pass, shared). */
  readonly ec2Tagged: () => Promise<Map<string, string[]>>;
}

type Lookup = (resource: ConfiguredResource, context: LookupContext) => Promise<Candidate[]>;

const tagMap = (tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ""]));

const text = (value: unknown): string | undefined => (typeof value === "string" && !value.includes("${") ? value : undefined);

/** A name the configuration states as a literal (a `${…}` value cannot be known before apply). */
function literal(resource: ConfiguredResource, key: string): string {
  const value = text(resource.config[key]);
  if (value === undefined) throw new Error(`${resource.address}: its ${key} is not a literal in the configuration, so it cannot be looked up`);
  return value;
}

/** Whether an AWS error means "no such thing" (names differ by service). */
const notFound = (error: unknown): boolean => {
  const name = (error as { name?: string; Code?: string }).name ?? "";
  return (
    /NotFound|NoSuchEntity|DoesNotExist|NonExistent|NoSuchBucket|^NotFound$/i.test(name) ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
};
async function orNone<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

/** EC2 resources of this stack, by address tag: DescribeTags with key and value filters (one paginated call). */
export async function describeEc2Tagged(region: string, stack: string): Promise<Map<string, string[]>> {
  const { EC2Client, paginateDescribeTags } = await import("@aws-sdk/client-ec2");
  const client = new EC2Client({ region });
  const pages = async (filters: { Name: string; Values: string[] }[]) => {
    const tags: { ResourceId?: string; Value?: string }[] = [];
    for await (const page of paginateDescribeTags({ client }, { Filters: filters })) tags.push(...(page.Tags ?? []));
    return tags;
  };
  const ours = new Set(
    (
      await pages([
        { Name: "key", Values: [STACK_TAG] },
        { Name: "value", Values: [stack] },
      ])
    ).map((t) => t.ResourceId),
  );
  const byAddress = new Map<string, string[]>();
  for (const { ResourceId, Value } of await pages([{ Name: "key", Values: [ADDRESS_TAG] }])) {
    if (!ResourceId || Value === undefined || !ours.has(ResourceId)) continue;
    byAddress.set(Value, [...(byAddress.get(Value) ?? []), ResourceId]);
  }
  // Only what exists is a candidate: deleted NAT gateways, terminated instances and deleted endpoints keep their
  // tags for a while in AWS, and moto 5.2.1 keeps the tags of every deleted resource (docs/operations.md).
  const live = await liveEc2(client, [...byAddress.values()].flat());
  for (const [address, ids] of byAddress)
    byAddress.set(
      address,
      ids.filter((id) => live.has(id)),
    );
  client.destroy();
  return byAddress;
}

type Ec2 = typeof import("@aws-sdk/client-ec2");
type Ec2Client = import("@aws-sdk/client-ec2").EC2Client;

/** For each id prefix, the ids of that kind that exist and are not on their way out, asked by id. */
const EXISTING: Record<string, (ec2: Ec2, client: Ec2Client, ids: string[]) => Promise<(string | undefined)[]>> = {
  "vpc-": async (ec2, c, ids) => ((await c.send(new ec2.DescribeVpcsCommand({ VpcIds: ids }))).Vpcs ?? []).map((v) => v.VpcId),
  "subnet-": async (ec2, c, ids) => ((await c.send(new ec2.DescribeSubnetsCommand({ SubnetIds: ids }))).Subnets ?? []).map((v) => v.SubnetId),
  "igw-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeInternetGatewaysCommand({ InternetGatewayIds: ids }))).InternetGateways ?? []).map((v) => v.InternetGatewayId),
  "eipalloc-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeAddressesCommand({ AllocationIds: ids }))).Addresses ?? []).map((v) => v.AllocationId),
  "rtb-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeRouteTablesCommand({ RouteTableIds: ids }))).RouteTables ?? []).map((v) => v.RouteTableId),
  "sg-": async (ec2, c, ids) => ((await c.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: ids }))).SecurityGroups ?? []).map((v) => v.GroupId),
  "sgr-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ids }))).SecurityGroupRules ?? []).map(
      (v) => v.SecurityGroupRuleId,
    ),
  "fl-": async (ec2, c, ids) => ((await c.send(new ec2.DescribeFlowLogsCommand({ FlowLogIds: ids }))).FlowLogs ?? []).map((v) => v.FlowLogId),
  "eni-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }))).NetworkInterfaces ?? []).map((v) => v.NetworkInterfaceId),
  "lt-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ids }))).LaunchTemplates ?? []).map((v) => v.LaunchTemplateId),
  "nat-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeNatGatewaysCommand({ NatGatewayIds: ids }))).NatGateways ?? [])
      .filter((v) => !["deleted", "deleting", "failed"].includes(v.State ?? ""))
      .map((v) => v.NatGatewayId),
  "vpce-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeVpcEndpointsCommand({ VpcEndpointIds: ids }))).VpcEndpoints ?? [])
      .filter((v) => !/^(deleted|deleting|failed)/i.test(v.State ?? ""))
      .map((v) => v.VpcEndpointId),
  "i-": async (ec2, c, ids) =>
    ((await c.send(new ec2.DescribeInstancesCommand({ InstanceIds: ids }))).Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((v) => !["terminated", "shutting-down"].includes(v.State?.Name ?? ""))
      .map((v) => v.InstanceId),
};

/** The ids that exist: one call per kind, and one per id when a batch names one that is gone (a NotFound error). */
async function liveEc2(client: Ec2Client, ids: string[]): Promise<Set<string>> {
  const ec2 = await import("@aws-sdk/client-ec2");
  const live = new Set<string>();
  const byPrefix = new Map<string, string[]>();
  for (const id of ids) {
    const prefix = Object.keys(EXISTING).find((p) => id.startsWith(p));
    // A kind with no describe call here is kept: adopting it fails loudly at import, never silently.
    if (!prefix) live.add(id);
    else byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), id]);
  }
  for (const [prefix, batch] of byPrefix) {
    const describe = EXISTING[prefix];
    const found = await describe(ec2, client, batch).catch(async (error: unknown) => {
      if (!notFound(error)) throw error;
      return (await Promise.all(batch.map((id) => orNone(() => describe(ec2, client, [id]))))).flat();
    });
    for (const id of found) if (id && batch.includes(id)) live.add(id);
  }
  return live;
}

const byEc2Tag: Lookup = async (resource, context) =>
  ((await context.ec2Tagged()).get(resource.address) ?? []).map((id) => ({
    id,
    tags: { [STACK_TAG]: context.stack, [ADDRESS_TAG]: resource.address },
  }));

/** The id of the resource a `${type.name.attr}` argument refers to, from the state or this run's adoptions. */
function parentId(resource: ConfiguredResource, key: string, context: LookupContext): string | undefined {
  const reference = referencedAddress(resource.config[key]);
  return reference ? context.idOf(reference.address) : text(resource.config[key]);
}

/** A load balancer or target group by name (names are unique per region and account), with its tags. */
async function elbByName(resource: ConfiguredResource, context: LookupContext, kind: "load balancer" | "target group"): Promise<Candidate[]> {
  const elb = await import("@aws-sdk/client-elastic-load-balancing-v2");
  const client = new elb.ElasticLoadBalancingV2Client({ region: context.region });
  const Names = [literal(resource, "name")];
  const arn =
    kind === "load balancer"
      ? (await orNone(() => client.send(new elb.DescribeLoadBalancersCommand({ Names }))))?.LoadBalancers?.[0]?.LoadBalancerArn
      : (await orNone(() => client.send(new elb.DescribeTargetGroupsCommand({ Names }))))?.TargetGroups?.[0]?.TargetGroupArn;
  const tags = arn ? (await client.send(new elb.DescribeTagsCommand({ ResourceArns: [arn] }))).TagDescriptions?.[0]?.Tags : undefined;
  client.destroy();
  return arn ? [{ id: arn, tags: tagMap(tags) }] : [];
}

const LOOKUPS: Readonly<Record<string, Lookup>> = {
  aws_vpc: byEc2Tag,
  aws_subnet: byEc2Tag,
  aws_internet_gateway: byEc2Tag,
  aws_eip: byEc2Tag,
  aws_nat_gateway: byEc2Tag,
  aws_route_table: byEc2Tag,
  aws_security_group: byEc2Tag,
  aws_vpc_security_group_ingress_rule: byEc2Tag,
  aws_vpc_security_group_egress_rule: byEc2Tag,
  aws_vpc_endpoint: byEc2Tag,
  aws_flow_log: byEc2Tag,
  aws_network_interface: byEc2Tag,
  aws_launch_template: byEc2Tag,

  async aws_route(resource, context) {
    const table = parentId(resource, "route_table_id", context);
    const destination = text(resource.config.destination_cidr_block);
    if (!table || !destination) return [];
    const { EC2Client, DescribeRouteTablesCommand } = await import("@aws-sdk/client-ec2");
    const client = new EC2Client({ region: context.region });
    const answer = await orNone(() => client.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] })));
    client.destroy();
    const routes = answer?.RouteTables?.[0]?.Routes ?? [];
    return routes.some((route) => route.DestinationCidrBlock === destination) ? [{ id: `${table}_${destination}` }] : [];
  },

  async aws_route_table_association(resource, context) {
    const table = parentId(resource, "route_table_id", context);
    const subnet = parentId(resource, "subnet_id", context);
    if (!table || !subnet) return [];
    const { EC2Client, DescribeRouteTablesCommand } = await import("@aws-sdk/client-ec2");
    const client = new EC2Client({ region: context.region });
    const answer = await orNone(() => client.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] })));
    client.destroy();
    const associations = answer?.RouteTables?.[0]?.Associations ?? [];
    return associations.some((association) => association.SubnetId === subnet) ? [{ id: `${subnet}/${table}` }] : [];
  },

  async aws_iam_role(resource, context) {
    const { IAMClient, GetRoleCommand } = await import("@aws-sdk/client-iam");
    const client = new IAMClient({ region: context.region });
    const answer = await orNone(() => client.send(new GetRoleCommand({ RoleName: literal(resource, "name") })));
    client.destroy();
    return answer?.Role ? [{ id: answer.Role.RoleName!, tags: tagMap(answer.Role.Tags) }] : [];
  },

  async aws_iam_instance_profile(resource, context) {
    const { IAMClient, GetInstanceProfileCommand } = await import("@aws-sdk/client-iam");
    const client = new IAMClient({ region: context.region });
    const answer = await orNone(() => client.send(new GetInstanceProfileCommand({ InstanceProfileName: literal(resource, "name") })));
    client.destroy();
    return answer?.InstanceProfile ? [{ id: answer.InstanceProfile.InstanceProfileName!, tags: tagMap(answer.InstanceProfile.Tags) }] : [];
  },

  async aws_cloudwatch_log_group(resource, context) {
    const logs = await import("@aws-sdk/client-cloudwatch-logs");
    const client = new logs.CloudWatchLogsClient({ region: context.region });
    const name = literal(resource, "name");
    const answer = await client.send(new logs.DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    const group = answer.logGroups?.find((g) => g.logGroupName === name);
    // The tagging call takes the ARN without the trailing `:*` that DescribeLogGroups' `arn` carries.
    const arn = group?.logGroupArn ?? group?.arn?.replace(/:\*$/, "");
    const tags = group && arn ? ((await client.send(new logs.ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? {}) : undefined;
    client.destroy();
    return group ? [{ id: name, tags }] : [];
  },

  async aws_secretsmanager_secret(resource, context) {
    const sm = await import("@aws-sdk/client-secrets-manager");
    const client = new sm.SecretsManagerClient({ region: context.region });
    const answer = await orNone(() => client.send(new sm.DescribeSecretCommand({ SecretId: literal(resource, "name") })));
    client.destroy();
    if (!answer?.ARN) return [];
    const blocked = answer.DeletedDate
      ? `is scheduled for deletion (${answer.DeletedDate.toISOString().slice(0, 10)}); restore it with \`aws secretsmanager restore-secret --secret-id ${answer.ARN}\`, then deploy again`
      : undefined;
    return [{ id: answer.ARN, tags: tagMap(answer.Tags), blocked }];
  },

  async aws_ecr_repository(resource, context) {
    const ecr = await import("@aws-sdk/client-ecr");
    const client = new ecr.ECRClient({ region: context.region });
    const answer = await orNone(() => client.send(new ecr.DescribeRepositoriesCommand({ repositoryNames: [literal(resource, "name")] })));
    const repository = answer?.repositories?.[0];
    const tags = repository ? (await client.send(new ecr.ListTagsForResourceCommand({ resourceArn: repository.repositoryArn }))).tags : undefined;
    client.destroy();
    return repository ? [{ id: repository.repositoryName!, tags: tagMap(tags) }] : [];
  },

  async aws_ecs_cluster(resource, context) {
    const ecs = await import("@aws-sdk/client-ecs");
    const client = new ecs.ECSClient({ region: context.region });
    const answer = await client.send(new ecs.DescribeClustersCommand({ clusters: [literal(resource, "name")], include: ["TAGS"] }));
    client.destroy();
    const cluster = answer.clusters?.find((c) => c.status === "ACTIVE" || c.status === "PROVISIONING");
    return cluster ? [{ id: cluster.clusterName!, tags: tagMap(cluster.tags?.map((t) => ({ Key: t.key, Value: t.value }))) }] : [];
  },

  async aws_ecs_service(resource, context) {
    const reference = referencedAddress(resource.config.cluster);
    const cluster = reference ? context.configOf(reference.address)?.config.name : resource.config.cluster;
    if (typeof cluster !== "string" || cluster.includes("${")) return [];
    const ecs = await import("@aws-sdk/client-ecs");
    const client = new ecs.ECSClient({ region: context.region });
    const answer = await orNone(() =>
      client.send(new ecs.DescribeServicesCommand({ cluster, services: [literal(resource, "name")], include: ["TAGS"] })),
    );
    client.destroy();
    const service = answer?.services?.find((s) => s.status === "ACTIVE");
    return service ? [{ id: `${cluster}/${service.serviceName}`, tags: tagMap(service.tags?.map((t) => ({ Key: t.key, Value: t.value }))) }] : [];
  },

  async aws_ecs_task_definition(resource, context) {
    const ecs = await import("@aws-sdk/client-ecs");
    const client = new ecs.ECSClient({ region: context.region });
    const family = literal(resource, "family");
    const arns = (await client.send(new ecs.ListTaskDefinitionsCommand({ familyPrefix: family, status: "ACTIVE" }))).taskDefinitionArns ?? [];
    const candidates: Candidate[] = [];
    for (const arn of arns) {
      const answer = await client.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ["TAGS"] }));
      // familyPrefix matches prefixes: keep this family's revisions only.
      if (answer.taskDefinition?.family !== family) continue;
      candidates.push({ id: arn, tags: tagMap(answer.tags?.map((t) => ({ Key: t.key, Value: t.value }))) });
    }
    client.destroy();
    // Revisions the state knows are not leftovers; of the rest, the newest is the one a killed apply registered.
    return candidates.slice(-1);
  },

  async aws_sqs_queue(resource, context) {
    const sqs = await import("@aws-sdk/client-sqs");
    const client = new sqs.SQSClient({ region: context.region });
    const url = (await orNone(() => client.send(new sqs.GetQueueUrlCommand({ QueueName: literal(resource, "name") }))))?.QueueUrl;
    const tags = url ? (await client.send(new sqs.ListQueueTagsCommand({ QueueUrl: url }))).Tags : undefined;
    client.destroy();
    return url ? [{ id: url, tags: tags ?? {} }] : [];
  },

  async aws_cloudwatch_event_rule(resource, context) {
    const events = await import("@aws-sdk/client-eventbridge");
    const client = new events.EventBridgeClient({ region: context.region });
    const rule = await orNone(() => client.send(new events.DescribeRuleCommand({ Name: literal(resource, "name") })));
    const tags = rule?.Arn ? (await client.send(new events.ListTagsForResourceCommand({ ResourceARN: rule.Arn }))).Tags : undefined;
    client.destroy();
    return rule?.Arn ? [{ id: rule.Name!, tags: tagMap(tags) }] : [];
  },

  async aws_db_instance(resource, context) {
    const rds = await import("@aws-sdk/client-rds");
    const client = new rds.RDSClient({ region: context.region });
    const answer = await orNone(() => client.send(new rds.DescribeDBInstancesCommand({ DBInstanceIdentifier: literal(resource, "identifier") })));
    client.destroy();
    const db = answer?.DBInstances?.[0];
    return db ? [{ id: db.DBInstanceIdentifier!, tags: tagMap(db.TagList) }] : [];
  },

  async aws_db_subnet_group(resource, context) {
    const rds = await import("@aws-sdk/client-rds");
    const client = new rds.RDSClient({ region: context.region });
    const answer = await orNone(() => client.send(new rds.DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: literal(resource, "name") })));
    const group = answer?.DBSubnetGroups?.[0];
    const tags = group?.DBSubnetGroupArn
      ? (await client.send(new rds.ListTagsForResourceCommand({ ResourceName: group.DBSubnetGroupArn }))).TagList
      : undefined;
    client.destroy();
    return group ? [{ id: group.DBSubnetGroupName!, tags: tagMap(tags) }] : [];
  },

  aws_lb: (resource, context) => elbByName(resource, context, "load balancer"),
  aws_lb_target_group: (resource, context) => elbByName(resource, context, "target group"),

  async aws_s3_bucket(resource, context) {
    const s3 = await import("@aws-sdk/client-s3");
    const client = new s3.S3Client({ region: context.region });
    const bucket = literal(resource, "bucket");
    const exists = await orNone(() => client.send(new s3.HeadBucketCommand({ Bucket: bucket })));
    let tags: Record<string, string> | undefined;
    if (exists) {
      try {
        tags = tagMap((await client.send(new s3.GetBucketTaggingCommand({ Bucket: bucket }))).TagSet);
      } catch (error) {
        // A bucket with no tags answers NoSuchTagSet; one that is not ours may answer AccessDenied: either is "not tagged as ours".
        if (!/NoSuchTagSet|AccessDenied/.test((error as Error).name)) throw error;
        tags = {};
      }
    }
    client.destroy();
    return exists ? [{ id: bucket, tags }] : [];
  },

  async aws_dynamodb_table(resource, context) {
    const dynamodb = await import("@aws-sdk/client-dynamodb");
    const client = new dynamodb.DynamoDBClient({ region: context.region });
    const answer = await orNone(() => client.send(new dynamodb.DescribeTableCommand({ TableName: literal(resource, "name") })));
    const arn = answer?.Table?.TableArn;
    const tags = arn ? (await client.send(new dynamodb.ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags : undefined;
    client.destroy();
    return arn ? [{ id: answer!.Table!.TableName!, tags: tagMap(tags) }] : [];
  },
};

/** The lookup for a type, when recovery has one (src/recovery/catalog.ts says which ways have none). */
export const lookupFor = (type: string): Lookup | undefined => (Object.hasOwn(LOOKUPS, type) ? LOOKUPS[type] : undefined);
export const LOOKUP_TYPES: readonly string[] = Object.keys(LOOKUPS);
/** Whether a type is found by the EC2 address-tag scan (which also finds its duplicates). */
export const foundByEc2Tags = (type: string): boolean => lookupFor(type) === byEc2Tag;
