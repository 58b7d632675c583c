/**
 * The deployed stack's outputs the flow commands need, read with `terraform output -json` in the stack's
 * synthesized directory: the same state `npm run deploy` wrote, so nothing is copied by hand.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { PREFECT_PIP_INSTALL } from "../versions";

export interface FlowStackOutputs {
  readonly flows_repository_url: string;
  readonly work_pool_name: string;
  readonly flow_run_cpu_architecture: string;
  /** Empty when flow runs mount no EFS. */
  readonly flow_run_efs_mount_path: string;
  readonly flow_run_log_group: string;
  readonly worker_log_group: string;
  readonly cluster_arn: string;
}

const REQUIRED: readonly (keyof FlowStackOutputs)[] = [
  "flows_repository_url",
  "work_pool_name",
  "flow_run_cpu_architecture",
  "flow_run_efs_mount_path",
  "flow_run_log_group",
  "worker_log_group",
  "cluster_arn",
];

/** Tools a command runs, with where to get each. */
export const TOOL_HINTS: Readonly<Record<string, string>> = {
  terraform: "terraform is not on PATH: install Terraform (https://developer.hashicorp.com/terraform/install), as for npm run deploy",
  git: "git is not on PATH: install git; the flow image is tagged with the commit",
  aws: "aws is not on PATH: install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
  docker: "docker is not on PATH: install Docker with Buildx (Docker Desktop or docker-ce with docker-buildx-plugin)",
  prefect: `prefect is not on PATH: ${PREFECT_PIP_INSTALL} (the versions the worker runs, from src/versions.ts)`,
};

function onPath(tool: string, path: string | undefined): boolean {
  return (path ?? "").split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One line per tool missing from PATH, checked before anything runs. */
export function missingToolProblems(tools: readonly string[], env: NodeJS.ProcessEnv): string[] {
  return tools.filter((tool) => !onPath(tool, env.PATH)).map((tool) => TOOL_HINTS[tool] ?? `${tool} is not on PATH`);
}

/** Throws one line per problem; a command stops here before any step runs. */
export function failOn(problems: readonly string[]): void {
  if (problems.length) throw new Error(problems.join("\n"));
}

/**
 * Checks raw `terraform output -json` values and keeps what the commands use. An empty object is what
 * Terraform prints for a stack with no state here: not deployed (or deployed from another machine's state).
 */
export function parseFlowStackOutputs(raw: Record<string, { value?: unknown }>, stack: string, environment?: string): FlowStackOutputs {
  const deploy = `npm run deploy${environment ? ` -- ${environment}` : ""}`;
  if (Object.keys(raw).length === 0) throw new Error(`${stack} is not deployed (terraform output is empty): run ${deploy} first`);
  const missing = REQUIRED.filter((key) => typeof raw[key]?.value !== "string");
  if (missing.length) throw new Error(`${stack}'s outputs lack ${missing.join(", ")}: deploy this version of the stack first (${deploy})`);
  return Object.fromEntries(REQUIRED.map((key) => [key, raw[key].value as string])) as unknown as FlowStackOutputs;
}

/** Runs `terraform output -json` in the stack's directory. */
export function readFlowStackOutputs(stackDir: string, stack: string, env: NodeJS.ProcessEnv, environment?: string): FlowStackOutputs {
  // Without the synthesized stack, spawning Terraform there fails with a bare "spawnSync terraform ENOENT".
  if (!existsSync(stackDir))
    throw new Error(
      `${stack} is not synthesized here (no ${stackDir}): run npm run synth, and npm run deploy${environment ? ` -- ${environment}` : ""} if it is not deployed yet`,
    );
  const result = spawnSync("terraform", ["output", "-json"], { cwd: stackDir, env, encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const reason =
      (result.stderr || result.error?.message || "")
        .trim()
        .split("\n")
        .find((line) => line.trim()) ?? "no output";
    throw new Error(`cannot read ${stack}'s outputs in ${stackDir} (${reason}): run npm run deploy${environment ? ` -- ${environment}` : ""} first`);
  }
  let raw: Record<string, { value?: unknown }>;
  try {
    raw = JSON.parse(result.stdout || "{}");
  } catch {
    throw new Error(`terraform output -json in ${stackDir} did not print JSON`);
  }
  return parseFlowStackOutputs(raw, stack, environment);
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` split into the parts the AWS CLI takes. */
export function parseRepositoryUrl(url: string): { registry: string; region: string; name: string } {
  const match = /^(\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/(.+)$/.exec(url);
  if (!match) throw new Error(`flows_repository_url "${url}" is not an ECR repository URL`);
  return { registry: match[1], region: match[2], name: match[3] };
}

/**
 * For a script: checks every tool the command needs (terraform included) first, then reads the outputs of the
 * named (or only) environment's stack.
 */
export async function outputsForEnvironment(
  environment: string | undefined,
  tools: readonly string[],
  usage: string,
  env: NodeJS.ProcessEnv = process.env,
  projectDir = ".",
): Promise<FlowStackOutputs> {
  failOn(missingToolProblems(["terraform", ...tools], env));
  const { loadDeployments, selectDeployment } = await import("../settings/environments");
  const { stackDir, stackName } = await import("../naming");
  const { settings } = selectDeployment(await loadDeployments(projectDir), environment, usage);
  const stack = stackName(settings);
  return readFlowStackOutputs(join(projectDir, stackDir(stack)), stack, env, environment);
}

/** Splits `[environment] [--flag value]…` into the environment and the flags the command knows. */
export function parseFlowArgs(
  args: readonly string[],
  flags: readonly string[],
  usage: string,
): { environment?: string; flags: Record<string, string> } {
  const values: Record<string, string> = {};
  let environment: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (!flags.includes(name) || args[i + 1] === undefined) throw new Error(`unknown option or missing value: ${arg}; usage: ${usage}`);
      values[name] = args[++i];
    } else if (environment === undefined) environment = arg;
    else throw new Error(`unexpected argument "${arg}"; usage: ${usage}`);
  }
  return { environment, flags: values };
}
