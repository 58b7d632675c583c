/**
 * npm run deploy|diff|destroy -- [environment] [cdktf options]
 * Runs cdktf for one environment's stack, passing that environment's settings file to Terraform after
 * terraform.tfvars (which cdktf always passes), so Terraform layers them the way the app did.
 * `state` names the state bootstrap stack.
 */
import { spawnSync } from "node:child_process";
import { SettingsError } from "../src/settings";
import { type EnvironmentDeployment, loadDeployments } from "../src/settings/environments";
import { stackName } from "../src/stack";
import { stateStackName } from "../src/state-stack";

const COMMANDS = ["deploy", "diff", "destroy"] as const;

/** The cdktf arguments for a command and an optional environment name (pure, for testing). */
export function cdktfArgs(deployments: EnvironmentDeployment[], command: string, args: string[]): string[] {
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(`unknown command "${command}"; use ${COMMANDS.join(", ")}`);
  const [first, ...rest] = args;
  const names = deployments.map((d) => d.settings.environment);
  const named = first !== undefined && !first.startsWith("-") ? first : undefined;
  const extra = named ? rest : args;
  if (named === "state") {
    const { settings } = deployments[0];
    if (!settings.state_bucket) throw new Error("there is no state stack: set state_bucket in terraform.tfvars");
    return [command, stateStackName(settings.project_name), ...extra];
  }
  let deployment: EnvironmentDeployment | undefined;
  if (named) {
    deployment = deployments.find((d) => d.settings.environment === named);
    if (!deployment) throw new Error(`no environment "${named}"; the environments are ${names.join(", ")}`);
  } else if (deployments.length === 1) {
    deployment = deployments[0];
  } else {
    throw new Error(`name an environment: npm run ${command} -- <environment>, one of ${names.join(", ")}`);
  }
  return [command, stackName(deployment.settings), ...(deployment.varFile ? ["--var-file", deployment.varFile] : []), ...extra];
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const cdktf = cdktfArgs(await loadDeployments(), command, args);
  const result = spawnSync("npx", ["cdktf", ...cdktf], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof SettingsError || error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
