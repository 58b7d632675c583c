import { Annotations, App } from "cdktf";
import { runCli } from "./src/cli";
import { loadDeployments } from "./src/settings/environments";
import { settingsFiles, settingsWarnings } from "./src/settings/plan-time";
import { PrefectEcsStack } from "./src/stack";
import { StateStack } from "./src/state-stack";

/**
 * Reads terraform.tfvars (optional) and environments/*.tfvars (optional), validates every deployment
 * before building anything, and synthesizes one stack per environment.
 */
async function main(): Promise<void> {
  const deployments = await loadDeployments();
  const app = new App();
  for (const deployment of deployments) {
    const stack = new PrefectEcsStack(app, deployment);
    // Annotations are what `cdktf synth` prints from an app (its plain stdout is not shown).
    for (const note of [...stack.notes, ...settingsWarnings(deployment, settingsFiles(deployment.varFile))]) Annotations.of(stack).addWarning(note);
  }
  // With remote state, the bucket (and lock table) come from their own stack, deployed first.
  if (deployments[0].settings.state_bucket) new StateStack(app, deployments[0]);
  app.synth();
}

runCli(main);
