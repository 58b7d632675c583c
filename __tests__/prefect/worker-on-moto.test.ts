import { spawn } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { GetRolePolicyCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEPLOY_TIMEOUT, ROOT } from "../support/emulator-lane";
import type { EcsRecorder } from "../../src/sandbox/ecs-proxy";
import { api, cleanEnv } from "../support/prefect-real";
import { StackWorker } from "../support/stack-worker";
import { VARIANTS } from "../support/synth";

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
const stack = new StackWorker("worker-on-moto", server, POOL, DUMMY_API_KEY);
const { lane, home, clientEnv } = stack;
const logTail = () => stack.logTail();
const runTasks = (count: number) => stack.runTasks(count);
const createFlowRun = () => stack.createFlowRun(deploymentId);

let image = "";
let deploymentId = "";
let recorder: EcsRecorder | undefined;
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

beforeAll(async () => {
  // The tier's global setup has checked moto's server and the Terraform AWS provider (startEmulator checks moto again).
  await stack.start(VARIANTS.default);
  recorder = stack.recorder;
  workerContainer = stack.workerContainer;

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
    } as Record<string, string>),
    flows,
  );
  expect(deployed.status, deployed.output).toBe(0);
  const deployment = await api(server, "GET", "/deployments/name/platform-check/platform-check");
  expect(deployment.status).toBe(200);
  deploymentId = deployment.json.id;
}, DEPLOY_TIMEOUT);

afterAll(() => stack.stop());

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
