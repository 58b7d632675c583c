import defaultPrices from "./prices.json";

/**
 * Monthly cost estimate of what a stack creates, from a price table kept in the repository.
 * Works on synthesized Terraform JSON and on `terraform show -json` plans alike: both reduce to a list
 * of resources with their attribute values.
 */
export type PriceTable = typeof defaultPrices;
export const PRICES: PriceTable = defaultPrices;

export interface Assumptions {
  /** GB a month through the NAT gateways (image pulls, Prefect API traffic). */
  readonly natDataGb: number;
  /** GB of logs a month (worker, flow runs, VPC flow logs). */
  readonly logIngestGb: number;
  /** GB stored in EFS, when it exists. */
  readonly efsGb: number;
  /** GB of images stored in ECR. */
  readonly ecrGb: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = { natDataGb: 20, logIngestGb: 2, efsGb: 10, ecrGb: 2 };

export interface ResourceValues {
  readonly type: string;
  /** Attribute values (synthesized config, or a plan's `after`). */
  readonly values: Record<string, any>;
  /** A plan's `after_unknown`, used only to learn list lengths that are not known yet. */
  readonly unknown?: Record<string, any>;
}

export interface WorkerTasks {
  readonly tasks: number;
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly architecture: "X86_64" | "ARM64";
  readonly spot: boolean;
}

export interface Inventory {
  readonly natGateways: number;
  readonly publicIpv4: number;
  /** Interface endpoints times the subnets (AZs) each is placed in. */
  readonly interfaceEndpointAzs: number;
  readonly secrets: number;
  readonly kmsKeys: number;
  readonly efsFileSystems: number;
  readonly ecrRepositories: number;
  readonly logGroups: number;
  readonly services: WorkerTasks[];
}

const listLength = (resource: ResourceValues, attribute: string): number => {
  const known = resource.values[attribute];
  if (Array.isArray(known)) return known.length;
  const unknown = resource.unknown?.[attribute];
  return Array.isArray(unknown) ? unknown.length : 0;
};
const first = <T>(value: T | T[] | undefined): T | undefined => (Array.isArray(value) ? value[0] : value);

export function inventoryOf(resources: ResourceValues[]): Inventory {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const taskDefinitions = ofType("aws_ecs_task_definition");
  const services = ofType("aws_ecs_service").map((service, i): WorkerTasks => {
    const taskDefinition = taskDefinitions[i] ?? taskDefinitions[0];
    const strategy = first(service.values.capacity_provider_strategy) as { capacity_provider?: string } | undefined;
    return {
      tasks: Number(service.values.desired_count ?? 1),
      vcpu: Number(taskDefinition?.values.cpu ?? 256) / 1024,
      memoryGb: Number(taskDefinition?.values.memory ?? 512) / 1024,
      architecture: (first(taskDefinition?.values.runtime_platform)?.cpu_architecture ?? "X86_64") as WorkerTasks["architecture"],
      spot: strategy?.capacity_provider === "FARGATE_SPOT",
    };
  });
  return {
    natGateways: ofType("aws_nat_gateway").length,
    publicIpv4: ofType("aws_eip").length,
    interfaceEndpointAzs: ofType("aws_vpc_endpoint")
      .filter((e) => e.values.vpc_endpoint_type === "Interface")
      .reduce((sum, e) => sum + listLength(e, "subnet_ids"), 0),
    secrets: ofType("aws_secretsmanager_secret").length,
    kmsKeys: ofType("aws_kms_key").length,
    efsFileSystems: ofType("aws_efs_file_system").length,
    ecrRepositories: ofType("aws_ecr_repository").length,
    logGroups: ofType("aws_cloudwatch_log_group").length,
    services,
  };
}

/** Resources of synthesized Terraform JSON (cdk.tf.json). */
export function resourcesOfSynth(json: { resource?: Record<string, Record<string, Record<string, any>>> }): ResourceValues[] {
  return Object.entries(json.resource ?? {}).flatMap(([type, byId]) => Object.values(byId).map((values) => ({ type, values })));
}

/** Resources a plan leaves in place or creates (not those it destroys). */
export function resourcesOfPlan(plan: { resource_changes?: any[] }): ResourceValues[] {
  return (plan.resource_changes ?? [])
    .filter((c) => c.mode === "managed" && c.change.after !== null && c.change.after !== undefined)
    .map((c) => ({ type: c.type, values: c.change.after, unknown: typeof c.change.after_unknown === "object" ? c.change.after_unknown : {} }));
}

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly monthly: number;
}

export interface Estimate {
  readonly lines: CostLine[];
  readonly total: number;
}

const money = (value: number) => `$${value.toFixed(2)}`;
/** Unit prices keep their precision ($0.045, not $0.04). */
const unit = (value: number) => `$${value}`;

export function estimate(inventory: Inventory, prices: PriceTable = PRICES, assumptions: Assumptions = DEFAULT_ASSUMPTIONS): Estimate {
  const hours = prices.hours_per_month;
  const lines: CostLine[] = [];
  const add = (item: string, quantity: string, monthly: number) => {
    if (monthly > 0) lines.push({ item, quantity, monthly });
  };
  add("NAT gateway hours", `${inventory.natGateways} × ${hours} h × ${unit(prices.nat_gateway_hour)}`, inventory.natGateways * hours * prices.nat_gateway_hour);
  if (inventory.natGateways) {
    add("NAT data processing (assumed)", `${assumptions.natDataGb} GB × ${unit(prices.nat_gateway_per_gb)}`, assumptions.natDataGb * prices.nat_gateway_per_gb);
  }
  add("Public IPv4 addresses (Elastic IPs)", `${inventory.publicIpv4} × ${hours} h × ${money(prices.public_ipv4_hour)}`, inventory.publicIpv4 * hours * prices.public_ipv4_hour);
  for (const service of inventory.services) {
    const table = (service.spot ? prices.fargate_spot : prices.fargate)[service.architecture];
    const label = `Fargate${service.spot ? " Spot" : ""} ${service.architecture}, ${service.tasks} × (${service.vcpu} vCPU, ${service.memoryGb} GB)`;
    add(
      `Worker: ${label}`,
      `${service.tasks * service.vcpu} vCPU × ${hours} h × $${table.vcpu_hour} + ${service.tasks * service.memoryGb} GB × ${hours} h × $${table.gb_hour}`,
      service.tasks * hours * (service.vcpu * table.vcpu_hour + service.memoryGb * table.gb_hour),
    );
  }
  add(
    "Interface VPC endpoints",
    `${inventory.interfaceEndpointAzs} endpoint-AZs × ${hours} h × ${unit(prices.interface_endpoint_hour_per_az)}`,
    inventory.interfaceEndpointAzs * hours * prices.interface_endpoint_hour_per_az,
  );
  add("Secrets Manager secrets", `${inventory.secrets} × ${unit(prices.secret_month)}`, inventory.secrets * prices.secret_month);
  add("KMS keys", `${inventory.kmsKeys} × ${unit(prices.kms_key_month)}`, inventory.kmsKeys * prices.kms_key_month);
  if (inventory.efsFileSystems) {
    add("EFS storage (assumed)", `${assumptions.efsGb} GB × ${unit(prices.efs_standard_gb_month)}`, assumptions.efsGb * prices.efs_standard_gb_month);
  }
  if (inventory.logGroups) {
    add(
      "CloudWatch Logs (assumed)",
    `${assumptions.logIngestGb} GB ingested × ${unit(prices.logs_ingest_gb)} + stored × ${unit(prices.logs_store_gb_month)}`,
      assumptions.logIngestGb * (prices.logs_ingest_gb + prices.logs_store_gb_month),
    );
  }
  if (inventory.ecrRepositories) {
    add("ECR image storage (assumed)", `${assumptions.ecrGb} GB × ${unit(prices.ecr_storage_gb_month)}`, assumptions.ecrGb * prices.ecr_storage_gb_month);
  }
  const total = lines.reduce((sum, line) => sum + line.monthly, 0);
  return { lines, total };
}

export function costMarkdown(result: Estimate, prices: PriceTable = PRICES, assumptions: Assumptions = DEFAULT_ASSUMPTIONS): string {
  return [
    "### Estimated monthly cost",
    "",
    `**${money(result.total)} per month** (${prices.region} list prices recorded ${prices.recorded}, ${prices.currency})`,
    "",
    "| item | quantity | per month |",
    "|---|---|---:|",
    ...result.lines.map((line) => `| ${line.item} | ${line.quantity} | ${money(line.monthly)} |`),
    `| **total** | | **${money(result.total)}** |`,
    "",
    `Assumptions: ${assumptions.natDataGb} GB/month through NAT, ${assumptions.logIngestGb} GB/month of logs, ` +
      `${assumptions.efsGb} GB in EFS (when enabled), ${assumptions.ecrGb} GB of images in ECR; ${prices.hours_per_month} hours a month. ` +
      "Flow runs are billed per run and are not included; Fargate Spot prices float (about 70% below on-demand). " +
      `Prices: ${prices.source}.`,
  ].join("\n");
}
