/* eslint-disable @typescript-eslint/no-explicit-any -- Terraform JSON, plan JSON and the proxy's recorded calls are read as they come */
/**
 * npm run sandbox: the stack applied to an AWS emulator on this machine, with a real Prefect server and the real
 * prefect-aws worker, so it can be seen working without an AWS account or Prefect Cloud. Everything it starts binds
 * to 127.0.0.1 and is recorded in .sandbox/state.json; `npm run sandbox -- down` stops it by PID and removes the
 * folder. What an emulator cannot show (no container runs) is said, not hidden.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { registerDeployments } from "../flows/commands";
import { readFlowStackOutputs } from "../flows/stack-outputs";
import { stackName, TEMPLATE_OUTPUT } from "../naming";
import { gatherStatus, renderStatus } from "../operations/status";
import { estimate, inventoryOf, regionOfPlan, resourcesOfPlan } from "../review/cost";
import { countChanges } from "../review/plan-summary";
import { type Deployment, parseSettings } from "../settings";
import { PrefectEcsStack } from "../stack";
import { CREATE_COMMAND } from "../work-pool/work-pool";
import { missingPrerequisites } from "./prerequisites";
import { setAsideWorkPool } from "./work-pool-aside";
import { freePort, isAlive, sleep, type Started, startDetached, stillOurs, stopGroup, waitFor } from "./processes";

export const SANDBOX_DIR = ".sandbox";
const STATE_FILE = "state.json";
const REGION = "us-east-1";
/** moto accepts any credentials; these are its documented test values. */
const EMULATOR_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };
/** A deployment's flow image: the emulator pulls nothing, so a reference is enough. */
const FLOW_IMAGE_TAG = "sandbox";

interface SandboxState {
  startedAt: string;
  processes: Started[];
  endpoint?: string;
  proxyEndpoint?: string;
  prefectApiUrl?: string;
  stackDir?: string;
  stack?: string;
  /** The Terraform environment the stack was applied with (endpoint, credentials, CLI config). */
  terraformEnv?: Record<string, string>;
  /** The flow run the sandbox started, and the ECS task the worker ran for it. */
  flowRunId?: string;
  workerPid?: number;
}

export interface SandboxOptions {
  /** An AWS-compatible endpoint to use instead of starting moto (e.g. LocalStack's). */
  readonly endpoint?: string;
  /** A Terraform provider filesystem mirror (PREFECT_ECS_PROVIDER_MIRROR) for machines without the registry. */
  readonly providerMirror?: string;
  readonly log: (line: string) => void;
}

/**
 * This machine's environment without any PREFECT_* or AWS credential settings: the sandbox's processes get only
 * what it sets, so an operator's Prefect Cloud key or AWS profile never reaches the local server or the emulator.
 */
function ownEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Also the operator's Terraform overrides (TF_VAR_ values such as an API key, TF_CLI_ARGS, another data folder or
  // workspace): the sandbox's Terraform runs on its own settings only. TF_PLUGIN_CACHE_DIR stays: it only saves downloads.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PREFECT_|AWS_|TF_VAR_|TF_CLI_ARGS|TF_DATA_DIR$|TF_WORKSPACE$)/.test(name)),
  );
  return { ...env, ...extra };
}

const statePath = (projectDir: string) => join(projectDir, SANDBOX_DIR, STATE_FILE);

/** The recorded state; `null` when the file is there but unreadable (a write cut short). */
function readState(projectDir: string): SandboxState | null | undefined {
  const file = statePath(projectDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as SandboxState;
  } catch {
    return null;
  }
}

/** Written whole or not at all (a rename), so `down` never finds half a file. */
function writeState(projectDir: string, state: SandboxState): void {
  const file = statePath(projectDir);
  writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** One progress line per step, with the time it took. */
async function step<T>(log: (line: string) => void, what: string, run: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  const result = await run();
  log(`  ✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** The sandbox's settings: stock values, an environment of its own, and the local server. */
export function sandboxDeployment(prefectPort: number): Deployment {
  // The worker runs on this machine, so the API URL is the local server's loopback address, which the settings
  // rightly refuse for a worker in Fargate. The values are validated with a private name on the same port, and
  // only the host is then set to 127.0.0.1: nothing the user typed skips a check.
  const deployment = parseSettings(
    {
      environment: "sandbox",
      aws_region: REGION,
      availability_zones: [`${REGION}a`, `${REGION}b`],
      prefect_api_url: `http://prefect.sandbox.internal:${prefectPort}/api`,
      ecr_force_delete: true,
      secret_recovery_window_days: 0,
    },
    "the sandbox's settings",
  );
  return { ...deployment, settings: { ...deployment.settings, prefect_api_url: `http://127.0.0.1:${prefectPort}/api` } };
}

function terraform(dir: string, args: string[], env: Record<string, string>): { status: number; output: string; stdout: string } {
  const run = spawnSync("terraform", [...args, "-no-color"], {
    cwd: dir,
    env: ownEnv(env),
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
  });
  return { status: run.status ?? 1, output: `${run.stdout}\n${run.stderr}`, stdout: run.stdout };
}

const checked = <T extends { status: number; output: string }>(result: T, what: string): T => {
  if (result.status !== 0) throw new Error(`terraform ${what} failed:\n${result.output.trim().split("\n").slice(-25).join("\n")}`);
  return result;
};

/** Starts moto's server on a free port (moto binds port 0 itself and logs the one it got). */
async function startMoto(dir: string, record: (started: Started) => void): Promise<string> {
  const log = join(dir, "moto.log");
  const started = startDetached("moto", "python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    // Managed policies (the stack attaches AmazonECSTaskExecutionRolePolicy); one running task per service, so the
    // worker service reports running as it would on AWS.
    env: ownEnv({ MOTO_IAM_LOAD_MANAGED_POLICIES: "true", MOTO_ECS_SERVICE_RUNNING: "1" }),
    cwd: dir,
    log,
  });
  record(started);
  return waitFor(
    "moto's server",
    async () => {
      const port = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(log, "utf8"))?.[1];
      if (!port) return undefined;
      const url = `http://127.0.0.1:${port}`;
      return (await fetch(`${url}/moto-api/`)).ok ? url : undefined;
    },
    { ms: 60_000, pid: started.pid, log },
  );
}

/** A Prefect server on 127.0.0.1 with SQLite under .sandbox/ (and a Redis on a Unix socket where redis-server is on PATH). */
async function startPrefect(dir: string, record: (started: Started) => void): Promise<{ apiUrl: string; port: number }> {
  const env = ownEnv({ PREFECT_HOME: join(dir, "prefect-server"), PREFECT_SERVER_ANALYTICS_ENABLED: "false" });
  // Prefect's background tasks run on docket: its in-memory backend needs `lupa`, which pip installs with Prefect;
  // an offline build without it needs a Redis.
  if (spawnSync("/bin/sh", ["-c", "command -v redis-server"]).status === 0) {
    const socket = join(dir, "redis.sock");
    record(
      startDetached("redis", "redis-server", ["--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no"], {
        env: ownEnv(),
        cwd: dir,
        log: join(dir, "redis.log"),
      }),
    );
    env.PREFECT_SERVER_DOCKET_URL = `unix://${socket}?db=0`;
  }
  const port = await freePort();
  const server = startDetached("prefect server", "prefect", ["server", "start", "--host", "127.0.0.1", "--port", String(port)], {
    env,
    cwd: dir,
    log: join(dir, "prefect-server.log"),
  });
  record(server);
  const apiUrl = `http://127.0.0.1:${port}/api`;
  await waitFor("the Prefect server", async () => ((await fetch(`${apiUrl}/health`)).ok ? true : undefined), {
    ms: 180_000,
    pid: server.pid,
    log: server.log,
  });
  return { apiUrl, port };
}

/** The ECS proxy in front of the emulator for the worker (src/sandbox/ecs-proxy.ts): records its calls, bridges moto's Fargate-memory gap. */
async function startProxy(projectDir: string, dir: string, endpoint: string, record: (started: Started) => void): Promise<string> {
  const log = join(dir, "ecs-proxy.log");
  const tsx = join(projectDir, "node_modules", ".bin", "tsx");
  const started = startDetached("ecs proxy", tsx, [join(projectDir, "src", "sandbox", "ecs-proxy.ts"), endpoint, join(dir, "ecs-calls.jsonl")], {
    env: ownEnv(),
    cwd: dir,
    log,
  });
  record(started);
  return waitFor("the ECS proxy", async () => /http:\/\/127\.0\.0\.1:\d+/.exec(readFileSync(log, "utf8"))?.[0], {
    ms: 30_000,
    pid: started.pid,
    log,
  });
}

const recordedCalls = (dir: string): any[] => {
  const file = join(dir, "ecs-calls.jsonl");
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
};

/** Runs `npm run sandbox`: every step, or the first failure with what to do; the processes stay up for `down`. */
export async function sandboxUp(projectDir: string, options: SandboxOptions): Promise<void> {
  const { log } = options;
  const dir = join(projectDir, SANDBOX_DIR);
  const previous = readState(projectDir);
  if (previous === null) throw new Error(`${SANDBOX_DIR}/${STATE_FILE} cannot be read; clean up with: npm run sandbox -- down`);
  if (previous) {
    const alive = previous.processes.filter(stillOurs);
    throw new Error(
      alive.length
        ? `a sandbox is already running (started ${previous.startedAt}; ${alive.map((p) => p.name).join(", ")}); stop it first with: npm run sandbox -- down`
        : `a sandbox started ${previous.startedAt} did not finish and left ${SANDBOX_DIR}/; clean it up with: npm run sandbox -- down`,
    );
  }
  const missing = missingPrerequisites({ endpoint: options.endpoint });
  if (missing.length) throw new Error(`the sandbox needs:\n${missing.map((line) => `  - ${line}`).join("\n")}`);

  mkdirSync(dir, { recursive: true });
  // Created exclusively: of two sandboxes started at once, the second stops here instead of overwriting the first's record.
  try {
    closeSync(openSync(statePath(projectDir), "wx"));
  } catch {
    throw new Error(`another npm run sandbox is starting in ${SANDBOX_DIR}/; wait for it, or stop it with: npm run sandbox -- down`);
  }
  const state: SandboxState = { startedAt: new Date().toISOString(), processes: [] };
  const record = (...started: Started[]) => {
    state.processes.push(...started);
    writeState(projectDir, state);
  };
  writeState(projectDir, state);
  log(`Sandbox in ${SANDBOX_DIR}/ (everything on 127.0.0.1; stop it with npm run sandbox -- down)`);
  try {
    await bringUp(projectDir, options, state, record);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nWhat the sandbox started is still running, with its logs in ${SANDBOX_DIR}/: npm run sandbox -- down stops it and removes them.`,
      { cause: error },
    );
  }
}

/** The steps of `npm run sandbox` after its folder and state exist; every process is recorded as it starts. */
async function bringUp(projectDir: string, options: SandboxOptions, state: SandboxState, record: (...started: Started[]) => void): Promise<void> {
  const { log } = options;
  const dir = join(projectDir, SANDBOX_DIR);

  const endpoint = options.endpoint ?? (await step(log, "AWS emulator (moto) started", () => startMoto(dir, record)));
  state.endpoint = endpoint;
  const prefect = await step(log, "Prefect server started", () => startPrefect(dir, record));
  state.prefectApiUrl = prefect.apiUrl;
  const proxy = await step(log, "ECS proxy for the worker started", () => startProxy(projectDir, dir, endpoint, record));
  state.proxyEndpoint = proxy;

  // Synthesize the sandbox environment's stack, as `npm run synth` would.
  const deployment = sandboxDeployment(prefect.port);
  const { settings } = deployment;
  const stack = stackName(settings);
  const stackDir = join(dir, "cdktf.out", "stacks", stack);
  await step(log, `stack ${stack} synthesized`, () => {
    const app = new App({ outdir: join(dir, "cdktf.out") });
    new PrefectEcsStack(app, deployment);
    app.synth();
  });
  const synthesized = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));

  // Terraform: the registry, or a filesystem mirror; a mirror without hashicorp/null cannot run the pool's resources.
  const terraformEnv: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    // The pool's null_resources run the Prefect CLI: with a home of its own, no profile of the operator's applies.
    PREFECT_HOME: join(dir, "prefect-client"),
  };
  let poolByStack = true;
  if (options.providerMirror) {
    const rc = join(dir, "terraform.rc");
    writeFileSync(rc, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(options.providerMirror)}\n  }\n}\n`);
    terraformEnv.TF_CLI_CONFIG_FILE = rc;
    poolByStack = existsSync(join(options.providerMirror, "registry.terraform.io", "hashicorp", "null"));
  }
  if (!poolByStack) writeFileSync(join(stackDir, "cdk.tf.json"), JSON.stringify(setAsideWorkPool(synthesized), null, 2));
  state.stackDir = stackDir;
  state.stack = stack;
  state.terraformEnv = terraformEnv;
  writeState(projectDir, state);

  await step(log, "terraform init", () => checked(terraform(stackDir, ["init", "-input=false"], terraformEnv), "init"));
  const plan = await step(log, "terraform plan", () => {
    checked(terraform(stackDir, ["plan", "-input=false", "-out=plan.bin"], terraformEnv), "plan");
    return JSON.parse(checked(terraform(stackDir, ["show", "-json", "plan.bin"], terraformEnv), "show").stdout);
  });
  const counts = countChanges(plan);
  const cost = estimate(inventoryOf(resourcesOfPlan(plan), regionOfPlan(plan)));
  log(`    plan: ${counts.create} to add, ${counts.update} to change, ${counts.delete} to destroy`);
  log(`    on AWS this stack would cost about $${cost.total.toFixed(2)} a month (npm run cost has the lines and assumptions)`);
  await step(log, `stack applied to the emulator at ${endpoint} (${counts.create} resources)`, () =>
    checked(terraform(stackDir, ["apply", "-input=false", "-parallelism=20", "plan.bin"], terraformEnv), "apply"),
  );

  // The work pool: the stack's own null_resource made it, unless hashicorp/null could not be installed.
  const poolName = settings.work_pool_name;
  const clientEnv = ownEnv({ PREFECT_API_URL: prefect.apiUrl, PREFECT_HOME: join(dir, "prefect-client") });
  if (poolByStack) {
    log(`    work pool ${poolName} created by the stack's null_resource`);
  } else {
    await step(log, `work pool ${poolName} created by the stack's own pool command, run here (hashicorp/null is not in the provider mirror)`, () => {
      const template = checked(terraform(stackDir, ["output", "-raw", TEMPLATE_OUTPUT], terraformEnv), "output").stdout;
      const sync = synthesized.resource.null_resource.work_pool_template_sync.provisioner[0]["local-exec"];
      if (sync.command !== CREATE_COMMAND) throw new Error("the synthesized pool command is not the stack's CREATE_COMMAND");
      const env = { ...clientEnv, ...sync.environment, BASE_JOB_TEMPLATE: template };
      const run = spawnSync("/bin/sh", ["-c", sync.command], { cwd: stackDir, env, encoding: "utf8" });
      if (run.status !== 0) throw new Error(`the pool command failed:\n${run.stdout}${run.stderr}`);
    });
  }

  // The worker, as its task definition runs it, with AWS at the proxy and Prefect at the local server.
  const ecs = new ECSClient({ region: REGION, endpoint, credentials: EMULATOR_CREDENTIALS });
  const family = `${settings.name_prefix}-worker`;
  await step(log, "prefect-aws worker started with the worker task definition's command and environment", async () => {
    const definition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition!;
    const container = definition.containerDefinitions![0];
    const env = ownEnv();
    for (const variable of container.environment ?? []) env[variable.name!] = variable.value!;
    Object.assign(env, {
      PREFECT_API_URL: prefect.apiUrl,
      // prefect-aws's worker reads PREFECT_API_KEY for every run even when the server needs none (ecs_worker.py).
      PREFECT_API_KEY: "sandbox-no-key",
      PREFECT_HOME: join(dir, "prefect-worker"),
      // The health check's web server binds every interface unless told otherwise (Prefect's default is 0.0.0.0).
      PREFECT_WORKER_WEBSERVER_HOST: "127.0.0.1",
      PREFECT_WORKER_WEBSERVER_PORT: String(await freePort()),
      AWS_ENDPOINT_URL: proxy,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
    });
    const [command, ...args] = [...(container.entryPoint ?? []), ...(container.command ?? [])];
    const worker = startDetached("prefect worker", command, args, { env, cwd: dir, log: join(dir, "worker.log") });
    record(worker);
    state.workerPid = worker.pid;
    await waitFor(
      "the worker's first poll",
      async () => {
        const workers = await (
          await fetch(`${prefect.apiUrl}/work_pools/${poolName}/workers/filter`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          })
        ).json();
        return Array.isArray(workers) && workers.length ? true : undefined;
      },
      { ms: 120_000, pid: state.workerPid, log: join(dir, "worker.log") },
    );
  });

  const outputs = readFlowStackOutputs(stackDir, stack, ownEnv(terraformEnv));
  const image = `${outputs.flows_repository_url}:${FLOW_IMAGE_TAG}`;
  await step(log, `flows/ deployments registered on ${poolName} with ${image}`, () =>
    registerDeployments(outputs, { env: clientEnv, projectDir, log: () => {} }, { image }),
  );
  const flowRun = await step(log, "flow run of platform-check/platform-check created", async () => {
    const run = spawnSync("prefect", ["deployment", "run", "platform-check/platform-check"], { env: clientEnv, cwd: dir, encoding: "utf8" });
    const id = /UUID:\s*([0-9a-f-]{36})/.exec(run.stdout)?.[1];
    if (!id) throw new Error(`prefect deployment run started no flow run:\n${run.stdout}${run.stderr}`);
    return id;
  });
  state.flowRunId = flowRun;
  writeState(projectDir, state);
  const runTask = await step(log, "the worker submitted it to ECS in the emulator", () =>
    waitFor("the worker's RunTask", async () => recordedCalls(dir).find((c) => c.action === "RunTask" && c.status === 200), {
      ms: 180_000,
      pid: state.workerPid,
      log: join(dir, "worker.log"),
    }),
  );

  // Read back from the emulator what the task runs with.
  const definition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: runTask.body.taskDefinition }))).taskDefinition!;
  const network = runTask.body.networkConfiguration?.awsvpcConfiguration ?? {};
  const logOptions = definition.containerDefinitions?.[0]?.logConfiguration?.options ?? {};
  log("");
  log("The worker ran the flow run as an ECS task in the emulator:");
  log(`  task:            ${runTask.response.tasks?.[0]?.taskArn ?? "?"}`);
  log(`  cluster:         ${runTask.body.cluster}`);
  log(
    `  task definition: ${definition.taskDefinitionArn} (${definition.cpu} CPU units, ${definition.memory} MiB, image ${definition.containerDefinitions?.[0]?.image})`,
  );
  log(`  subnets:         ${(network.subnets ?? []).join(", ")}`);
  log(`  security groups: ${(network.securityGroups ?? []).join(", ")} (public IP ${network.assignPublicIp ?? "?"})`);
  log(`  execution role:  ${definition.executionRoleArn}`);
  log(`  task role:       ${runTask.body.overrides?.taskRoleArn ?? definition.taskRoleArn}`);
  log(`  log group:       ${logOptions["awslogs-group"] ?? "?"}`);
  log("The emulator runs no containers: the task stays PROVISIONING and the flow run Pending. On AWS, Fargate would start it.");
  log("");
  const status = await sandboxStatusText(projectDir);
  log(status.text);
  log("");
  log(`Prefect: ${prefect.apiUrl.replace(/\/api$/, "")} (API ${prefect.apiUrl}); logs and state in ${SANDBOX_DIR}/`);
  log("Again: npm run sandbox -- status     Stop everything: npm run sandbox -- down");
  if (!status.ok) throw new Error("the sandbox runs, but its status is not OK (above)");
}

/** `npm run status` for the sandbox's stack: its service in the emulator and its pool on the local server. */
export async function sandboxStatusText(projectDir: string): Promise<{ text: string; ok: boolean }> {
  const state = readState(projectDir);
  if (!state || !state.endpoint || !state.prefectApiUrl)
    return { text: "NOT OK: no sandbox is running here (npm run sandbox starts one)", ok: false };
  const port = Number(new URL(state.prefectApiUrl).port);
  const { settings } = sandboxDeployment(port);
  const clients = { region: REGION, endpoint: state.endpoint, credentials: EMULATOR_CREDENTIALS, maxAttempts: 2 };
  const report = await gatherStatus(settings, {
    ecs: new ECSClient(clients),
    cloudwatch: new CloudWatchClient(clients),
    prefect: { apiUrl: state.prefectApiUrl },
  });
  return renderStatus(report);
}

/** `npm run sandbox -- down`: destroys the stack in the emulator (when it still answers), stops every recorded process, removes .sandbox/. */
export async function sandboxDown(projectDir: string, log: (line: string) => void): Promise<void> {
  const state = readState(projectDir);
  const dir = join(projectDir, SANDBOX_DIR);
  if (state === null) {
    rmSync(dir, { recursive: true, force: true });
    log(
      `${SANDBOX_DIR}/${STATE_FILE} could not be read, so no process was stopped; look for moto, prefect and redis-server processes of yours. ${SANDBOX_DIR}/ removed.`,
    );
    return;
  }
  if (!state) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    log("No sandbox is running here.");
    return;
  }
  // Any HTTP answer means the endpoint is up (moto's own, or one named with --endpoint, such as LocalStack's).
  const emulatorUp = state.endpoint
    ? await fetch(state.endpoint).then(
        () => true,
        () => false,
      )
    : false;
  if (state.stackDir && state.terraformEnv && !emulatorUp && !state.processes.some((p) => p.name === "moto"))
    log(`  ✗ ${state.endpoint} does not answer: the stack was not destroyed there; resources may remain at that endpoint.`);
  if (state.stackDir && state.terraformEnv && emulatorUp && existsSync(join(state.stackDir, ".terraform"))) {
    // The worker first: it would otherwise keep calling the emulator while its resources go.
    const worker = state.processes.find((p) => p.name === "prefect worker");
    if (worker && stillOurs(worker)) await step(log, `prefect worker stopped (pid ${worker.pid})`, () => stopGroup(worker.pid, 1_000));
    try {
      await step(log, `stack ${state.stack} destroyed in the emulator`, () =>
        checked(
          terraform(state.stackDir!, ["destroy", "-auto-approve", "-input=false", "-parallelism=20", "-refresh=false"], state.terraformEnv!),
          "destroy",
        ),
      );
    } catch (error) {
      // A sandbox that stopped half-way may not destroy cleanly; everything else is still stopped and removed.
      const lines = (error as Error).message.split("\n");
      log(`  ✗ ${lines[0]} ${lines.find((line) => line.startsWith("Error:")) ?? ""}`.trimEnd());
      log(
        state.processes.some((p) => p.name === "moto")
          ? "    moto keeps its data in memory: stopping it below removes whatever is left."
          : `    resources may remain at ${state.endpoint}; remove them there.`,
      );
    }
  }
  for (const started of [...state.processes].reverse()) {
    if (stillOurs(started))
      await step(log, `${started.name} stopped (pid ${started.pid})`, () =>
        stopGroup(started.pid, started.name === "prefect worker" ? 1_000 : 5_000),
      );
    else if (isAlive(started.pid)) log(`  - pid ${started.pid} is no longer the sandbox's ${started.name} (another process has it now): left alone`);
  }
  await sleep(100);
  rmSync(dir, { recursive: true, force: true });
  log(`Sandbox removed (${SANDBOX_DIR}/).`);
}
