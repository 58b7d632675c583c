/**
 * npm run sandbox [-- --endpoint URL]: the stack applied to an AWS emulator on this machine, with a real Prefect
 * server and worker (no AWS account, no Prefect Cloud). npm run sandbox -- status shows its status screen;
 * npm run sandbox -- down destroys it and stops everything it started. PREFECT_ECS_PROVIDER_MIRROR names a
 * Terraform provider filesystem mirror for machines without the registry.
 */
import { runScript } from "../src/cli";
import { sandboxDown, sandboxStatusText, sandboxUp } from "../src/sandbox/sandbox";

const USAGE = "npm run sandbox [-- --endpoint URL] | npm run sandbox -- status | npm run sandbox -- down";

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Applies the stack to an AWS emulator on 127.0.0.1 (moto, or --endpoint) with a local Prefect server and the real prefect-aws worker, " +
      "runs a flow run to the point where ECS takes over, and leaves it all running until `npm run sandbox -- down`.",
    run: async (args) => {
      const log = (line: string) => console.log(line);
      const [command, ...rest] = args;
      if (command === "down") return sandboxDown(process.cwd(), log);
      if (command === "status") {
        const status = await sandboxStatusText(process.cwd());
        console.log(status.text);
        if (!status.ok) process.exitCode = 1;
        return;
      }
      const options = command === undefined ? [] : [command, ...rest];
      let endpoint: string | undefined;
      for (let i = 0; i < options.length; i++) {
        if (options[i] === "--endpoint" && options[i + 1]) endpoint = options[++i];
        else throw new Error(`unknown argument ${JSON.stringify(options[i])}\nUsage: ${USAGE}`);
      }
      if (endpoint !== undefined && !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(endpoint))
        throw new Error(
          `--endpoint must be an AWS-compatible endpoint on this machine, such as http://127.0.0.1:4566 (got ${JSON.stringify(endpoint)})`,
        );
      await sandboxUp(process.cwd(), { endpoint, providerMirror: process.env.PREFECT_ECS_PROVIDER_MIRROR, log });
    },
  });
}
