/**
 * npm run status [-- <environment>]: is the deployed worker working? The worker service's counts, last
 * deployment and events, its alarms, and from Prefect the work pool, its workers' heartbeats and its last
 * flow runs. Exits 1 when something is wrong, naming it on the last line.
 *
 * AWS credentials and region come from the usual AWS environment (profile, SSO, AWS_ENDPOINT_URL); the
 * Prefect credential from PREFECT_API_KEY / PREFECT_API_AUTH_STRING (or their TF_VAR_ forms). PREFECT_API_URL,
 * when set, replaces the stack's API URL (e.g. an SSM tunnel to a private server).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { runScript } from "../src/cli";
import { gatherStatus, prefectTarget, renderStatus } from "../src/operations/status";
import { loadDeployments, selectDeployment } from "../src/settings/environments";

const USAGE = "npm run status [-- <environment>]";

export async function statusCommand(environment: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ text: string; ok: boolean }> {
  const { settings } = selectDeployment(await loadDeployments(), environment, USAGE);
  const region = settings.aws_region;
  const { target, missing } = prefectTarget(settings, env);
  const report = await gatherStatus(settings, {
    ecs: new ECSClient({ region, maxAttempts: 2 }),
    cloudwatch: new CloudWatchClient({ region, maxAttempts: 2 }),
    prefect: target,
  });
  return renderStatus(report, missing ? [missing] : []);
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description: "Shows whether the deployed worker is working: its ECS service, alarms, work pool, workers and last flow runs.",
    run: async (args) => {
      const { text, ok } = await statusCommand(args.find((arg) => !arg.startsWith("-")));
      console.log(text);
      if (!ok) process.exitCode = 1;
    },
  });
}
