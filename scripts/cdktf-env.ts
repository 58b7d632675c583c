/**
 * npm run deploy|diff|destroy -- [environment] [cdktf options]
 * Runs cdktf for one environment's stack, passing that environment's settings file to Terraform after
 * terraform.tfvars (which cdktf always passes), so Terraform layers them the way the app did.
 * `state` names the state bootstrap stack.
 */
import { spawnSync } from "node:child_process";
import { runScript } from "../src/cli";
import { type EnvironmentDeployment, loadDeployments, selectDeployment } from "../src/settings/environments";
import { STATE_ENVIRONMENT, stackName, stateStackName } from "../src/naming";

const COMMANDS = ["deploy", "diff", "destroy"] as const;

/** The cdktf arguments for a command and an optional environment name (pure, for testing). */
export function cdktfArgs(deployments: EnvironmentDeployment[], command: string, args: string[]): string[] {
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(`unknown command "${command}"; use ${COMMANDS.join(", ")}`);
  const [first, ...rest] = args;
  const named = first !== undefined && !first.startsWith("-") ? first : undefined;
  const extra = named ? rest : args;
  if (named === STATE_ENVIRONMENT) {
    const { settings } = deployments[0];
    if (!settings.state_bucket) throw new Error("there is no state stack: set state_bucket in terraform.tfvars");
    return [command, stateStackName(settings.project_name), ...extra];
  }
  const deployment = selectDeployment(deployments, named, `npm run ${command} -- <environment>`);
  return [command, stackName(deployment.settings), ...(deployment.varFile ? ["--var-file", deployment.varFile] : []), ...extra];
}

if (require.main === module) {
  runScript({
    usage: "npm run deploy|diff|destroy -- [environment | state] [cdktf options]",
    description:
      "Runs cdktf for one environment's stack with that environment's settings file after terraform.tfvars, as the app layered them; `state` names the state bootstrap stack.",
    run: async ([command, ...args]) => {
      const cdktf = cdktfArgs(await loadDeployments(), command, args);
      const result = spawnSync("npx", ["cdktf", ...cdktf], { stdio: "inherit" });
      process.exit(result.status ?? 1);
    },
  });
}
