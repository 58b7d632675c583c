import { Annotations, App } from "cdktf";
import { parseSettings, SettingsError } from "./src/settings";
import { readTfvars } from "./src/settings/tfvars";
import { PrefectEcsStack } from "./src/stack";
import { StateStack } from "./src/state-stack";

/** Reads terraform.tfvars (optional), validates it once, and synthesizes the stacks. */
async function main(): Promise<void> {
  const file = "terraform.tfvars";
  const deployment = parseSettings(await readTfvars(file), file);
  const app = new App();
  const stack = new PrefectEcsStack(app, deployment);
  // With remote state, the bucket (and lock table) come from their own stack, deployed first.
  if (deployment.settings.state_bucket) new StateStack(app, deployment);
  // Annotations are what `cdktf synth` prints from an app (its plain stdout is not shown).
  for (const note of stack.notes) Annotations.of(stack).addWarning(note);
  app.synth();
}

main().catch((error: unknown) => {
  console.error(error instanceof SettingsError ? error.message : error);
  process.exit(1);
});
