/**
 * npm run cost [-- <environment>] [--compare]: the estimated monthly cost of a deployment's stack
 * (synthesized in memory); --compare adds the monthly delta of each common option against it.
 */
import { Testing } from "cdktf";
import { costMarkdown, estimate, inventoryOf, resourcesOfSynth } from "../src/review/cost";
import { runCli } from "../src/cli";
import { type Deployment, parseSettings } from "../src/settings";
import { loadDeployments, selectDeployment } from "../src/settings/environments";
import { PrefectEcsStack } from "../src/stack";

const OPTIONS: [string, Record<string, unknown>][] = [
  ["NAT gateway per AZ (`nat_gateway_mode = \"per_az\"`)", { nat_gateway_mode: "per_az" }],
  ["interface endpoints (`vpc_interface_endpoints = true`)", { vpc_interface_endpoints: true }],
  ["ARM worker (`worker_cpu_architecture = \"ARM64\"`)", { worker_cpu_architecture: "ARM64" }],
  ["Spot worker (`worker_capacity = \"fargate_spot\"`)", { worker_capacity: "fargate_spot" }],
  ["bigger worker (`worker_cpu = 1024`, `worker_memory = 2048`)", { worker_cpu: 1024, worker_memory: 2048 }],
  ["EFS for flow runs (`flow_run_efs = true`)", { flow_run_efs: true }],
];

const monthly = (deployment: Deployment) => {
  const stack = new PrefectEcsStack(Testing.app(), deployment);
  return estimate(inventoryOf(resourcesOfSynth(JSON.parse(Testing.synth(stack)))));
};

runCli(async () => {
  const name = process.argv.slice(2).find((arg) => !arg.startsWith("-"));
  const deployment = selectDeployment(await loadDeployments(), name, "npm run cost -- <environment>");
  // Options are compared on the values Terraform sees, with the environment's name kept.
  const values = { ...deployment.fileValues, environment: deployment.settings.environment };
  const base = monthly(deployment);
  console.log(`Stack ${deployment.settings.name_prefix}\n`);
  console.log(costMarkdown(base));
  if (!process.argv.includes("--compare")) return;
  console.log("\n| option | per month | delta |\n|---|---:|---:|");
  console.log(`| these settings | $${base.total.toFixed(2)} | |`);
  for (const [label, overrides] of OPTIONS) {
    const total = monthly(parseSettings({ ...values, ...overrides })).total;
    const delta = total - base.total;
    console.log(`| ${label} | $${total.toFixed(2)} | ${delta >= 0 ? "+" : "-"}$${Math.abs(delta).toFixed(2)} |`);
  }
});
