import { type Inventory } from "./inventory";
import { markdownText } from "./plan-summary";
import { ownPrice, PRICE_FILE, type PriceChoice, type PriceFile, pricesFor } from "./price-table";

/**
 * Monthly cost estimate of what a stack bills, from a price table kept in the repository.
 * Works on synthesized Terraform JSON and on `terraform show -json` plans alike: both reduce to a list
 * of resources with their attribute values, and a plan also gives the cost before it (its delta).
 */

export * from "./inventory";
export * from "./price-table";

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
  /** `count` instances of an EC2 type for the month, or a "not priced" line when the table lacks the type. */
  const instanceHours = (what: string, type: string, count: number) => {
    const hourly = ownPrice(prices.ec2_instance_hour as Record<string, number>, type);
    if (hourly === undefined)
      lines.push({ item: `${what} ${type}: not in the price table (src/review/prices.json)`, quantity: "not priced", monthly: 0 });
    else add(`${what} (${type})`, `${count} × ${hours} h × ${unit(hourly)}`, count * hours * hourly, ["ec2_instance_hour"]);
  };
  for (const instance of inventory.natInstances) {
    instanceHours("NAT instance", instance.instanceType, 1);
    add("NAT instance root volume (gp3)", `${instance.volumeGb} GB × ${unit(prices.ebs_gp3_gb_month)}`, instance.volumeGb * prices.ebs_gp3_gb_month, [
      "ebs_gp3_gb_month",
    ]);
  }
  for (const capacity of inventory.flowRunInstances) {
    // The minimum runs all month; instances ECS adds for waiting runs bill while they run, like Fargate flow runs.
    instanceHours("flow-run instances kept warm", capacity.instanceType, capacity.minSize);
    // A stopped instance in the warm pool bills for its volume only.
    const volumes = capacity.minSize + capacity.warmPoolSize;
    add(
      "flow-run instance volumes (gp3)",
      `${volumes} × ${capacity.volumeGb} GB × ${unit(prices.ebs_gp3_gb_month)}`,
      volumes * capacity.volumeGb * prices.ebs_gp3_gb_month,
      ["ebs_gp3_gb_month"],
    );
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
