import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { GetRolePolicyCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EMULATOR_REGION } from "../support/emulator-aws";
import { DEPLOY_TIMEOUT, EmulatorLane, ROOT } from "../support/emulator-lane";
import { provisionerOf, renderStrict } from "../support/emulator-prefect";
import { type EcsRecorder, type RecordedCall, startEcsRecorder } from "../../src/sandbox/ecs-proxy";
import { api, cleanEnv, freePort, startProcess, stopProcess } from "../support/prefect-real";
import { PLAN_TIME_ENV, VARIANTS } from "../support/synth";

/**
 * The real prefect-aws worker, started with the worker task definition's own command and environment, against the
 * default stack applied to moto and the tier's Prefect server. A recording proxy sits between the worker and moto,
 * so the assertions read what the worker asked ECS for (task definition, RunTask) and compare it with the stack's
 * applied values. moto runs no containers and sends no task events: each flow run stays Pending with its task.
 */
const POOL = "worker-moto-pool";
/** Stands in for the credential the worker's task gets from Secrets Manager (secrets[].valueFrom). */
const DUMMY_API_KEY = "pnu_worker_on_moto_dummy_key";
const server = inject("prefectServer");
const lane = new EmulatorLane("worker-on-moto");
const home = mkdtempSync(join(tmpdir(), "prefect-ecs-worker-moto-"));
/** A Prefect home of this file's own for its CLI calls (the server's client home is shared by the tier's files). */
const clientEnv = { ...server.clientEnv, PREFECT_HOME: join(home, "client") };

let recorder: EcsRecorder | undefined;
let worker: ChildProcess | undefined;
let workerLog = "";
let image = "";
let deploymentId = "";
let workerContainer: any;

/** Runs a command without blocking the event loop (the recording proxy answers the worker from this process). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

const logTail = () => {
  try {
    return readFileSync(workerLog, "utf8").slice(-4_000);
  } catch {
    return "(no worker log)";
  }
};

/** Waits (bounded) until the proxy has recorded `count` answered RunTask calls; fails with the worker's log otherwise. */
async function runTasks(count: number, timeoutMs = 120_000): Promise<RecordedCall[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const calls = recorder!.of("RunTask");
    if (calls.length >= count) return calls;
    if (worker?.exitCode !== null) throw new Error(`the worker exited (${worker?.exitCode}); its log ends:\n${logTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no RunTask number ${count} within ${timeoutMs / 1000} s; the worker's log ends:\n${logTail()}`);
}

const createFlowRun = async () => {
  const created = await api(server, "POST", `/deployments/${deploymentId}/create_flow_run`, {});
  expect(created.status, JSON.stringify(created.json).slice(0, 500)).toBe(201);
  return created.json.id as string;
};

beforeAll(async () => {
  // The tier's global setup has checked moto's server and the Terraform AWS provider (startEmulator checks moto again).
  await lane.deploy({ ...VARIANTS.default, work_pool_name: POOL });
  expect(lane.settings.work_pool_name).toBe(POOL);

  // The pool, by the stack's own create command, rendered as Terraform renders it for the applied stack; only the
  // API URL is the tier's server.
  const create = provisionerOf(lane.json, "work_pool_template_sync");
  const values = {
    "var.prefect_account_id": PLAN_TIME_ENV.TF_VAR_prefect_account_id,
    "var.prefect_workspace_id": PLAN_TIME_ENV.TF_VAR_prefect_workspace_id,
    "var.prefect_api_key": PLAN_TIME_ENV.TF_VAR_prefect_api_key,
    "local.base_job_template": lane.outputs.base_job_template,
  };
  const environment = Object.fromEntries(Object.entries(create.environment).map(([name, value]) => [name, renderStrict(value, values)]));
  const pool = spawnSync("/bin/sh", ["-c", create.command], {
    cwd: mkdtempSync(join(home, "stack-")),
    env: cleanEnv({ ...environment, PREFECT_API_URL: server.apiUrl, PREFECT_HOME: clientEnv.PREFECT_HOME }),
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(pool.status, pool.stdout + pool.stderr).toBe(0);

  // The worker's container as moto holds it after the apply (every reference resolved).
  const family = lane.json.resource.aws_ecs_task_definition.worker_task_definition.family as string;
  const described = await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
  workerContainer = described.taskDefinition!.containerDefinitions![0];

  recorder = await startEcsRecorder(lane.emulator.endpoint);
  // The task definition gives no entryPoint, so in ECS the image's own runs the command (Prefect's images: tini, then
  // entrypoint.sh, which execs its arguments); here the command runs directly.
  const argv = [...(workerContainer.entryPoint ?? []), ...(workerContainer.command ?? [])];
  workerLog = join(home, "worker.log");
  worker = startProcess(argv[0], argv.slice(1), {
    cwd: mkdtempSync(join(home, "worker-")),
    log: workerLog,
    env: cleanEnv({
      ...Object.fromEntries((workerContainer.environment ?? []).map((e: { name: string; value: string }) => [e.name, e.value])),
      PREFECT_API_URL: server.apiUrl,
      PREFECT_API_KEY: DUMMY_API_KEY,
      PREFECT_HOME: join(home, "worker-home"),
      // The container's port (8080) may be taken on a shared machine; the health server gets a free one.
      PREFECT_WORKER_WEBSERVER_HOST: "127.0.0.1",
      PREFECT_WORKER_WEBSERVER_PORT: String(await freePort()),
      AWS_ENDPOINT_URL: recorder.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_DEFAULT_REGION: EMULATOR_REGION,
      AWS_REGION: EMULATOR_REGION,
    }),
  });

  // The deployments of flows/, registered by the real CLI in a copy of the folder, as `npm run flow-deploy` does.
  const flows = join(home, "flows");
  cpSync(join(ROOT, "flows"), flows, { recursive: true });
  image = `${lane.outputs.flows_repository_url}:worker-on-moto`;
  const deployed = await run(
    "prefect",
    ["--no-prompt", "deploy", "--all"],
    cleanEnv({
      ...clientEnv,
      PREFECT_ECS_WORK_POOL: lane.outputs.work_pool_name,
      PREFECT_ECS_FLOW_IMAGE: image,
      PREFECT_ECS_EFS_MOUNT_PATH: lane.outputs.flow_run_efs_mount_path,
    }),
    flows,
  );
  expect(deployed.status, deployed.output).toBe(0);
  const deployment = await api(server, "GET", "/deployments/name/platform-check/platform-check");
  expect(deployment.status).toBe(200);
  deploymentId = deployment.json.id;
}, DEPLOY_TIMEOUT);

afterAll(async () => {
  if (worker) await stopProcess(worker, 1_000);
  await recorder?.stop();
  await api(server, "DELETE", `/work_pools/${POOL}`).catch(() => undefined);
  await lane.close();
  rmSync(home, { recursive: true, force: true });
});

describe("the real ECS worker, with the worker task definition's command and environment, against the applied stack", () => {
  const template = () => JSON.parse(lane.outputs.base_job_template);
  let firstRun = "";

  it("GIVEN the worker's task definition THEN the Prefect credential is a secret from the stack's secret, not in its environment", () => {
    expect(workerContainer.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: lane.outputs.prefect_credential_secret_arn }]);
    expect(workerContainer.environment.map((e: { name: string }) => e.name)).not.toContain("PREFECT_API_KEY");
    expect(workerContainer.command.slice(0, 5)).toEqual(["prefect", "worker", "start", "--pool", POOL]);
    expect(workerContainer.entryPoint ?? []).toEqual([]);
  });

  it("GIVEN a flow run WHEN the worker submits it THEN it registers the flow-run task definition the template describes", async () => {
    firstRun = await createFlowRun();
    await runTasks(1);
    const registrations = recorder!.of("RegisterTaskDefinition");
    expect(registrations).toHaveLength(1);
    expect(registrations[0].status, JSON.stringify(registrations[0].response)).toBe(200);
    // moto got the task-level memory on the container (FARGATE_MEMORY_WORKAROUND); the assertions read what the worker sent.
    expect([...recorder!.amended]).toEqual([registrations[0].response.taskDefinition.taskDefinitionArn]);
    const definition = registrations[0].body;
    const variables = template().variables.properties;
    expect(definition.executionRoleArn).toBe(lane.outputs.flow_run_execution_role_arn);
    expect(definition.cpu).toBe(String(variables.cpu.default));
    expect(definition.memory).toBe(String(variables.memory.default));
    expect(definition.requiresCompatibilities).toEqual(["FARGATE"]);
    expect(definition.networkMode).toBe("awsvpc");
    expect(definition.runtimePlatform).toEqual(template().job_configuration.task_definition.runtimePlatform);
    expect(definition.containerDefinitions).toHaveLength(1);
    const container = definition.containerDefinitions[0];
    expect(container.name).toBe(variables.container_name.default);
    expect(container.image).toBe(image);
    // Fargate takes the task-level memory; the container sets none (what moto mishandles, see src/sandbox/ecs-proxy.ts).
    expect(container.memory).toBeUndefined();
    expect(container.logConfiguration.logDriver).toBe("awslogs");
    expect(container.logConfiguration.options).toMatchObject({
      ...variables.cloudwatch_logs_options.default,
      "awslogs-group": lane.outputs.flow_run_log_group,
    });
    expect(container.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: lane.outputs.prefect_credential_secret_arn }]);
    expect((container.environment ?? []).map((e: { name: string }) => e.name)).not.toContain("PREFECT_API_KEY");
  });

  it("GIVEN the registered definition WHEN the worker runs the task THEN RunTask names the stack's cluster, private subnets and flow-run security group", async () => {
    const [runTask] = await runTasks(1);
    expect(runTask.status, JSON.stringify(runTask.response)).toBe(200);
    const request = runTask.body;
    const variables = template().variables.properties;
    expect(request.cluster).toBe(lane.outputs.cluster_arn);
    expect(request.taskDefinition).toBe(recorder!.of("RegisterTaskDefinition")[0].response.taskDefinition.taskDefinitionArn);
    expect(request.networkConfiguration.awsvpcConfiguration).toEqual({
      subnets: lane.outputs.private_subnet_ids,
      securityGroups: [lane.outputs.flow_run_security_group_id],
      assignPublicIp: "DISABLED",
    });
    expect(request.launchType).toBe(variables.launch_type.default);
    expect(variables.capacity_provider_strategy.default).toBeUndefined();
    expect(request.capacityProviderStrategy).toBeUndefined();
    expect(request.overrides.taskRoleArn).toBe(lane.outputs.flow_run_task_role_arn);
    const overrides = request.overrides.containerOverrides[0];
    expect(overrides.name).toBe(variables.container_name.default);
    const environment = Object.fromEntries(overrides.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(environment).toMatchObject({ PREFECT__FLOW_RUN_ID: firstRun, FLOW_IMAGE: image, PREFECT_API_URL: server.apiUrl });
    expect(environment).not.toHaveProperty("PREFECT_API_KEY");
    // The worker's own credential reaches no ECS request: the task gets the stack's secret instead.
    expect(JSON.stringify(recorder!.calls.map((c) => c.body))).not.toContain(DUMMY_API_KEY);

    // moto holds the task, and the flow run names it (moto sends no task events, so the run stays Pending).
    const taskArn = runTask.response.tasks[0].taskArn as string;
    const flowRun = await api(server, "GET", `/flow_runs/${firstRun}`);
    expect(flowRun.json.state_type).toBe("PENDING");
    expect(flowRun.json.infrastructure_pid).toBe(`${lane.outputs.cluster_arn}::${taskArn}`);
  });

  it("GIVEN a second flow run of the deployment WHEN the worker submits it THEN it reuses the registered task definition", async () => {
    await createFlowRun();
    const [first, second] = await runTasks(2);
    // What the worker sent, in order, for a failure to show.
    const sent = () =>
      recorder!.calls.map((c) => `${c.action} ${c.status}${c.body?.taskDefinition ? ` ${c.body.taskDefinition}` : ""}`).join("\n") + `\n${logTail()}`;
    expect(second.status, JSON.stringify(second.response)).toBe(200);
    expect(recorder!.of("RegisterTaskDefinition"), sent()).toHaveLength(1);
    expect(second.body.taskDefinition, sent()).toBe(first.body.taskDefinition);
    // It compared its cached definition with what ECS holds before reusing it.
    expect(recorder!.of("DescribeTaskDefinition").map((c) => [c.body.taskDefinition, c.status])).toContainEqual([first.body.taskDefinition, 200]);
  });

  it("GIVEN everything the worker asked AWS for THEN each action is one the worker task role's policies allow", async () => {
    const role = String(lane.outputs.worker_task_role_arn).split("/").pop()!;
    const names = (await lane.aws.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];
    const allowed = new Set<string>();
    for (const name of names) {
      const document = (await lane.aws.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }))).PolicyDocument!;
      for (const statement of JSON.parse(decodeURIComponent(document)).Statement)
        if (statement.Effect === "Allow") for (const action of [statement.Action].flat()) allowed.add(String(action).toLowerCase());
    }
    const called = [...new Set(recorder!.calls.map((c) => `${c.service}:${c.action}`))].sort();
    expect(called).toEqual(expect.arrayContaining(["ecs:RegisterTaskDefinition", "ecs:RunTask", "ec2:DescribeSubnets", "sqs:GetQueueUrl"]));
    expect(called.filter((action) => !allowed.has(action.toLowerCase()))).toEqual([]);
  });
});
