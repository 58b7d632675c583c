/**
 * npm run deploy|diff|destroy -- [environment] [cdktf options], and npm run synth
 * Settings problems are reported once, here, before cdktf starts (cdktf prints an app's error twice), and so are
 * plan-time values Terraform would stop at. Runs cdktf for one environment's stack, passing that environment's
 * settings file to Terraform after terraform.tfvars (which cdktf always passes), so Terraform layers them the way
 * the app did. `state` names the state bootstrap stack. A deploy first looks for what an interrupted one left
 * (src/recovery/): it synthesizes, adopts this stack's leftovers through import blocks, refuses on a conflict, and
 * then runs `cdktf deploy --skip-synth` on that same synthesized code. `--remove-duplicates` deletes duplicates.
 */
import { runScript } from "../src/cli";
import { SettingsError } from "../src/settings";
import { type EnvironmentDeployment, loadDeployments, selectDeployment } from "../src/settings/environments";
import { missingPlanTimeValues, settingsFiles } from "../src/settings/plan-time";
import { localStateFile, STATE_ENVIRONMENT, stackDir, stackName, stateStackName } from "../src/naming";
import { repairCutLocalState } from "../src/recovery/local-state";
import { runGracefully } from "../src/operations/graceful-child";
import { recoverBeforeDeploy } from "../src/recovery/before-deploy";

const COMMANDS = ["deploy", "diff", "destroy", "synth"] as const;
/** `npm run deploy|destroy -- --remove-duplicates`: deletes what earlier interrupted runs created twice (src/recovery/). */
const REMOVE_DUPLICATES = "--remove-duplicates";

/** The stack a command acts on, its cdktf arguments, and the deployment behind it (none for the state stack). */
export function cdktfTarget(
  deployments: EnvironmentDeployment[],
  command: string,
  args: string[],
): { args: string[]; deployment?: EnvironmentDeployment } {
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(`unknown command "${command}"; use ${COMMANDS.join(", ")}`);
  // synth writes every stack; the settings were validated by loading them.
  if (command === "synth") return { args: [command, ...args] };
  const [first, ...rest] = args;
  const named = first !== undefined && !first.startsWith("-") ? first : undefined;
  const extra = named ? rest : args;
  if (named === STATE_ENVIRONMENT) {
    const { settings } = deployments[0];
    if (!settings.state_bucket) throw new Error("there is no state stack: set state_bucket in terraform.tfvars");
    return { args: [command, stateStackName(settings.project_name), ...extra] };
  }
  const deployment = selectDeployment(deployments, named, `npm run ${command} -- <environment>`);
  return {
    args: [command, stackName(deployment.settings), ...(deployment.varFile ? ["--var-file", deployment.varFile] : []), ...extra],
    deployment,
  };
}

/** The cdktf arguments for a command and an optional environment name (pure, for testing). */
export const cdktfArgs = (deployments: EnvironmentDeployment[], command: string, args: string[]): string[] =>
  cdktfTarget(deployments, command, args).args;

/** Refuses to start Terraform when a value it requires is missing, saying where to give it (SettingsError). */
export function preflight(deployment: EnvironmentDeployment | undefined, env: NodeJS.ProcessEnv): void {
  if (!deployment) return;
  const missing = missingPlanTimeValues(deployment, env, settingsFiles(deployment.varFile));
  if (missing.length) throw new SettingsError(stackName(deployment.settings), missing);
}

/** The recovery step for a command's target (src/recovery/before-deploy.ts), as deploy and destroy run it. */
export function recoveryFor(
  deployments: EnvironmentDeployment[],
  target: ReturnType<typeof cdktfTarget>,
  command: "deploy" | "destroy",
  removeDuplicates: boolean,
  env: NodeJS.ProcessEnv,
): ReturnType<typeof recoverBeforeDeploy> {
  const stack = target.args[1];
  const settings = target.deployment?.settings ?? deployments[0].settings;
  return recoverBeforeDeploy({
    command,
    varFiles: ["terraform.tfvars", ...(target.deployment?.varFile ? [target.deployment.varFile] : [])],
    stackDir: stackDir(stack),
    stack,
    region: target.deployment ? settings.aws_region : settings.state_region,
    removeDuplicates,
    env,
    log: (line) => console.error(line),
  });
}

if (require.main === module) {
  runScript({
    usage: "npm run deploy|diff|destroy -- [environment | state] [cdktf options], or npm run synth",
    description:
      "Checks the settings (and, for deploy, diff and destroy, the plan-time values Terraform will need), then runs cdktf: for one environment's stack with that environment's settings file after terraform.tfvars, as the app layered them; `state` names the state bootstrap stack.",
    run: async ([command, ...given]) => {
      const removeDuplicates = (command === "deploy" || command === "destroy") && given.includes(REMOVE_DUPLICATES);
      const args = given.filter((arg) => arg !== REMOVE_DUPLICATES);
      const deployments = await loadDeployments();
      const target = cdktfTarget(deployments, command, args);
      preflight(target.deployment, process.env);
      // No version-check or telemetry calls to HashiCorp from cdktf or Terraform.
      const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
      // Ctrl-C or a runner's SIGTERM stops Terraform once and waits for its state (src/operations/graceful-child.ts).
      const cdktf = (cdktfArgs: string[]) => runGracefully("npx", ["cdktf", ...cdktfArgs], { env });
      const stack = target.args[1];
      // A local state file a killed run cut short would read as "no state" (src/recovery/local-state.ts).
      if (command !== "synth") repairCutLocalState(localStateFile(stack), (line) => console.error(line));
      if (command !== "deploy" && command !== "destroy") process.exit(await cdktf(target.args));

      // --skip-synth: cdktf.out is already this code's (the pipelines synthesize in their prepare step).
      const skipSynth = target.args.includes("--skip-synth");
      const synthesized = skipSynth ? 0 : await cdktf(["synth"]);
      if (synthesized !== 0) process.exit(synthesized);
      const { proceed } = await recoveryFor(deployments, target, command, removeDuplicates, env);
      if (!proceed) process.exit(1);
      process.exit(await cdktf(skipSynth ? target.args : [...target.args, "--skip-synth"]));
    },
  });
}
