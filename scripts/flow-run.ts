import { runScript } from "../src/cli";
import { type CommandContext, DEFAULT_DEPLOYMENT, runDeployment } from "../src/flows/commands";
import { outputsForEnvironment, parseFlowArgs } from "../src/flows/stack-outputs";

const USAGE = `npm run --silent flow-run [-- <environment>] [--deployment <flow>/<deployment>] (default ${DEFAULT_DEPLOYMENT})`;

/** Runs a deployment to its final state; logs where to look, returns the success line, throws when the run fails. */
export async function flowRun(args: string[], ctx: CommandContext): Promise<string> {
  const { environment, flags } = parseFlowArgs(args, ["deployment"], USAGE);
  const outputs = await outputsForEnvironment(environment, ["prefect", "aws"], USAGE, ctx.env, ctx.projectDir);
  const result = runDeployment(outputs, ctx, flags.deployment);
  for (const hint of result.hints) ctx.log(hint);
  if (!result.completed) throw new Error(`flow run ${result.flowRunId} did not complete; the lines above say where to look`);
  return `flow run ${result.flowRunId} completed`;
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description:
      "Starts a run of a deployment, follows it to its final state and prints where its logs are; exits 1 when the run does not complete, " +
      "with the ECS task's stopped reason.",
    run: async (args) => console.log(await flowRun(args, { env: process.env, projectDir: process.cwd(), log: (line) => console.error(line) })),
  });
}
