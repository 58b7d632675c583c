import priceJson from "./prices.json";
import { markdownText } from "./plan-summary";

/**
 * Monthly cost estimate of what a stack bills, from a price table kept in the repository.
 * Works on synthesized Terraform JSON and on `terraform show -json` plans alike: both reduce to a list
 * of resources with their attribute values, and a plan also gives the cost before it (its delta).
 */
export type RegionPrices = (typeof priceJson.regions)["us-east-1"];
type Fargate = RegionPrices["fargate"];
/** A region's recorded figures: any may be missing, and then the fallback region's is used. */
export type RecordedPrices = Partial<Omit<RegionPrices, "fargate">> & { fargate?: Partial<Fargate> };
export interface PriceFile {
  readonly recorded: string;
  readonly currency: string;
  readonly hours_per_month: number;
  readonly fallback_region: string;
  readonly fargate_spot_discount: number;
  readonly regions: Record<string, RecordedPrices>;
  readonly sources: Record<string, Record<string, string> | string>;
}
export const PRICE_FILE: PriceFile = priceJson;
/** The fallback region's prices (us-east-1), complete. */
export const PRICES: RegionPrices = priceJson.regions["us-east-1"];
export const HOURS_PER_MONTH = priceJson.hours_per_month;

export interface PriceChoice {
  /** The region the stack deploys to (undefined when it cannot be told). */
  readonly region?: string;
  /** The region whose table is used: the stack's, or the fallback when the table has none for it. */
  readonly pricedAs: string;
  readonly prices: RegionPrices;
  /** Figures the region's table lacks, priced at the fallback region's (`nat_gateway_hour`, `fargate.ARM64`). */
  readonly borrowed: string[];
}

/** The prices for a region: its recorded figures, the fallback region's for the rest. */
export function pricesFor(region: string | undefined, file: PriceFile = PRICE_FILE): PriceChoice {
  const fallback = file.regions[file.fallback_region] as RegionPrices;
  // Own entries only: a region such as "constructor" or "__proto__" from a plan must not find an inherited property.
  const recorded = region !== undefined && Object.hasOwn(file.regions, region) ? file.regions[region] : undefined;
  if (!recorded || region === file.fallback_region) return { region, pricedAs: file.fallback_region, prices: fallback, borrowed: [] };
  const borrowed: string[] = [];
  const prices: Record<string, unknown> = {};
  for (const [figure, value] of Object.entries(fallback)) {
    if (figure === "fargate") continue;
    const own = (recorded as Record<string, unknown>)[figure];
    if (own === undefined) borrowed.push(figure);
    prices[figure] = own ?? value;
  }
  const fargate: Record<string, unknown> = {};
  for (const [architecture, value] of Object.entries(fallback.fargate)) {
    const own = recorded.fargate?.[architecture as keyof Fargate];
    if (own === undefined) borrowed.push(`fargate.${architecture}`);
    fargate[architecture] = own ?? value;
  }
  return { region, pricedAs: region!, prices: { ...prices, fargate } as RegionPrices, borrowed };
}

export interface Assumptions {
  /** GB a month through the NAT gateways (image pulls, Prefect API traffic). */
  readonly natDataGb: number;
  /** GB a month of worker and flow-run logs. */
  readonly logIngestGb: number;
  /** GB a month of VPC flow logs per flow log (delivered as vended logs). */
  readonly flowLogGb: number;
  /** GB a month through interface endpoints, when they exist (ECR API, Logs, Secrets Manager calls). */
  readonly endpointDataGb: number;
  /** GB stored in EFS, when it exists. */
  readonly efsGb: number;
  /** GB of images stored in ECR. */
  readonly ecrGb: number;
  /** Task definition families that run in a cluster (the worker's and the flow runs'), for Container Insights. */
  readonly taskFamilies: number;
  /** Load balancer capacity units an hour, when the server's public listener exists (an operator's UI and API use). */
  readonly albLcus: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  natDataGb: 20,
  logIngestGb: 2,
  flowLogGb: 1,
  endpointDataGb: 5,
  efsGb: 10,
  ecrGb: 2,
  taskFamilies: 2,
  albLcus: 0.1,
};

/**
 * Container Insights (standard) metrics for ECS, counted from the metrics AWS documents per dimension set
 * (Container-Insights-metrics-ECS): CPU and memory utilized/reserved, network rx/tx and storage read/write
 * at every level, task and service counts per cluster, and desired/running/pending task, deployment and
 * task-set counts per service. Each is a custom metric.
 */
export const CONTAINER_INSIGHTS_METRICS = { perCluster: 10, perService: 13, perTaskFamily: 8 };

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
/** A price table's own entry: "constructor" or "__proto__" from a plan must not find an inherited property. */
const ownPrice = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

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
  const natInstances = ofType("aws_launch_template").map((template): NatInstanceInventory => ({
    instanceType: identifier(template.values.instance_type),
    volumeGb: amount(first(first(template.values.block_device_mappings)?.ebs)?.volume_size, 8),
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

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly monthly: number;
}

export interface Estimate extends PriceChoice {
  readonly lines: CostLine[];
  readonly total: number;
  readonly assumptions: Assumptions;
}

const money = (value: number) => `$${value.toFixed(2)}`;
/** Unit prices keep their precision ($0.045, not $0.04). */
const unit = (value: number) => `$${value}`;

export function estimate(inventory: Inventory, assumptions: Assumptions = DEFAULT_ASSUMPTIONS, file: PriceFile = PRICE_FILE): Estimate {
  const choice = pricesFor(inventory.region, file);
  const prices = choice.prices;
  const hours = file.hours_per_month;
  const lines: CostLine[] = [];
  /** `figures` name the prices a line uses; one the region's table lacks is marked on the line. */
  const add = (item: string, quantity: string, monthly: number, figures: string[]) => {
    const borrowed = figures.some((f) => choice.borrowed.includes(f));
    // A count or size the plan gave as something other than a number is said, never dropped or summed as NaN.
    if (Number.isNaN(monthly)) {
      const what = item.replace(/[:(].*$/, "").trim();
      lines.push({ item: `${what}: a count or size in the plan is not a number`, quantity: "not priced", monthly: 0 });
    } else if (monthly > 0) lines.push({ item: borrowed ? `${item} (${file.fallback_region} price)` : item, quantity, monthly });
  };
  add(
    "NAT gateway hours",
    `${inventory.natGateways} × ${hours} h × ${unit(prices.nat_gateway_hour)}`,
    inventory.natGateways * hours * prices.nat_gateway_hour,
    ["nat_gateway_hour"],
  );
  for (const instance of inventory.natInstances) {
    const hourly = ownPrice(prices.ec2_instance_hour as Record<string, number>, instance.instanceType);
    if (hourly === undefined) {
      lines.push({
        item: `NAT instance ${instance.instanceType}: not in the price table (src/review/prices.json)`,
        quantity: "not priced",
        monthly: 0,
      });
    } else {
      add(`NAT instance (${instance.instanceType})`, `1 × ${hours} h × ${unit(hourly)}`, hours * hourly, ["ec2_instance_hour"]);
    }
    add("NAT instance root volume (gp3)", `${instance.volumeGb} GB × ${unit(prices.ebs_gp3_gb_month)}`, instance.volumeGb * prices.ebs_gp3_gb_month, [
      "ebs_gp3_gb_month",
    ]);
  }
  if (inventory.natGateways) {
    add(
      "NAT data processing (assumed)",
      `${assumptions.natDataGb} GB × ${unit(prices.nat_gateway_per_gb)}`,
      assumptions.natDataGb * prices.nat_gateway_per_gb,
      ["nat_gateway_per_gb"],
    );
  }
  const nats = inventory.natGateways + inventory.natInstances.length;
  if (nats) {
    // Subnets without a NAT of their own send their share across AZs, billed each way.
    const crossing = Math.max(0, inventory.privateSubnets - nats);
    if (inventory.privateSubnets > 0 && crossing > 0) {
      const gb = (assumptions.natDataGb * crossing) / inventory.privateSubnets;
      add(
        `Cross-AZ traffic to the NAT ${inventory.natGateways ? "gateway" : "instance"} (assumed)`,
        `${+gb.toFixed(2)} GB (${crossing} of ${inventory.privateSubnets} AZs) × 2 directions × ${unit(prices.cross_az_per_gb)}`,
        gb * 2 * prices.cross_az_per_gb,
        ["cross_az_per_gb"],
      );
    }
  }
  const addresses = inventory.publicIpv4 + inventory.publicTaskIpv4;
  add(
    inventory.publicTaskIpv4 ? "Public IPv4 addresses (worker tasks)" : "Public IPv4 addresses (Elastic IPs)",
    inventory.publicTaskIpv4 && inventory.publicIpv4
      ? `(${inventory.publicIpv4} Elastic IPs + ${inventory.publicTaskIpv4} worker tasks) × ${hours} h × ${unit(prices.public_ipv4_hour)}`
      : `${addresses} × ${hours} h × ${unit(prices.public_ipv4_hour)}`,
    addresses * hours * prices.public_ipv4_hour,
    ["public_ipv4_hour"],
  );
  for (const service of inventory.services) {
    const onDemand = ownPrice(prices.fargate as Record<string, { vcpu_hour: number; gb_hour: number }>, service.architecture);
    if (onDemand === undefined) {
      lines.push({ item: `Fargate ${service.architecture}: not in the price table (src/review/prices.json)`, quantity: "not priced", monthly: 0 });
      continue;
    }
    const factor = service.spot ? 1 - file.fargate_spot_discount : 1;
    const vcpuHour = +(onDemand.vcpu_hour * factor).toPrecision(6);
    const gbHour = +(onDemand.gb_hour * factor).toPrecision(6);
    const label = `Fargate${service.spot ? " Spot" : ""} ${service.architecture}, ${service.tasks} × (${service.vcpu} vCPU, ${service.memoryGb} GB)`;
    add(
      `${service.role === "server" ? "Prefect server" : "Worker"}: ${label}`,
      `${service.tasks * service.vcpu} vCPU × ${hours} h × ${unit(vcpuHour)} + ${service.tasks * service.memoryGb} GB × ${hours} h × ${unit(gbHour)}`,
      service.tasks * hours * (service.vcpu * vcpuHour + service.memoryGb * gbHour),
      [`fargate.${service.architecture}`],
    );
  }
  for (const db of inventory.databases) {
    const hourly = ownPrice(prices.rds_instance_hour as Record<string, number>, db.instanceClass);
    const copies = db.multiAz ? 2 : 1;
    if (hourly === undefined) {
      lines.push({ item: `RDS ${db.instanceClass}: not in the price table (src/review/prices.json)`, quantity: "not priced", monthly: 0 });
    } else {
      add(
        `RDS PostgreSQL (${db.instanceClass}${db.multiAz ? ", Multi-AZ" : ""})`,
        `${copies} × ${hours} h × ${unit(hourly)}`,
        copies * hours * hourly,
        ["rds_instance_hour"],
      );
    }
    // Backups up to the database's size are free; the estimate assumes they stay within it.
    add("RDS storage (gp3)", `${copies} × ${db.storageGb} GB × ${unit(prices.rds_gp3_gb_month)}`, copies * db.storageGb * prices.rds_gp3_gb_month, [
      "rds_gp3_gb_month",
    ]);
  }
  add(
    "Cloud Map private namespaces (Route 53 hosted zones)",
    `${inventory.cloudMapNamespaces} × ${unit(prices.route53_hosted_zone_month)}`,
    inventory.cloudMapNamespaces * prices.route53_hosted_zone_month,
    ["route53_hosted_zone_month"],
  );
  add(
    "Cloud Map registered tasks",
    `${inventory.cloudMapInstances} × ${unit(prices.cloud_map_instance_month)}`,
    inventory.cloudMapInstances * prices.cloud_map_instance_month,
    ["cloud_map_instance_month"],
  );
  if (inventory.loadBalancers) {
    add(
      "Application load balancer (public listener)",
      `${inventory.loadBalancers} × ${hours} h × (${unit(prices.alb_hour)} + ${assumptions.albLcus} LCU × ${unit(prices.alb_lcu_hour)})`,
      inventory.loadBalancers * hours * (prices.alb_hour + assumptions.albLcus * prices.alb_lcu_hour),
      ["alb_hour", "alb_lcu_hour"],
    );
  }
  add(
    "Interface VPC endpoint hours",
    `${inventory.interfaceEndpointAzs} endpoint-AZs × ${hours} h × ${unit(prices.interface_endpoint_hour_per_az)}`,
    inventory.interfaceEndpointAzs * hours * prices.interface_endpoint_hour_per_az,
    ["interface_endpoint_hour_per_az"],
  );
  if (inventory.interfaceEndpoints) {
    add(
      "Interface VPC endpoint data (assumed)",
      `${assumptions.endpointDataGb} GB × ${unit(prices.interface_endpoint_per_gb)}`,
      assumptions.endpointDataGb * prices.interface_endpoint_per_gb,
      ["interface_endpoint_per_gb"],
    );
  }
  if (inventory.insightsClusters) {
    const services = inventory.services.length;
    const metrics =
      inventory.insightsClusters * (CONTAINER_INSIGHTS_METRICS.perCluster + CONTAINER_INSIGHTS_METRICS.perTaskFamily * assumptions.taskFamilies) +
      CONTAINER_INSIGHTS_METRICS.perService * services;
    add(
      "Container Insights metrics",
      `${metrics} metrics (cluster, ${services} service, ${assumptions.taskFamilies} task families) × ${unit(prices.custom_metric_month)}`,
      metrics * prices.custom_metric_month,
      ["custom_metric_month"],
    );
  }
  add("CloudWatch alarms", `${inventory.alarms} × ${unit(prices.alarm_month)}`, inventory.alarms * prices.alarm_month, ["alarm_month"]);
  add("Secrets Manager secrets", `${inventory.secrets} × ${unit(prices.secret_month)}`, inventory.secrets * prices.secret_month, ["secret_month"]);
  add("KMS keys", `${inventory.kmsKeys} × ${unit(prices.kms_key_month)}`, inventory.kmsKeys * prices.kms_key_month, ["kms_key_month"]);
  if (inventory.efsFileSystems) {
    add(
      "EFS storage (assumed)",
      `${assumptions.efsGb} GB × ${unit(prices.efs_standard_gb_month)}`,
      assumptions.efsGb * prices.efs_standard_gb_month,
      ["efs_standard_gb_month"],
    );
  }
  if (inventory.flowLogs) {
    const gb = inventory.flowLogs * assumptions.flowLogGb;
    add(
      "VPC flow log ingestion (assumed)",
      `${gb} GB × ${unit(prices.vended_logs_ingest_gb)} + stored × ${unit(prices.logs_store_gb_month)}`,
      gb * (prices.vended_logs_ingest_gb + prices.logs_store_gb_month),
      ["vended_logs_ingest_gb", "logs_store_gb_month"],
    );
  }
  if (inventory.logGroups) {
    add(
      "CloudWatch Logs (assumed)",
      `${assumptions.logIngestGb} GB ingested × ${unit(prices.logs_ingest_gb)} + stored × ${unit(prices.logs_store_gb_month)}`,
      assumptions.logIngestGb * (prices.logs_ingest_gb + prices.logs_store_gb_month),
      ["logs_ingest_gb", "logs_store_gb_month"],
    );
  }
  if (inventory.ecrRepositories) {
    add(
      "ECR image storage (assumed)",
      `${assumptions.ecrGb} GB × ${unit(prices.ecr_storage_gb_month)}`,
      assumptions.ecrGb * prices.ecr_storage_gb_month,
      ["ecr_storage_gb_month"],
    );
  }
  const total = lines.reduce((sum, line) => sum + line.monthly, 0);
  return { ...choice, lines, total, assumptions };
}

const signed = (value: number) => `${value < 0 ? "-" : "+"}${money(Math.abs(value))}`;

/** The estimate as Markdown; with `before`, the plan's monthly delta stands beside the total. */
export function costMarkdown(result: Estimate, before?: Estimate, file: PriceFile = PRICE_FILE): string {
  const a = result.assumptions;
  const delta = before ? `${signed(result.total - before.total)} per month from this plan; ` : "";
  const fallback =
    result.region !== result.pricedAs
      ? [
          "",
          `**Prices are ${result.pricedAs} list prices:** the price table has none for ${result.region === undefined ? "this stack's region (not known at plan time)" : markdownText(result.region)}; ` +
            "expect the bill there to differ.",
        ]
      : result.lines.some((line) => line.item.endsWith(`(${file.fallback_region} price)`))
        ? [
            "",
            `Lines marked "(${file.fallback_region} price)" use ${file.fallback_region}'s figure: none is recorded for ${markdownText(result.pricedAs)} yet.`,
          ]
        : [];
  return [
    "### Estimated monthly cost",
    "",
    `**${money(result.total)} per month** (${delta}${markdownText(result.pricedAs)} list prices recorded ${file.recorded}, ${file.currency})`,
    ...fallback,
    "",
    "| item | quantity | per month |",
    "|---|---|---:|",
    // Items and quantities hold values from the plan (types, classes, counts): escaped like every plan value.
    ...result.lines.map((line) => `| ${markdownText(line.item)} | ${markdownText(line.quantity)} | ${money(line.monthly)} |`),
    `| **total** | | **${money(result.total)}** |`,
    "",
    `Assumptions: ${a.natDataGb} GB/month through NAT (spread evenly over the AZs), ${a.logIngestGb} GB/month of worker and flow-run logs, ` +
      `${a.flowLogGb} GB/month of VPC flow logs, ${a.endpointDataGb} GB/month through interface endpoints (when enabled), ` +
      `${a.efsGb} GB in EFS (when enabled), ${a.ecrGb} GB of images in ECR, ${a.taskFamilies} task definition families for Container Insights, ${a.albLcus} load balancer capacity units (with a public listener); ` +
      `${file.hours_per_month} hours a month. Flow runs are billed per run and are not included (so are their public IPs with public subnets); ` +
      "Fargate Spot prices float (priced at the best case, 70% off); " +
      "the event observer's SQS polling stays within the free million requests. On-demand list prices before free tier and discounts; " +
      "sources per figure in `src/review/prices.json`.",
  ].join("\n");
}
