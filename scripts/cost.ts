/**
 * The estimated monthly cost of a deployment's stack (synthesized in memory):
 *   npm run cost [-- <environment>] [--compare]
 * --compare adds the monthly delta of each common option against it.
 */
import { Testing } from "cdktf";
import { runScript } from "../src/cli";
import { costMarkdown, type Estimate, estimate, inventoryOf, regionOfSynth, resourcesOfSynth } from "../src/review/cost";
import { type Deployment, parseSettings, SettingsError } from "../src/settings";
import { loadDeployments, selectDeployment } from "../src/settings/environments";
import { PrefectEcsStack } from "../src/stack";

const USAGE = "npm run cost [-- <environment>] [--compare]";

/** The common options, each against these settings (Container Insights is compared in whichever state they leave it not in). */
const optionsFor = (settings: Deployment["settings"]): [string, Record<string, unknown>][] => [
  ['NAT gateway per AZ (`nat_gateway_mode = "per_az"`)', { nat_gateway_mode: "per_az" }],
  ['one NAT instance (`internet_egress = "nat_instance"`)', { internet_egress: "nat_instance" }],
  ['no NAT, tasks in public subnets (`internet_egress = "public_subnets"`)', { internet_egress: "public_subnets" }],
  settings.container_insights
    ? ["Container Insights off (`container_insights = false`)", { container_insights: false }]
    : ["Container Insights on (`container_insights = true`)", { container_insights: true }],
  ["interface endpoints (`vpc_interface_endpoints = true`)", { vpc_interface_endpoints: true }],
  ['ARM worker (`worker_cpu_architecture = "ARM64"`)', { worker_cpu_architecture: "ARM64" }],
  ['Spot worker (`worker_capacity = "fargate_spot"`)', { worker_capacity: "fargate_spot" }],
  ["bigger worker (`worker_cpu = 1024`, `worker_memory = 2048`)", { worker_cpu: 1024, worker_memory: 2048 }],
  ["EFS for flow runs (`flow_run_efs = true`)", { flow_run_efs: true }],
  // With public-subnet egress the comparison says "not with these settings" (ECS gives public IPs to Fargate tasks only).
  [
    'warm EC2 capacity for flow runs (`flow_run_capacity = "ec2"`: one instance kept running)',
    { flow_run_capacity: "ec2", flow_run_spot: undefined },
  ],
  // The in-stack server replaces Prefect Cloud (or an outside server): their keys drop out of the comparison.
  [
    "in-stack Prefect server and database (`prefect_server = true`)",
    {
      prefect_server: true,
      prefect_api_url: undefined,
      prefect_account_id: undefined,
      prefect_workspace_id: undefined,
      prefect_api_key: undefined,
      existing_api_key_secret_arn: undefined,
      existing_api_key_secret_kms_key_arn: undefined,
    },
  ],
];

const monthly = (deployment: Deployment): Estimate => {
  const stack = new PrefectEcsStack(Testing.app(), deployment);
  const json = JSON.parse(Testing.synth(stack));
  return estimate(inventoryOf(resourcesOfSynth(json), regionOfSynth(json)));
};

/** The cost report of an environment's stack, with the options' deltas when `compare` is set. */
export async function costReport(environment: string | undefined, compare: boolean): Promise<string> {
  const deployment = selectDeployment(await loadDeployments(), environment, USAGE);
  const base = monthly(deployment);
  const lines = [`Stack ${deployment.settings.name_prefix}`, "", costMarkdown(base)];
  if (compare) {
    // Options are compared on the values Terraform sees, with the environment's name kept.
    const values = { ...deployment.fileValues, environment: deployment.settings.environment };
    lines.push("", "| option | per month | delta |", "|---|---:|---:|", `| these settings | $${base.total.toFixed(2)} | |`);
    for (const [label, overrides] of optionsFor(deployment.settings)) {
      let option: Deployment;
      try {
        option = parseSettings({ ...values, ...overrides });
      } catch (error) {
        // An option these settings rule out (e.g. a NAT mode with an existing VPC) is shown, not priced.
        if (!(error instanceof SettingsError)) throw error;
        lines.push(`| ${label} | n/a | not with these settings |`);
        continue;
      }
      const total = monthly(option).total;
      const delta = total - base.total;
      lines.push(`| ${label} | $${total.toFixed(2)} | ${delta >= 0 ? "+" : "-"}$${Math.abs(delta).toFixed(2)} |`);
    }
  }
  return lines.join("\n");
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description: "Estimates the monthly cost of the stack terraform.tfvars describes, from the price table in src/review/prices.json.",
    run: async (args) =>
      console.log(
        await costReport(
          args.find((arg) => !arg.startsWith("-")),
          args.includes("--compare"),
        ),
      ),
  });
}
