import { FLOW_RUN_INSTANCES_SUFFIX } from "../naming";

/**
 * What a stack bills for, read from its resources: synthesized Terraform JSON and `terraform show -json` plans
 * alike reduce to a list of resources with their attribute values, and an inventory counts what is priced.
 */

/** A value from Terraform JSON (synthesized configuration or plan), which has no static type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform's JSON is untyped; each reader checks what it uses.
type TerraformValue = any;

export interface ResourceValues {
  readonly type: string;
  /** The resource's name in its configuration (`network_private_subnet_0`). */
  readonly name?: string;
  /** Attribute values (synthesized config, or a plan's `after`). */
  readonly values: Record<string, TerraformValue>;
  /** A plan's `after_unknown`, used only to learn list lengths that are not known yet. */
  readonly unknown?: Record<string, TerraformValue>;
  /** List lengths the configuration gives when the values are not known yet (a plan's configuration). */
  readonly configuredLengths?: Record<string, number>;
}

export interface WorkerTasks {
  /** The Prefect worker, or the in-stack Prefect server. */
  readonly role: "worker" | "server";
  readonly tasks: number;
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly architecture: "X86_64" | "ARM64";
  readonly spot: boolean;
}

export interface NatInstanceInventory {
  readonly instanceType: string;
  readonly volumeGb: number;
}

/** The flow runs' EC2 capacity (flow_run_capacity = "ec2"): its type, root volume, warm minimum and warm pool. */
export interface FlowRunInstancesInventory {
  readonly instanceType: string;
  readonly volumeGb: number;
  readonly minSize: number;
  readonly warmPoolSize: number;
}

export interface DatabaseInventory {
  readonly instanceClass: string;
  readonly storageGb: number;
  readonly multiAz: boolean;
}

export interface Inventory {
  readonly region?: string;
  /** RDS instances (the in-stack Prefect server's database). */
  readonly databases: DatabaseInventory[];
  /** Cloud Map private DNS namespaces: one Route 53 private hosted zone each. */
  readonly cloudMapNamespaces: number;
  /** Tasks registered in Cloud Map (services with service registries, times their tasks). */
  readonly cloudMapInstances: number;
  /** Application load balancers (the server's opt-in public listener). */
  readonly loadBalancers: number;
  readonly natGateways: number;
  /** NAT instances (launch templates of a group of one), with their size and root volume. */
  readonly natInstances: NatInstanceInventory[];
  /** The flow runs' EC2 capacity, when there is one. */
  readonly flowRunInstances: FlowRunInstancesInventory[];
  /** Private subnets (one per AZ) whose traffic leaves through a NAT gateway. */
  readonly privateSubnets: number;
  /** Elastic IPs. */
  readonly publicIpv4: number;
  /** Worker tasks with a public IP of their own (public_subnets egress). */
  readonly publicTaskIpv4: number;
  /** Interface endpoints times the subnets (AZs) each is placed in. */
  readonly interfaceEndpointAzs: number;
  readonly interfaceEndpoints: number;
  readonly secrets: number;
  readonly kmsKeys: number;
  readonly efsFileSystems: number;
  readonly ecrRepositories: number;
  readonly logGroups: number;
  /** VPC flow logs delivered to CloudWatch Logs. */
  readonly flowLogs: number;
  /** Clusters with Container Insights on, and the services in them. */
  readonly insightsClusters: number;
  /** CloudWatch alarms: declared ones and the two each target-tracking policy creates. */
  readonly alarms: number;
  readonly services: WorkerTasks[];
}

/**
 * A value read from a plan or a stack, as the estimate may print it: plans are untrusted input (a pull request
 * writes them), so anything but a plain identifier (an instance type, a class) is shown as "(unrecognised)".
 */
const identifier = (value: unknown): string =>
  typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value) ? value : "(unrecognised)";

/**
 * A count or size read from a plan or a stack: a finite number of zero or more (or its digits as text), the
 * default when the attribute is absent, and NaN otherwise, which estimate() shows as a line it could not price
 * rather than dropping it.
 */
const amount = (value: unknown, fallback: number): number => {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : NaN;
};

const listLength = (resource: ResourceValues, attribute: string): number => {
  const known = resource.values[attribute];
  if (Array.isArray(known)) return known.length;
  const unknown = resource.unknown?.[attribute];
  if (Array.isArray(unknown)) return unknown.length;
  return resource.configuredLengths?.[attribute] ?? 0;
};
const first = <T>(value: T | T[] | undefined): T | undefined => (Array.isArray(value) ? value[0] : value);

export function inventoryOf(resources: ResourceValues[], region?: string): Inventory {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const taskDefinitions = ofType("aws_ecs_task_definition");
  const services = ofType("aws_ecs_service").map((service, i): WorkerTasks => {
    // Each service's task definition shares its construct's name (server_service, server_task_definition).
    const taskDefinition =
      taskDefinitions.find((t) => service.name !== undefined && t.name === service.name.replace(/_service$/, "_task_definition")) ??
      taskDefinitions[i] ??
      taskDefinitions[0];
    const strategy = first(service.values.capacity_provider_strategy) as { capacity_provider?: string } | undefined;
    return {
      role: service.name?.startsWith("server") ? "server" : "worker",
      tasks: amount(service.values.desired_count, 1),
      vcpu: amount(taskDefinition?.values.cpu, 256) / 1024,
      memoryGb: amount(taskDefinition?.values.memory, 512) / 1024,
      architecture: identifier(first(taskDefinition?.values.runtime_platform)?.cpu_architecture ?? "X86_64") as WorkerTasks["architecture"],
      spot: strategy?.capacity_provider === "FARGATE_SPOT",
    };
  });
  const interfaceEndpoints = ofType("aws_vpc_endpoint").filter((e) => e.values.vpc_endpoint_type === "Interface");
  const insights = ofType("aws_ecs_cluster").filter((c) =>
    (Array.isArray(c.values.setting) ? c.values.setting : [c.values.setting]).some(
      (s: TerraformValue) => s?.name === "containerInsights" && ["enabled", "enhanced"].includes(s?.value),
    ),
  );
  const targetTracking = ofType("aws_appautoscaling_policy").filter((p) => p.values.policy_type === "TargetTrackingScaling");
  const publicServices = ofType("aws_ecs_service").filter((service) => first(service.values.network_configuration)?.assign_public_ip === true);
  const isFlowRuns = (resource: ResourceValues) => String(resource.values.name ?? "").endsWith(FLOW_RUN_INSTANCES_SUFFIX);
  const volumeOf = (template: ResourceValues) => amount(first(first(template.values.block_device_mappings)?.ebs)?.volume_size, 8);
  const natInstances = ofType("aws_launch_template")
    .filter((template) => !isFlowRuns(template))
    .map((template): NatInstanceInventory => ({ instanceType: identifier(template.values.instance_type), volumeGb: volumeOf(template) }));
  const flowRunGroup = ofType("aws_autoscaling_group").find(isFlowRuns);
  const flowRunInstances = ofType("aws_launch_template")
    .filter(isFlowRuns)
    .map((template): FlowRunInstancesInventory => ({
      instanceType: identifier(template.values.instance_type),
      volumeGb: volumeOf(template),
      minSize: amount(flowRunGroup?.values.min_size, 0),
      warmPoolSize: amount(first(flowRunGroup?.values.warm_pool)?.min_size, 0),
    }));
  const registered = ofType("aws_ecs_service").filter(
    (service) => listLength(service, "service_registries") > 0 || first(service.values.service_registries),
  );
  return {
    region,
    databases: ofType("aws_db_instance").map((db) => ({
      instanceClass: identifier(db.values.instance_class),
      storageGb: amount(db.values.allocated_storage, 20),
      multiAz: db.values.multi_az === true,
    })),
    cloudMapNamespaces: ofType("aws_service_discovery_private_dns_namespace").length,
    loadBalancers: ofType("aws_lb").length,
    cloudMapInstances: registered.reduce((sum, service) => sum + amount(service.values.desired_count, 1), 0),
    natGateways: ofType("aws_nat_gateway").length,
    natInstances,
    flowRunInstances,
    privateSubnets: ofType("aws_subnet").filter((s) => s.name?.includes("private")).length,
    publicIpv4: ofType("aws_eip").length,
    publicTaskIpv4: publicServices.reduce((sum, service) => sum + amount(service.values.desired_count, 1), 0),
    interfaceEndpoints: interfaceEndpoints.length,
    interfaceEndpointAzs: interfaceEndpoints.reduce((sum, e) => sum + listLength(e, "subnet_ids"), 0),
    secrets: ofType("aws_secretsmanager_secret").length,
    kmsKeys: ofType("aws_kms_key").length,
    efsFileSystems: ofType("aws_efs_file_system").length,
    ecrRepositories: ofType("aws_ecr_repository").length,
    logGroups: ofType("aws_cloudwatch_log_group").length,
    flowLogs: ofType("aws_flow_log").filter((f) => (f.values.log_destination_type ?? "cloud-watch-logs") === "cloud-watch-logs").length,
    insightsClusters: insights.length,
    alarms: ofType("aws_cloudwatch_metric_alarm").length + 2 * targetTracking.length,
    services,
  };
}

/** Resources of synthesized Terraform JSON (cdk.tf.json). */
export function resourcesOfSynth(json: { resource?: Record<string, Record<string, Record<string, TerraformValue>>> }): ResourceValues[] {
  return Object.entries(json.resource ?? {}).flatMap(([type, byId]) => Object.entries(byId).map(([name, values]) => ({ type, name, values })));
}

/** The AWS region of synthesized Terraform JSON. */
export function regionOfSynth(json: { provider?: Record<string, TerraformValue> }): string | undefined {
  const region = first(json.provider?.aws)?.region;
  return typeof region === "string" && !region.includes("${") ? region : undefined;
}

type PlanLike = { resource_changes?: TerraformValue[]; configuration?: TerraformValue };

/** The configuration's list lengths for one resource, from the expressions of a plan's configuration. */
function configuredLengths(plan: PlanLike, change: TerraformValue): Record<string, number> {
  let module = plan.configuration?.root_module;
  for (const call of (change.module_address ?? "").split(".").filter((_: string, i: number) => i % 2 === 1)) {
    module = module?.module_calls?.[call.replace(/\[.*\]$/, "")]?.module;
  }
  const address = `${change.type}.${change.name}`;
  const resource = (module?.resources ?? []).find((r: TerraformValue) => r.address === address);
  const lengths: Record<string, number> = {};
  for (const [attribute, expression] of Object.entries<TerraformValue>(resource?.expressions ?? {})) {
    if (Array.isArray(expression?.constant_value)) lengths[attribute] = expression.constant_value.length;
    else if (Array.isArray(expression?.references)) {
      // A list of references reads ["aws_subnet.a.id", "aws_subnet.a", "aws_subnet.b.id", "aws_subnet.b"].
      lengths[attribute] = expression.references.filter((r: string) => /^[a-z0-9_]+\.[A-Za-z0-9_-]+(\[[^\]]+\])?\.[a-z_]+$/.test(r)).length;
    }
  }
  return lengths;
}

function resourcesOf(plan: PlanLike, side: "before" | "after"): ResourceValues[] {
  return (plan.resource_changes ?? [])
    .filter((c) => c.mode === "managed" && c.change[side] !== null && c.change[side] !== undefined)
    .map((c) => ({
      type: c.type,
      name: c.name,
      values: c.change[side],
      unknown: side === "after" && typeof c.change.after_unknown === "object" ? c.change.after_unknown : {},
      configuredLengths: side === "after" ? configuredLengths(plan, c) : undefined,
    }));
}

/** Resources a plan leaves in place or creates (not those it destroys). */
export const resourcesOfPlan = (plan: PlanLike): ResourceValues[] => resourcesOf(plan, "after");
/** Resources as they are before the plan (the prior state's values). */
export const resourcesBeforePlan = (plan: PlanLike): ResourceValues[] => resourcesOf(plan, "before");

/** The AWS region a plan's configuration sets (root or module provider). */
export function regionOfPlan(plan: PlanLike): string | undefined {
  const configs = Object.entries<TerraformValue>(plan.configuration?.provider_config ?? {}).filter(
    ([key, c]) => key === "aws" || key.endsWith(":aws") || c.name === "aws",
  );
  for (const [, config] of configs) {
    const region = config.expressions?.region?.constant_value;
    // A plan is untrusted: anything but a region code is shown as "(unrecognised)" and priced at the fallback's.
    if (typeof region === "string") return /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region) ? region : "(unrecognised)";
  }
  return undefined;
}
