/**
 * The three flow commands: build and push the flow image, register the deployments, start and follow a run.
 * Each checks its tools, the stack's outputs and credentials first (one line per problem), then does one step.
 * External tools run with the environment given, so tests put named stand-ins first on PATH.
 */
import { spawnSync, type StdioOptions } from "node:child_process";
import { join } from "node:path";
import { commitTag, dockerPlatform } from "./images";
import { failOn, type FlowStackOutputs, missingToolProblems, parseRepositoryUrl } from "./stack-outputs";

export const FLOWS_DIR = "flows";
export const DEFAULT_DEPLOYMENT = "platform-check/platform-check";

export interface CommandContext {
  /** Environment for every tool; PATH decides which tools run. The API key reaches Prefect only through it. */
  readonly env: NodeJS.ProcessEnv;
  /** The project root (holding flows/). */
  readonly projectDir: string;
  /** Progress and hints go here (stderr in the scripts); stdout is kept for the command's one result. */
  readonly log: (line: string) => void;
  /** Stream long-running tools' output to stderr instead of capturing it. @default false */
  readonly stream?: boolean;
}

interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  ctx: CommandContext,
  tool: string,
  args: string[],
  opts: { cwd?: string; input?: string; stream?: boolean; env?: NodeJS.ProcessEnv } = {},
): Ran {
  // Streamed: the tool's stdout goes to our stderr, so stdout carries only the result.
  const stdio: StdioOptions = opts.stream && ctx.stream ? ["pipe", 2, 2] : "pipe";
  const result = spawnSync(tool, args, {
    cwd: opts.cwd ?? ctx.projectDir,
    env: opts.env ?? ctx.env,
    input: opts.input,
    encoding: "utf8",
    stdio,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

const firstLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .find((line) => line.trim())
    ?.trim() ?? "no message";

function awsCredentialProblem(ctx: CommandContext, region: string): string | undefined {
  const identity = run(ctx, "aws", ["sts", "get-caller-identity", "--region", region, "--output", "json"]);
  return identity.status === 0
    ? undefined
    : `no usable AWS credentials (aws sts get-caller-identity: ${firstLine(identity.stderr)}): set AWS_PROFILE or assume a role, then run this again`;
}

/** Prefect reads its URL and key from the environment only; this checks both are there without showing either. */
export function prefectCredentialProblems(env: NodeJS.ProcessEnv): string[] {
  const url = env.PREFECT_API_URL;
  if (!url)
    return [
      "PREFECT_API_URL is not set: export it (and PREFECT_API_KEY for Prefect Cloud) in this shell; the commands pass credentials only through the environment",
    ];
  if (/^https:\/\/api\.prefect\.cloud\//.test(url) && !env.PREFECT_API_KEY)
    return ["PREFECT_API_KEY is not set: Prefect Cloud needs it; export it in this shell (never pass it as an argument)"];
  return [];
}

function gitCommit(ctx: CommandContext): string {
  const head = run(ctx, "git", ["rev-parse", "HEAD"]);
  if (head.status !== 0) throw new Error(`git rev-parse HEAD failed (${firstLine(head.stderr)}): run this in the project's git checkout`);
  return head.stdout.trim();
}

// ---------------------------------------------------------------------------------------------------------
// flow-image

/** Builds the flow image for the flow runs' architecture, tagged with the commit, and pushes it; returns its reference. */
export function buildFlowImage(outputs: FlowStackOutputs, ctx: CommandContext): string {
  failOn(missingToolProblems(["git", "aws", "docker"], ctx.env));
  const repository = parseRepositoryUrl(outputs.flows_repository_url);
  const platform = dockerPlatform(outputs.flow_run_cpu_architecture);
  failOn([awsCredentialProblem(ctx, repository.region)].filter((p): p is string => p !== undefined));

  const commit = gitCommit(ctx);
  const dirty = run(ctx, "git", ["status", "--porcelain", "--", FLOWS_DIR]);
  if (dirty.status !== 0 || dirty.stdout.trim()) {
    throw new Error(
      `${FLOWS_DIR}/ has uncommitted changes: commit them first; the image is tagged with the commit, and the IMMUTABLE repository never re-tags it`,
    );
  }
  const tag = commitTag(commit);
  const image = `${outputs.flows_repository_url}:${tag}`;

  const existing = run(ctx, "aws", [
    "ecr",
    "describe-images",
    "--repository-name",
    repository.name,
    "--image-ids",
    `imageTag=${tag}`,
    "--region",
    repository.region,
    "--output",
    "json",
  ]);
  if (existing.status === 0) {
    ctx.log(`${image} is already pushed (tags are immutable); nothing to build`);
    return image;
  }
  if (!/ImageNotFoundException/.test(existing.stderr)) throw new Error(`aws ecr describe-images failed: ${firstLine(existing.stderr)}`);

  // The registry password goes through stdin: never an argument (visible in ps) or a line of output.
  const password = run(ctx, "aws", ["ecr", "get-login-password", "--region", repository.region]);
  if (password.status !== 0) throw new Error(`aws ecr get-login-password failed: ${firstLine(password.stderr)}`);
  const login = run(ctx, "docker", ["login", "--username", "AWS", "--password-stdin", repository.registry], { input: password.stdout.trim() });
  if (login.status !== 0) throw new Error(`docker login to ${repository.registry} failed: ${firstLine(login.stderr)}`);

  ctx.log(`Building ${image} for ${platform}`);
  // --provenance=false pushes a plain image manifest: an attestation index adds untagged manifests that the
  // lifecycle rule for untagged images would expire from under the tagged image.
  const build = run(
    ctx,
    "docker",
    ["buildx", "build", "--platform", platform, "--provenance=false", "--tag", image, "--push", join(ctx.projectDir, FLOWS_DIR)],
    { stream: true },
  );
  if (build.status !== 0) throw new Error(`docker buildx build failed (exit ${build.status}): ${firstLine(build.stderr || "see the output above")}`);
  return image;
}

// ---------------------------------------------------------------------------------------------------------
// flow-deploy

/** Registers flows/prefect.yaml's deployments on the stack's pool with the commit-tagged (or given) image. */
export function registerDeployments(outputs: FlowStackOutputs, ctx: CommandContext, given?: { image?: string }): string {
  failOn(missingToolProblems(given?.image ? ["prefect"] : ["git", "aws", "prefect"], ctx.env));
  const problems = prefectCredentialProblems(ctx.env);
  const repository = parseRepositoryUrl(outputs.flows_repository_url);
  if (!given?.image) {
    const aws = awsCredentialProblem(ctx, repository.region);
    if (aws) problems.push(aws);
  }
  failOn(problems);

  let image = given?.image;
  if (!image) {
    const tag = commitTag(gitCommit(ctx));
    const found = run(ctx, "aws", [
      "ecr",
      "describe-images",
      "--repository-name",
      repository.name,
      "--image-ids",
      `imageTag=${tag}`,
      "--region",
      repository.region,
      "--output",
      "json",
    ]);
    if (found.status !== 0)
      throw new Error(`${outputs.flows_repository_url}:${tag} is not pushed: run npm run flow-image first (${firstLine(found.stderr)})`);
    image = `${outputs.flows_repository_url}:${tag}`;
  }
  ctx.log(`Registering deployments on work pool ${outputs.work_pool_name} with ${image}`);
  const env = {
    ...ctx.env,
    PREFECT_ECS_WORK_POOL: outputs.work_pool_name,
    PREFECT_ECS_FLOW_IMAGE: image,
    PREFECT_ECS_EFS_MOUNT_PATH: outputs.flow_run_efs_mount_path,
  };
  const deploy = run(ctx, "prefect", ["--no-prompt", "deploy", "--all"], { cwd: join(ctx.projectDir, FLOWS_DIR), env, stream: true });
  if (deploy.status !== 0)
    throw new Error(`prefect deploy failed (exit ${deploy.status}): ${firstLine(deploy.stderr || deploy.stdout || "see the output above")}`);
  return image;
}

// ---------------------------------------------------------------------------------------------------------
// flow-run

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** The ECS task of a flow run, from prefect-aws's infrastructure_pid `<cluster arn>::<task arn>`. */
export function taskOfInfrastructurePid(text: string): { clusterArn?: string; taskArn: string; taskId: string } | undefined {
  const pid = /infrastructure_pid["']?\s*[:=]\s*["']([^"']+)["']/.exec(text)?.[1];
  if (!pid) return undefined;
  const [clusterArn, taskArn] = pid.includes("::") ? pid.split("::") : [undefined, pid];
  // The pid comes from the Prefect API: only well-formed ECS ARNs reach the commands and the hints printed to copy.
  if (!/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/[A-Za-z0-9_-]{1,255}\/[0-9a-f]{32}$/.test(taskArn)) return undefined;
  if (clusterArn !== undefined && !/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/.test(clusterArn)) return undefined;
  return { clusterArn, taskArn, taskId: taskArn.split("/").pop()! };
}

/** The parts of `aws ecs describe-tasks` output the hints use. */
interface EcsTask {
  lastStatus?: string;
  stoppedReason?: string;
  containers?: { name?: string; exitCode?: number; reason?: string }[];
}

export interface FlowRunResult {
  readonly flowRunId: string;
  readonly completed: boolean;
  /** Where to look: log group and stream, the task's stopped reason. */
  readonly hints: string[];
}

/** Starts a run of a deployment, follows it to its final state, and says where its logs are. */
export function runDeployment(outputs: FlowStackOutputs, ctx: CommandContext, deployment = DEFAULT_DEPLOYMENT, timeoutSeconds = 1800): FlowRunResult {
  failOn(missingToolProblems(["prefect", "aws"], ctx.env));
  const region = outputs.cluster_arn.split(":")[3];
  failOn([...prefectCredentialProblems(ctx.env), awsCredentialProblem(ctx, region)].filter((p): p is string => p !== undefined));

  ctx.log(`Starting ${deployment} on work pool ${outputs.work_pool_name}`);
  const started = run(ctx, "prefect", ["deployment", "run", deployment, "--watch", "--watch-timeout", String(timeoutSeconds)], {
    cwd: join(ctx.projectDir, FLOWS_DIR),
  });
  ctx.log(started.stdout.trimEnd());
  const flowRunId = /UUID:\s*([0-9a-f-]{36})/.exec(started.stdout)?.[1] ?? UUID.exec(started.stdout)?.[0];
  if (!flowRunId) throw new Error(`prefect deployment run ${deployment} started no flow run: ${firstLine(started.stderr || started.stdout)}`);

  const completed = started.status === 0;
  const hints: string[] = [];
  // JSON output is printed without wrapping; the pretty form may fold a long task ARN.
  const inspect = run(ctx, "prefect", ["flow-run", "inspect", flowRunId, "--output", "json"]);
  const task = inspect.status === 0 ? taskOfInfrastructurePid(inspect.stdout) : undefined;
  if (inspect.status !== 0) {
    hints.push(`prefect flow-run inspect ${flowRunId} failed (${firstLine(inspect.stderr || inspect.stdout)}); open the run in the Prefect UI`);
  } else if (!task) {
    hints.push(
      `No ECS task was started for flow run ${flowRunId}: a run stuck in Pending or Late means no worker picked it up; see the worker's log group ${outputs.worker_log_group}:`,
      `  aws logs tail ${outputs.worker_log_group} --since 30m --region ${region}`,
    );
  } else {
    const stream = `flow-run/prefect/${task.taskId}`;
    hints.push(
      `Flow-run logs: log group ${outputs.flow_run_log_group}, stream ${stream}:`,
      `  aws logs tail ${outputs.flow_run_log_group} --log-stream-names ${stream} --region ${region}`,
    );
    if (!completed) {
      const described = run(ctx, "aws", [
        "ecs",
        "describe-tasks",
        "--cluster",
        task.clusterArn ?? outputs.cluster_arn,
        "--tasks",
        task.taskArn,
        "--region",
        region,
        "--output",
        "json",
      ]);
      const ecsTask = described.status === 0 ? (JSON.parse(described.stdout || "{}").tasks?.[0] as EcsTask | undefined) : undefined;
      if (ecsTask) {
        const containers = (ecsTask.containers ?? []).filter((c) => c.reason || c.exitCode !== undefined);
        hints.push(`ECS task ${task.taskId}: ${ecsTask.lastStatus ?? "unknown status"}; stopped reason: ${ecsTask.stoppedReason ?? "none"}`);
        for (const c of containers) hints.push(`  container ${c.name}: exit code ${c.exitCode ?? "none"}${c.reason ? `, ${c.reason}` : ""}`);
      } else {
        hints.push(`ECS task ${task.taskArn} is no longer described by ECS (stopped tasks are kept about an hour); its logs above are what remains`);
      }
    }
  }
  return { flowRunId, completed, hints };
}
