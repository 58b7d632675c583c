import { runScript } from "../src/cli";
import { type CommandContext, registerDeployments } from "../src/flows/commands";
import { outputsForEnvironment, parseFlowArgs } from "../src/flows/stack-outputs";

const USAGE = "npm run --silent flow-deploy [-- <environment>] [--image <reference>]";

/** Registers flows/prefect.yaml's deployments for the named (or only) environment; returns the line to print. */
export async function flowDeploy(args: string[], ctx: CommandContext): Promise<string> {
  const { environment, flags } = parseFlowArgs(args, ["image"], USAGE);
  const outputs = await outputsForEnvironment(environment, flags.image ? ["prefect"] : ["git", "aws", "prefect"], USAGE, ctx.env, ctx.projectDir);
  const image = registerDeployments(outputs, ctx, { image: flags.image });
  return `Registered the deployments in flows/prefect.yaml on work pool ${outputs.work_pool_name} with ${image}`;
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Registers flows/prefect.yaml's deployments (prefect deploy --all) on the deployed stack's work pool with the commit's image " +
      "(or --image). Reads PREFECT_API_URL and PREFECT_API_KEY from the environment only.",
    run: async (args) =>
      console.log(await flowDeploy(args, { env: process.env, projectDir: process.cwd(), log: (line) => console.error(line), stream: true })),
  });
}
