import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costMarkdown, DEFAULT_ASSUMPTIONS, estimate, inventoryOf, PRICES, resourcesOfPlan, resourcesOfSynth } from "../src/review/cost";
import { actionOf, countChanges, displayValue, formatPath, summarizePlan } from "../src/review/plan-summary";
import { synth } from "./support/synth";
import { setAsideWorkPool, synthesizedByType } from "./support/terraform";

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
    expect(countChanges(mixed)).toEqual({ create: 0, update: 1, replace: 2, delete: 1 });
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
    expect(summary).toContain('| `cluster_name` | change | "prefect-ecs-prod" |');
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
  });

  it("README's example summary is the current default stack's (regenerate it when this fails)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = readme.slice(readme.indexOf("<details><summary>Example summary</summary>"), readme.indexOf("</details>"));
    const planned = synthesizedByType(setAsideWorkPool(synth().json));
    const total = Object.values(planned).reduce((a, b) => a + b, 0);
    expect(example).toContain(`**Plan:** ${total} to add, 0 to change, 0 to replace, 0 to destroy.`);
    for (const [type, count] of Object.entries(planned)) expect(example).toContain(`| add | \`${type}\` | ${count} |`);
  });

  it("runs as npm run plan-summary, with a usage message when the file is missing", () => {
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const ok = spawnSync(tsx, [join(ROOT, "scripts", "plan-summary.ts"), join(__dirname, "fixtures", "plans", "no-op.json")], { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("### Estimated monthly cost");
    const missing = spawnSync(tsx, [join(ROOT, "scripts", "plan-summary.ts")], { encoding: "utf8" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("usage: npm run plan-summary -- <plan.json>");
  });
});

describe("cost estimate", () => {
  const costOf = (overrides: Record<string, unknown> = {}) => estimate(inventoryOf(resourcesOfSynth(synth(overrides).json)));
  const line = (result: ReturnType<typeof estimate>, prefix: string) => result.lines.find((l) => l.item.startsWith(prefix));
  const hours = PRICES.hours_per_month;

  it("prices the default stack: one NAT, one public IPv4, one 0.5 vCPU / 1 GB x86 worker, one secret", () => {
    const result = costOf();
    expect(line(result, "NAT gateway hours")?.monthly).toBeCloseTo(hours * PRICES.nat_gateway_hour);
    expect(line(result, "Public IPv4")?.monthly).toBeCloseTo(hours * PRICES.public_ipv4_hour);
    expect(line(result, "Worker")?.monthly).toBeCloseTo(hours * (0.5 * PRICES.fargate.X86_64.vcpu_hour + 1 * PRICES.fargate.X86_64.gb_hour));
    expect(line(result, "Secrets Manager")?.monthly).toBeCloseTo(PRICES.secret_month);
    expect(line(result, "Interface VPC endpoints")).toBeUndefined();
    expect(result.total).toBeCloseTo(result.lines.reduce((sum, l) => sum + l.monthly, 0));
  });

  it("GIVEN per_az NAT over three AZs THEN three NAT gateways and three addresses", () => {
    const result = costOf({ nat_gateway_mode: "per_az", availability_zones: ["us-east-1a", "us-east-1b", "us-east-1c"] });
    expect(line(result, "NAT gateway hours")?.monthly).toBeCloseTo(3 * hours * PRICES.nat_gateway_hour);
    expect(line(result, "Public IPv4")?.monthly).toBeCloseTo(3 * hours * PRICES.public_ipv4_hour);
  });

  it("GIVEN interface endpoints THEN four endpoints in each private subnet", () => {
    expect(line(costOf({ vpc_interface_endpoints: true }), "Interface VPC endpoints")?.monthly).toBeCloseTo(4 * 2 * hours * PRICES.interface_endpoint_hour_per_az);
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

  it("prints the region and the date the prices were taken beside the total, and the assumptions", () => {
    const text = costMarkdown(costOf());
    expect(text).toMatch(new RegExp(`\\*\\*\\$\\d+\\.\\d\\d per month\\*\\* \\(us-east-1 list prices recorded ${PRICES.recorded}, USD\\)`));
    expect(text).toContain(`Assumptions: ${DEFAULT_ASSUMPTIONS.natDataGb} GB/month through NAT`);
  });

  it("prices a plan the same way as the synthesized stack it came from", () => {
    const plan = {
      resource_changes: [
        { mode: "managed", type: "aws_nat_gateway", change: { actions: ["create"], after: {}, after_unknown: { id: true } } },
        { mode: "managed", type: "aws_nat_gateway", change: { actions: ["delete"], after: null } },
        { mode: "managed", type: "aws_vpc_endpoint", change: { actions: ["create"], after: { vpc_endpoint_type: "Interface" }, after_unknown: { subnet_ids: [true, true] } } },
      ],
    };
    const inventory = inventoryOf(resourcesOfPlan(plan));
    expect([inventory.natGateways, inventory.interfaceEndpointAzs]).toEqual([1, 2]);
  });
});
