import { runScript } from "../src/cli";
import { buildFlowImage, type CommandContext } from "../src/flows/commands";
import { outputsForEnvironment, parseFlowArgs } from "../src/flows/stack-outputs";

const USAGE = "npm run --silent flow-image [-- <environment>]";

/** Builds and pushes the flow image of the named (or only) environment; returns its reference. */
export async function flowImage(args: string[], ctx: CommandContext): Promise<string> {
  const { environment } = parseFlowArgs(args, [], USAGE);
  const outputs = await outputsForEnvironment(environment, ["git", "aws", "docker"], USAGE, ctx.env, ctx.projectDir);
  return buildFlowImage(outputs, ctx);
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Builds flows/ for the flow runs' CPU architecture, tags it sha-<commit>, pushes it to the deployed stack's flows repository and prints the image reference.",
    run: async (args) =>
      console.log(await flowImage(args, { env: process.env, projectDir: process.cwd(), log: (line) => console.error(line), stream: true })),
  });
}
