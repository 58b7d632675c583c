import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  costMarkdown,
  DEFAULT_ASSUMPTIONS,
  estimate,
  HOURS_PER_MONTH,
  inventoryOf,
  PRICE_FILE,
  PRICES,
  pricesFor,
  regionOfSynth,
  resourcesOfPlan,
  resourcesOfSynth,
} from "../src/review/cost";
import { codeSpan } from "../src/markdown";
import { actionOf, countChanges, displayValue, formatPath, renderValue, summarizePlan } from "../src/review/plan-summary";
import { synth } from "./support/synth";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "fixtures", "plans", name), "utf8"));
const ROOT = join(__dirname, "..");

describe("plan summary", () => {
  const mixed = fixture("update-replace-delete.json");
  const summary = summarizePlan(mixed);

  it("reads Terraform's action lists, including both replacement orders", () => {
    expect([actionOf(["delete", "create"]), actionOf(["create", "delete"]), actionOf(["update"]), actionOf(["no-op"])]).toEqual([
      "replace",
      "replace",
      "update",
      "no-op",
    ]);
  });

  it("heads with counts to add, change, replace and destroy", () => {
    expect(countChanges(mixed)).toEqual({ create: 0, update: 1, replace: 2, delete: 1, forget: 0, import: 0, move: 0 });
    expect(summary).toContain("**Plan:** 0 to add, 1 to change, 2 to replace, 1 to destroy.");
  });

  it("lists destroys and replacements first, flagged, with the attributes forcing replacement", () => {
    const warnings = summary.indexOf("### ⚠️ Destroys and replacements");
    expect(warnings).toBeGreaterThan(0);
    expect(warnings).toBeLessThan(summary.indexOf("### Resource changes"));
    expect(summary).toContain("- ⚠️ **replace** `aws_subnet.network_private_subnet_0` — forced by `cidr_block`, `availability_zone`");
    expect(summary).toContain("- ⚠️ **destroy** `aws_nat_gateway.network_nat_gateway_1`");
  });

  it("groups every change by action and type, destroys first, and leaves out no-ops and data reads", () => {
    const table = summary.slice(summary.indexOf("### Resource changes"), summary.indexOf("### Output changes"));
    const rows = table.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| action"));
    expect(rows).toEqual([
      "| destroy | `aws_nat_gateway` | 1 | `network_nat_gateway_1` |",
      "| replace | `aws_ecs_cluster` | 1 | `cluster_cluster` |",
      "| replace | `aws_subnet` | 1 | `network_private_subnet_0` |",
      "| change | `aws_ecs_service` | 1 | `worker_service` |",
    ]);
  });

  it("shows output changes with sensitive values hidden and unknown values marked", () => {
    expect(summary).toContain("| `prefect_credential_secret_arn` | change | (sensitive) |");
    expect(summary).toContain("| `cluster_arn` | change | (known after apply) |");
    expect(summary).toContain('| `cluster_name` | change | `"prefect-ecs-prod"` |');
    expect(summary).toContain("| `old_output` | destroy | (removed) |");
    expect(summary).not.toContain("vpc_id");
    expect(summary).not.toMatch(/\| [xy] \|/);
  });

  it("says no changes when there are none", () => {
    const noop = summarizePlan(fixture("no-op.json"));
    expect(noop).toContain("**No changes.**");
    expect(noop).not.toContain("### Resource changes");
  });

  it("formats attribute paths and never prints a sensitive value", () => {
    expect(formatPath(["network_configuration", 0, "subnets"])).toBe("network_configuration[0].subnets");
    expect(displayValue({ actions: ["create"], after: "secret", after_sensitive: true })).toBe("(sensitive)");
    expect(renderValue({ a: "x", b: "y" }, {}, { b: true })).toBe('{"a": "x", "b": (sensitive)}');
  });

  it("GIVEN text with backticks and pipes THEN code spans show it exactly, escaping pipes only inside tables", () => {
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
    expect(codeSpan("a|b", true)).toBe("`a\\|b`");
    expect(codeSpan("a|b")).toBe("`a|b`");
  });

  it("GIVEN a long value THEN it is cut to 80 characters with an ellipsis", () => {
    const shown = displayValue({ actions: ["create"], after: "x".repeat(200), after_unknown: false });
    expect(shown).toHaveLength(80);
    expect(shown.endsWith("…")).toBe(true);
  });

  it("runs as npm run plan-summary, naming the commit and run, with a usage message when the file is missing", () => {
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const args = [
      join(ROOT, "scripts", "plan-summary.ts"),
      join(__dirname, "fixtures", "plans", "no-op.json"),
      "--commit",
      "abcdef0123456789",
      "--run-url",
      "https://github.com/o/r/actions/runs/7",
    ];
    const ok = spawnSync(tsx, args, { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("### Estimated monthly cost");
    expect(ok.stdout).toContain("Commit `abcdef012345` · [workflow run](<https://github.com/o/r/actions/runs/7>)");
    const unknown = spawnSync(tsx, [join(ROOT, "scripts", "plan-summary.ts"), "plan.json", "--comit", "x"], { encoding: "utf8" });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown option --comit");
    const missing = spawnSync(tsx, [join(ROOT, "scripts", "plan-summary.ts")], { encoding: "utf8" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("Usage: npm run --silent plan-summary -- <plan.json>");
  });
});

describe("cost estimate", () => {
  const costOf = (overrides: Record<string, unknown> = {}) => {
    const json = synth(overrides).json;
    return estimate(inventoryOf(resourcesOfSynth(json), regionOfSynth(json)));
  };
  const line = (result: ReturnType<typeof estimate>, prefix: string) => result.lines.find((l) => l.item.startsWith(prefix));
  const hours = HOURS_PER_MONTH;

  it("prices the default stack: one NAT, one public IPv4, one 0.5 vCPU / 1 GB x86 worker, one secret", () => {
    const result = costOf();
    expect(line(result, "NAT gateway hours")?.monthly).toBeCloseTo(hours * PRICES.nat_gateway_hour);
    expect(line(result, "Public IPv4")?.monthly).toBeCloseTo(hours * PRICES.public_ipv4_hour);
    expect(line(result, "Worker")?.monthly).toBeCloseTo(hours * (0.5 * PRICES.fargate.X86_64.vcpu_hour + 1 * PRICES.fargate.X86_64.gb_hour));
    expect(line(result, "Secrets Manager")?.monthly).toBeCloseTo(PRICES.secret_month);
    expect(line(result, "Interface VPC endpoint")).toBeUndefined();
    expect(result.total).toBeCloseTo(result.lines.reduce((sum, l) => sum + l.monthly, 0));
  });

  it("GIVEN Container Insights THEN its custom metrics are priced (cluster, one service, the assumed task families); off, none", () => {
    const metrics = 10 + 13 + 8 * DEFAULT_ASSUMPTIONS.taskFamilies;
    expect(line(costOf({ container_insights: true }), "Container Insights")?.monthly).toBeCloseTo(metrics * PRICES.custom_metric_month);
    expect(line(costOf(), "Container Insights")).toBeUndefined();
  });

  it("GIVEN a VPC flow log to CloudWatch Logs THEN its assumed ingestion is priced as vended logs; an existing VPC has none", () => {
    expect(line(costOf(), "VPC flow log")?.monthly).toBeCloseTo(
      DEFAULT_ASSUMPTIONS.flowLogGb * (PRICES.vended_logs_ingest_gb + PRICES.logs_store_gb_month),
    );
    expect(
      line(
        costOf({
          availability_zones: undefined,
          existing_vpc_id: "vpc-0123456789abcdef0",
          existing_private_subnet_ids: ["subnet-0123456789abcdef0"],
        }),
        "VPC flow log",
      ),
    ).toBeUndefined();
  });

  it("GIVEN one NAT for two AZs THEN the other AZ's share crosses AZs (both ways); per_az NAT over three AZs has none", () => {
    expect(line(costOf(), "Cross-AZ")?.monthly).toBeCloseTo((DEFAULT_ASSUMPTIONS.natDataGb / 2) * 2 * PRICES.cross_az_per_gb);
    const perAz = costOf({ nat_gateway_mode: "per_az", availability_zones: ["us-east-1a", "us-east-1b", "us-east-1c"] });
    expect(line(perAz, "NAT gateway hours")?.monthly).toBeCloseTo(3 * hours * PRICES.nat_gateway_hour);
    expect(line(perAz, "Public IPv4")?.monthly).toBeCloseTo(3 * hours * PRICES.public_ipv4_hour);
    expect(line(perAz, "Cross-AZ")).toBeUndefined();
  });

  it("GIVEN interface endpoints THEN four endpoints in each private subnet, and their assumed data", () => {
    const result = costOf({ vpc_interface_endpoints: true });
    expect(line(result, "Interface VPC endpoint hours")?.monthly).toBeCloseTo(4 * 2 * hours * PRICES.interface_endpoint_hour_per_az);
    expect(line(result, "Interface VPC endpoint data")?.monthly).toBeCloseTo(DEFAULT_ASSUMPTIONS.endpointDataGb * PRICES.interface_endpoint_per_gb);
  });

  it("GIVEN ARM or Spot THEN the worker is priced from those rates", () => {
    expect(line(costOf({ worker_cpu_architecture: "ARM64" }), "Worker")?.monthly).toBeCloseTo(
      hours * (0.5 * PRICES.fargate.ARM64.vcpu_hour + PRICES.fargate.ARM64.gb_hour),
    );
    expect(line(costOf({ worker_capacity: "fargate_spot" }), "Worker")?.item).toContain("Fargate Spot");
  });

  it("GIVEN a bigger worker THEN its size and count are priced", () => {
    expect(line(costOf({ worker_cpu: 1024, worker_memory: 2048, worker_desired_count: 2 }), "Worker")?.monthly).toBeCloseTo(
      2 * hours * (PRICES.fargate.X86_64.vcpu_hour + 2 * PRICES.fargate.X86_64.gb_hour),
    );
  });

  it("GIVEN EFS THEN its assumed storage is priced", () => {
    expect(line(costOf({ flow_run_efs: true }), "EFS storage")?.monthly).toBeCloseTo(DEFAULT_ASSUMPTIONS.efsGb * PRICES.efs_standard_gb_month);
  });

  it("GIVEN autoscaling THEN the two alarms of each target-tracking policy are priced; without it there are none", () => {
    expect(line(costOf({ worker_min_count: 1, worker_max_count: 3 }), "CloudWatch alarms")?.monthly).toBeCloseTo(4 * PRICES.alarm_month);
    expect(line(costOf(), "CloudWatch alarms")).toBeUndefined();
  });

  it("prints the region and the date the prices were taken beside the total, and the assumptions", () => {
    const text = costMarkdown(costOf());
    expect(text).toMatch(new RegExp(`\\*\\*\\$\\d+\\.\\d\\d per month\\*\\* \\(us-east-1 list prices recorded ${PRICE_FILE.recorded}, USD\\)`));
    expect(text).toContain(`Assumptions: ${DEFAULT_ASSUMPTIONS.natDataGb} GB/month through NAT`);
    expect(text).not.toContain("Prices are");
  });

  it("GIVEN an estimate before the plan THEN the monthly delta stands beside the total, signed", () => {
    const after = costOf({ vpc_interface_endpoints: true });
    const before = costOf();
    const delta = after.total - before.total;
    expect(delta).toBeGreaterThan(0);
    expect(costMarkdown(after, before)).toContain(`**$${after.total.toFixed(2)} per month** (+$${delta.toFixed(2)} per month from this plan;`);
    expect(costMarkdown(before, after)).toContain(`(-$${delta.toFixed(2)} per month from this plan;`);
  });

  it("GIVEN a region the table has THEN its recorded prices are used, and lines priced at us-east-1's say so", () => {
    const inRegion = (region: string, overrides: Record<string, unknown> = {}) =>
      costOf({ aws_region: region, availability_zones: [`${region}a`, `${region}b`], ...overrides });
    for (const region of Object.keys(PRICE_FILE.regions)) {
      const result = inRegion(region);
      expect(result.pricedAs).toBe(region);
      expect(line(result, "Worker")?.monthly).toBeCloseTo(
        hours * (0.5 * pricesFor(region).prices.fargate.X86_64.vcpu_hour + pricesFor(region).prices.fargate.X86_64.gb_hour),
      );
      expect(costMarkdown(result)).not.toContain("Prices are");
    }
    const frankfurt = inRegion("eu-central-1");
    expect(line(frankfurt, "Worker")?.monthly).toBeCloseTo(hours * (0.5 * 0.04656 + 0.00511));
    expect(line(frankfurt, "Worker")?.item).not.toContain("us-east-1 price");
    expect(line(frankfurt, "NAT gateway hours")?.item).toBe("NAT gateway hours (us-east-1 price)");
    expect(costMarkdown(frankfurt)).toContain('Lines marked "(us-east-1 price)" use us-east-1\'s figure: none is recorded for eu-central-1 yet.');
    const singapore = inRegion("ap-southeast-1", { worker_capacity: "fargate_spot" });
    expect(line(singapore, "NAT gateway hours")?.monthly).toBeCloseTo(hours * 0.059);
    expect(line(singapore, "Worker")?.monthly).toBeCloseTo(hours * (0.5 * 0.05056 + 0.00553) * (1 - PRICE_FILE.fargate_spot_discount));
  });

  it("GIVEN a region the table lacks THEN us-east-1 prices, and a line that says so", () => {
    const elsewhere = costOf({ aws_region: "sa-east-1", availability_zones: ["sa-east-1a", "sa-east-1b"] });
    expect(elsewhere.pricedAs).toBe("us-east-1");
    expect(costMarkdown(elsewhere)).toContain("**Prices are us-east-1 list prices:** the price table has none for sa-east-1");
    expect(pricesFor(undefined).pricedAs).toBe("us-east-1");
    expect(costMarkdown(costOf())).not.toMatch(/Prices are|us-east-1 price\)/);
  });

  it("records a source for every figure of every region, the date they were read, and the regions users deploy to most", () => {
    expect(PRICE_FILE.recorded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(PRICE_FILE.regions)).toEqual(
      expect.arrayContaining(["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]),
    );
    expect(pricesFor("us-east-1").borrowed).toEqual([]);
    for (const [region, recorded] of Object.entries(PRICE_FILE.regions)) {
      const figures = Object.entries(recorded).flatMap(([figure, value]) =>
        figure === "fargate" ? Object.keys(value as object).map((a) => `fargate.${a}`) : [figure],
      );
      const sources = PRICE_FILE.sources[region] as Record<string, string>;
      for (const figure of figures) expect(sources?.[figure], `${region} ${figure}`).toMatch(/\S{8,}/);
      expect(Object.keys(sources).sort()).toEqual(figures.sort());
    }
    expect(PRICE_FILE.sources.fargate_spot_discount).toContain("aws.amazon.com/fargate/pricing");
  });

  it("GIVEN a plan THEN only its creations are counted: a deleted NAT gateway is not priced, and an endpoint is priced in each of its subnets", () => {
    const plan = {
      resource_changes: [
        { mode: "managed", type: "aws_nat_gateway", change: { actions: ["create"], after: {}, after_unknown: { id: true } } },
        { mode: "managed", type: "aws_nat_gateway", change: { actions: ["delete"], after: null } },
        {
          mode: "managed",
          type: "aws_vpc_endpoint",
          change: { actions: ["create"], after: { vpc_endpoint_type: "Interface" }, after_unknown: { subnet_ids: [true, true] } },
        },
      ],
    };
    const inventory = inventoryOf(resourcesOfPlan(plan));
    expect([inventory.natGateways, inventory.interfaceEndpointAzs]).toEqual([1, 2]);
  });
});
