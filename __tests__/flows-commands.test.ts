import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CommandContext, taskOfInfrastructurePid } from "../src/flows/commands";
import { parseFlowStackOutputs } from "../src/flows/stack-outputs";
import { flowDeploy } from "../scripts/flow-deploy";
import { flowImage } from "../scripts/flow-image";
import { flowRun } from "../scripts/flow-run";
import { PREFECT_AWS_VERSION, PREFECT_PIP_INSTALL, PREFECT_VERSION } from "../src/versions";

const REGISTRY_PASSWORD = "ecr-password-CANARY-7d1e";
const API_KEY = "pnu_CANARY_flow_commands_never_shown";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev/flows";
const IMAGE = `${REPOSITORY}:sha-0123456789ab`;
const TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/prefect-ecs-dev/4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21";
const CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prefect-ecs-dev";
const FLOW_RUN_ID = "3f2c1d0e-1111-4222-8333-944455556666";

/** What `terraform output -json` prints for a deployed stack (the fixture the terraform double serves). */
const OUTPUTS_FIXTURE = Object.fromEntries(
  Object.entries({
    flows_repository_url: REPOSITORY,
    work_pool_name: "dev-prefect-ecs",
    flow_run_cpu_architecture: "X86_64",
    flow_run_efs_mount_path: "/mnt/efs",
    flow_run_log_group: "/ecs/prefect-ecs-dev/flow-runs",
    worker_log_group: "/ecs/prefect-ecs-dev/worker",
    cluster_arn: CLUSTER_ARN,
    vpc_id: "vpc-0123456789abcdef0",
  }).map(([name, value]) => [name, { sensitive: false, type: "string", value }]),
);

/**
 * One test double for every external tool (terraform, git, aws, docker, prefect), named by the file it is
 * linked as. It records its arguments, working directory, what it got on stdin and which credentials it saw
 * (as booleans), and answers the way the real tool does; DOUBLE_* variables pick failure cases.
 */
const DOUBLE = `#!${process.execPath}
const fs = require("fs");
const path = require("path");
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
const e = process.env;
let stdin = "";
if (tool === "docker" && args[0] === "login") stdin = fs.readFileSync(0, "utf8");
fs.appendFileSync(e.DOUBLE_LOG, JSON.stringify({ tool, args, cwd: process.cwd(), stdin,
  hasKey: !!e.PREFECT_API_KEY, pool: e.PREFECT_ECS_WORK_POOL, image: e.PREFECT_ECS_FLOW_IMAGE, efs: e.PREFECT_ECS_EFS_MOUNT_PATH }) + "\\n");
const is = (...prefix) => prefix.every((p, i) => args[i] === p);
const fail = (code, message) => { console.error(message); process.exit(code); };
if (tool === "terraform" && is("output", "-json")) {
  if (e.DOUBLE_UNDEPLOYED) { console.log("{}"); process.exit(0); }
  process.stdout.write(fs.readFileSync(e.DOUBLE_OUTPUTS, "utf8"));
} else if (tool === "git" && is("rev-parse", "HEAD")) console.log("${COMMIT}");
else if (tool === "git" && is("status", "--porcelain")) { if (e.DOUBLE_DIRTY) console.log(" M flows/platform_check.py"); }
else if (tool === "aws" && is("sts", "get-caller-identity")) {
  if (e.DOUBLE_NO_AWS_CREDENTIALS) fail(253, 'Unable to locate credentials. You can configure credentials by running "aws configure".');
  console.log(JSON.stringify({ Account: "123456789012" }));
} else if (tool === "aws" && is("ecr", "describe-images")) {
  if (!e.DOUBLE_IMAGE_EXISTS) fail(254, "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageTag:'sha-0123456789ab'} does not exist");
  console.log(JSON.stringify({ imageDetails: [{ imageTags: ["sha-0123456789ab"] }] }));
} else if (tool === "aws" && is("ecr", "get-login-password")) console.log("${REGISTRY_PASSWORD}");
else if (tool === "aws" && is("ecs", "describe-tasks")) {
  console.log(JSON.stringify({ tasks: [{ lastStatus: "STOPPED", stoppedReason: "Essential container in task exited",
    containers: [{ name: "prefect", exitCode: 1, reason: "CannotStartContainerError: exec format error" }] }] }));
} else if (tool === "docker" && is("login")) { if (stdin !== "${REGISTRY_PASSWORD}") fail(1, "Error: Cannot perform an interactive login"); console.log("Login Succeeded"); }
else if (tool === "docker" && is("buildx", "build")) { if (e.DOUBLE_BUILD_FAILS) fail(1, "ERROR: failed to solve: process did not complete successfully"); console.log("pushed"); }
else if (tool === "prefect" && is("--no-prompt", "deploy", "--all")) console.log("Deployment 'platform-check/platform-check' successfully created");
else if (tool === "prefect" && is("deployment", "run")) {
  console.log("Creating flow run for deployment '" + args[2] + "'...");
  console.log("Created flow run 'gentle-fox'.");
  console.log(" └── UUID: ${FLOW_RUN_ID}");
  console.log("Watching flow run 'gentle-fox'...");
  if (e.DOUBLE_RUN_FAILS || e.DOUBLE_PENDING) { console.log("Flow run finished in state 'Failed'."); process.exit(1); }
  console.log("Flow run finished successfully in 'Completed'.");
} else if (tool === "prefect" && is("flow-run", "inspect")) {
  if (!is("flow-run", "inspect", args[2], "--output", "json")) fail(2, "test double: inspect without --output json");
  console.log(JSON.stringify({ id: args[2], name: "gentle-fox", infrastructure_pid: e.DOUBLE_PENDING ? null : "${CLUSTER_ARN}::${TASK_ARN}" }, null, 2));
} else fail(64, "test double: unexpected call " + tool + " " + args.join(" "));
`;

interface Call {
  tool: string;
  args: string[];
  cwd: string;
  stdin: string;
  hasKey: boolean;
  pool?: string;
  image?: string;
  efs?: string;
}

/** A project folder (terraform.tfvars, the synthesized stack folder, flows/) and a bin/ of doubles for the listed tools. */
function project(tools = ["terraform", "git", "aws", "docker", "prefect"], synthesized = true) {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-flows-"));
  writeFileSync(join(dir, "terraform.tfvars"), 'availability_zones = ["us-east-1a", "us-east-1b"]\n');
  if (synthesized) mkdirSync(join(dir, "cdktf.out", "stacks", "prefect-ecs-dev"), { recursive: true });
  mkdirSync(join(dir, "flows"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of tools) {
    writeFileSync(join(bin, tool), DOUBLE);
    chmodSync(join(bin, tool), 0o755);
  }
  const outputs = join(dir, "outputs.json");
  writeFileSync(outputs, JSON.stringify(OUTPUTS_FIXTURE));
  return { dir, bin, log: join(dir, "calls.jsonl"), outputs };
}

async function invoke(
  command: (args: string[], ctx: CommandContext) => Promise<string>,
  args: string[],
  opts: { tools?: string[]; env?: Record<string, string>; outputs?: object; synthesized?: boolean } = {},
) {
  const p = project(opts.tools, opts.synthesized);
  if (opts.outputs) writeFileSync(p.outputs, JSON.stringify(opts.outputs));
  const env = {
    PATH: p.bin,
    DOUBLE_LOG: p.log,
    DOUBLE_OUTPUTS: p.outputs,
    PREFECT_API_URL: "https://api.prefect.cloud/api/accounts/a/workspaces/w",
    PREFECT_API_KEY: API_KEY,
    ...opts.env,
  };
  const logged: string[] = [];
  let result: string | undefined;
  let error: Error | undefined;
  try {
    result = await command(args, { env, projectDir: p.dir, log: (line) => logged.push(line) });
  } catch (caught) {
    error = caught as Error;
  }
  // No log file: no tool ran.
  const calls: Call[] = existsSync(p.log)
    ? readFileSync(p.log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
    : [];
  const printed = [result ?? "", error?.message ?? "", ...logged].join("\n");
  return { result, error, calls, printed, dir: p.dir, steps: calls.map((c) => [c.tool, ...c.args.slice(0, 2)].join(" ")) };
}

describe("npm run flow-image, with test doubles for terraform, git, aws and docker", () => {
  it("GIVEN a deployed stack and a clean checkout WHEN run THEN it logs in through stdin, builds for linux/amd64 with the commit tag, pushes and returns the reference", async () => {
    const run = await invoke(flowImage, []);
    expect(run.error).toBeUndefined();
    expect(run.result).toBe(IMAGE);
    expect(run.steps).toEqual([
      "terraform output -json",
      "aws sts get-caller-identity",
      "git rev-parse HEAD",
      "git status --porcelain",
      "aws ecr describe-images",
      "aws ecr get-login-password",
      "docker login --username",
      "docker buildx build",
    ]);
    expect(run.calls[0].cwd).toBe(join(run.dir, "cdktf.out", "stacks", "prefect-ecs-dev"));
    const login = run.calls.find((c) => c.tool === "docker" && c.args[0] === "login")!;
    expect(login.args).toEqual(["login", "--username", "AWS", "--password-stdin", "123456789012.dkr.ecr.us-east-1.amazonaws.com"]);
    expect(login.stdin).toBe(REGISTRY_PASSWORD);
    expect(run.calls.at(-1)!.args).toEqual([
      "buildx",
      "build",
      "--platform",
      "linux/amd64",
      "--provenance=false",
      "--tag",
      IMAGE,
      "--push",
      join(run.dir, "flows"),
    ]);
  });

  it("GIVEN any run WHEN it logs in THEN the registry password is in no argument and in nothing printed", async () => {
    const run = await invoke(flowImage, []);
    expect(run.calls.length).toBeGreaterThan(5);
    for (const call of run.calls) expect(call.args.join(" ")).not.toContain(REGISTRY_PASSWORD);
    expect(run.printed).not.toContain(REGISTRY_PASSWORD);
  });

  it("GIVEN ARM64 flow runs WHEN run THEN it builds for linux/arm64", async () => {
    const outputs = { ...OUTPUTS_FIXTURE, flow_run_cpu_architecture: { value: "ARM64" } };
    const run = await invoke(flowImage, [], { outputs });
    const build = run.calls.find((c) => c.args[0] === "buildx")!;
    expect(build.args.slice(2, 4)).toEqual(["--platform", "linux/arm64"]);
  });

  it("GIVEN the commit's image is already pushed WHEN run THEN it builds nothing and returns the reference (tags are immutable)", async () => {
    const run = await invoke(flowImage, [], { env: { DOUBLE_IMAGE_EXISTS: "1" } });
    expect(run.result).toBe(IMAGE);
    expect(run.calls.filter((c) => c.tool === "docker")).toEqual([]);
    expect(run.printed).toContain("already pushed");
  });

  it("GIVEN uncommitted changes in flows/ WHEN run THEN it stops before building, saying to commit", async () => {
    const run = await invoke(flowImage, [], { env: { DOUBLE_DIRTY: "1" } });
    expect(run.error?.message).toMatch(/^flows\/ has uncommitted changes: commit them first/);
    expect(run.calls.filter((c) => c.tool === "docker")).toEqual([]);
  });

  it("GIVEN docker and aws missing WHEN run THEN one line each and nothing runs", async () => {
    const run = await invoke(flowImage, [], { tools: ["terraform", "git"] });
    expect(run.error?.message.split("\n")).toEqual([
      expect.stringMatching(/^aws is not on PATH: install the AWS CLI/),
      expect.stringMatching(/^docker is not on PATH: install Docker with Buildx/),
    ]);
    expect(run.calls).toEqual([]);
  });

  it("GIVEN a project that was never synthesized WHEN run THEN it says to synth (and deploy), and runs nothing", async () => {
    const run = await invoke(flowImage, [], { synthesized: false });
    expect(run.error?.message).toMatch(
      /^prefect-ecs-dev is not synthesized here \(no \S*cdktf\.out\/stacks\/prefect-ecs-dev\): run npm run synth, and npm run deploy if it is not deployed yet$/,
    );
    expect(run.calls).toEqual([]);
  });

  it("GIVEN a stack that is not deployed WHEN run THEN it says to deploy first and runs nothing else", async () => {
    const run = await invoke(flowImage, [], { env: { DOUBLE_UNDEPLOYED: "1" } });
    expect(run.error?.message).toBe("prefect-ecs-dev is not deployed (terraform output is empty): run npm run deploy first");
    expect(run.steps).toEqual(["terraform output -json"]);
  });

  it("GIVEN no AWS credentials WHEN run THEN one line naming the fix, before git or docker run", async () => {
    const run = await invoke(flowImage, [], { env: { DOUBLE_NO_AWS_CREDENTIALS: "1" } });
    expect(run.error?.message).toMatch(
      /^no usable AWS credentials \(aws sts get-caller-identity: Unable to locate credentials\..*\): set AWS_PROFILE or assume a role/,
    );
    expect(run.steps).toEqual(["terraform output -json", "aws sts get-caller-identity"]);
  });

  it("GIVEN the build fails WHEN run THEN it fails with the build's message", async () => {
    const run = await invoke(flowImage, [], { env: { DOUBLE_BUILD_FAILS: "1" } });
    expect(run.error?.message).toBe("docker buildx build failed (exit 1): ERROR: failed to solve: process did not complete successfully");
  });
});

describe("npm run flow-deploy, with test doubles", () => {
  it("GIVEN the commit's image is pushed WHEN run THEN prefect deploy --all runs in flows/ with the pool, image and EFS path from the outputs", async () => {
    const run = await invoke(flowDeploy, [], { env: { DOUBLE_IMAGE_EXISTS: "1" } });
    expect(run.error).toBeUndefined();
    expect(run.steps).toEqual([
      "terraform output -json",
      "aws sts get-caller-identity",
      "git rev-parse HEAD",
      "aws ecr describe-images",
      "prefect --no-prompt deploy",
    ]);
    const deploy = run.calls.at(-1)!;
    expect(deploy).toMatchObject({
      args: ["--no-prompt", "deploy", "--all"],
      cwd: join(run.dir, "flows"),
      pool: "dev-prefect-ecs",
      image: IMAGE,
      efs: "/mnt/efs",
      hasKey: true,
    });
    expect(run.result).toBe(`Registered the deployments in flows/prefect.yaml on work pool dev-prefect-ecs with ${IMAGE}`);
  });

  it("GIVEN the API key WHEN registering THEN it reaches prefect only through the environment: in no argument and nothing printed", async () => {
    const run = await invoke(flowDeploy, [], { env: { DOUBLE_IMAGE_EXISTS: "1" } });
    expect(run.calls.at(-1)!.hasKey).toBe(true);
    for (const call of run.calls) expect(JSON.stringify(call.args)).not.toContain(API_KEY);
    expect(run.printed).not.toContain(API_KEY);
  });

  it("GIVEN --image WHEN run THEN that image is registered without git or aws", async () => {
    const run = await invoke(flowDeploy, ["--image", "ghcr.io/acme/flows:sha-abc"], { tools: ["terraform", "prefect"] });
    expect(run.error).toBeUndefined();
    expect(run.steps).toEqual(["terraform output -json", "prefect --no-prompt deploy"]);
    expect(run.calls.at(-1)!.image).toBe("ghcr.io/acme/flows:sha-abc");
  });

  it("GIVEN the commit's image is not pushed WHEN run THEN it says to run flow-image first and registers nothing", async () => {
    const run = await invoke(flowDeploy, []);
    expect(run.error?.message).toMatch(
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/prefect-ecs-dev\/flows:sha-0123456789ab is not pushed: run npm run flow-image first/,
    );
    expect(run.calls.filter((c) => c.tool === "prefect")).toEqual([]);
  });

  it("GIVEN no PREFECT_API_URL WHEN run THEN one line, and prefect never runs", async () => {
    const run = await invoke(flowDeploy, [], { env: { PREFECT_API_URL: "" } });
    expect(run.error?.message.split("\n")[0]).toMatch(/^PREFECT_API_URL is not set: export it/);
    expect(run.calls.filter((c) => c.tool === "prefect")).toEqual([]);
  });

  it("GIVEN Prefect Cloud without PREFECT_API_KEY WHEN run THEN one line saying to export it", async () => {
    const run = await invoke(flowDeploy, [], { env: { PREFECT_API_KEY: "", DOUBLE_IMAGE_EXISTS: "1" } });
    expect(run.error?.message).toBe("PREFECT_API_KEY is not set: Prefect Cloud needs it; export it in this shell (never pass it as an argument)");
  });

  it("GIVEN no prefect on PATH WHEN run THEN it says how to install it and runs nothing", async () => {
    const run = await invoke(flowDeploy, [], { tools: ["terraform", "git", "aws"] });
    expect(run.error?.message).toBe(`prefect is not on PATH: ${PREFECT_PIP_INSTALL} (the versions the worker runs, from src/versions.ts)`);
    expect(PREFECT_PIP_INSTALL).toBe(`pip install 'prefect==${PREFECT_VERSION}' 'prefect-aws==${PREFECT_AWS_VERSION}'`);
    expect(run.calls).toEqual([]);
  });
});

describe("npm run flow-run, with test doubles", () => {
  it("GIVEN a run that completes WHEN run THEN it follows it with --watch and prints the flow-run log group and stream", async () => {
    const run = await invoke(flowRun, []);
    expect(run.error).toBeUndefined();
    expect(run.result).toBe(`flow run ${FLOW_RUN_ID} completed`);
    expect(run.calls.find((c) => c.tool === "prefect" && c.args[0] === "deployment")!.args).toEqual([
      "deployment",
      "run",
      "platform-check/platform-check",
      "--watch",
      "--watch-timeout",
      "1800",
    ]);
    expect(run.printed).toContain(
      "aws logs tail /ecs/prefect-ecs-dev/flow-runs --log-stream-names flow-run/prefect/4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21 --region us-east-1",
    );
    expect(run.calls.filter((c) => c.args[0] === "ecs")).toEqual([]);
  });

  it("GIVEN a run that fails WHEN run THEN it exits with an error and prints the task's stopped reason and container reason", async () => {
    const run = await invoke(flowRun, ["--deployment", "platform-check/other"], { env: { DOUBLE_RUN_FAILS: "1" } });
    expect(run.error?.message).toBe(`flow run ${FLOW_RUN_ID} did not complete; the lines above say where to look`);
    const describe = run.calls.find((c) => c.args[0] === "ecs")!;
    expect(describe.args).toEqual([
      "ecs",
      "describe-tasks",
      "--cluster",
      CLUSTER_ARN,
      "--tasks",
      TASK_ARN,
      "--region",
      "us-east-1",
      "--output",
      "json",
    ]);
    expect(run.printed).toContain("ECS task 4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21: STOPPED; stopped reason: Essential container in task exited");
    expect(run.printed).toContain("container prefect: exit code 1, CannotStartContainerError: exec format error");
    expect(run.printed).toContain("stream flow-run/prefect/4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21");
  });

  it("GIVEN a run no task was started for WHEN it ends THEN it points at the worker's log group", async () => {
    const run = await invoke(flowRun, [], { env: { DOUBLE_PENDING: "1" } });
    expect(run.error).toBeDefined();
    expect(run.printed).toContain(`No ECS task was started for flow run ${FLOW_RUN_ID}`);
    expect(run.printed).toContain("aws logs tail /ecs/prefect-ecs-dev/worker --since 30m --region us-east-1");
  });

  it("GIVEN the API key WHEN a run is followed THEN no argument or printed line holds it", async () => {
    const run = await invoke(flowRun, [], { env: { DOUBLE_RUN_FAILS: "1" } });
    for (const call of run.calls) expect(JSON.stringify(call.args)).not.toContain(API_KEY);
    expect(run.printed).not.toContain(API_KEY);
    expect(run.calls.filter((c) => c.tool === "prefect").every((c) => c.hasKey)).toBe(true);
  });

  it("GIVEN two environments and none named WHEN run THEN it asks for one and runs nothing", async () => {
    const p = project();
    mkdirSync(join(p.dir, "environments"));
    writeFileSync(join(p.dir, "environments", "dev.tfvars"), "");
    writeFileSync(join(p.dir, "environments", "prod.tfvars"), "");
    await expect(flowRun([], { env: { PATH: p.bin, DOUBLE_LOG: p.log }, projectDir: p.dir, log: () => {} })).rejects.toThrow(
      /name an environment: .*flow-run.*one of dev, prod/,
    );
  });
});

describe("reading the stack's outputs", () => {
  it("GIVEN outputs of an older stack version WHEN read THEN the missing ones are named", () => {
    const { flow_run_cpu_architecture: _a, flow_run_efs_mount_path: _b, ...older } = OUTPUTS_FIXTURE;
    expect(() => parseFlowStackOutputs(older, "prefect-ecs-dev", "dev")).toThrow(
      "prefect-ecs-dev's outputs lack flow_run_cpu_architecture, flow_run_efs_mount_path: deploy this version of the stack first (npm run deploy -- dev)",
    );
  });

  it("GIVEN prefect-aws's infrastructure_pid WHEN parsed THEN the cluster and task come apart", () => {
    expect(taskOfInfrastructurePid(`infrastructure_pid='${CLUSTER_ARN}::${TASK_ARN}'`)).toEqual({
      clusterArn: CLUSTER_ARN,
      taskArn: TASK_ARN,
      taskId: "4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21",
    });
    expect(taskOfInfrastructurePid(JSON.stringify({ infrastructure_pid: `${CLUSTER_ARN}::${TASK_ARN}` }))).toMatchObject({
      taskId: "4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21",
    });
    expect(taskOfInfrastructurePid('"infrastructure_pid": null')).toBeUndefined();
  });
});
