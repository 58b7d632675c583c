import { runScript } from "../src/cli";
import { stackName } from "../src/naming";
import { loadDeployments, selectDeployment } from "../src/settings/environments";

const USAGE = "npm run --silent stack-name [-- <environment>]";

/** The worker stack's name for the named (or only) environment. */
export async function stackNameFor(environment: string | undefined, projectDir = "."): Promise<string> {
  return stackName(selectDeployment(await loadDeployments(projectDir), environment, USAGE).settings);
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description: "Prints the worker stack's name (<project_name>-<environment>) without loading any provider classes.",
    run: async ([environment]) => console.log(await stackNameFor(environment)),
  });
}
