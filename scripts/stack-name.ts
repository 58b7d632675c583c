/** npm run --silent stack-name [-- <environment>]: the worker stack's name for a deployment. */
import { runCli } from "../src/cli";
import { loadDeployments, selectDeployment } from "../src/settings/environments";
import { stackName } from "../src/naming";

runCli(async () => {
  const deployment = selectDeployment(await loadDeployments(), process.argv[2], "npm run --silent stack-name -- <environment>");
  console.log(stackName(deployment.settings));
});
