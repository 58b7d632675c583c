/** npm run --silent stack-name: the worker stack's name for the deployment terraform.tfvars describes. */
import { parseSettings, SettingsError } from "../src/settings";
import { readTfvars } from "../src/settings/tfvars";
import { stackName } from "../src/stack";

readTfvars("terraform.tfvars")
  .then((values) => console.log(stackName(parseSettings(values).settings)))
  .catch((error: unknown) => {
    console.error(error instanceof SettingsError || error instanceof Error ? error.message : error);
    process.exit(1);
  });
