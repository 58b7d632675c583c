import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_WAIT_ENV, TEMPLATE_ENV } from "../../src/work-pool/worker-bootstrap";
import {
  api,
  cleanEnv,
  freePort,
  type PrefectServer,
  renderTemplateForTest,
  startPrefectServer,
  startProcess,
  stopProcess,
} from "../support/prefect-real";
import { resources, synthVariant } from "../support/synth";
import { type Emulator, EMULATOR_CREDENTIALS, startEmulator } from "../support/emulator";
import { EMULATOR_REGION } from "../support/emulator-aws";

const ROOT = join(__dirname, "..", "..");

/**
 * With `prefect_server`, the worker container writes its own pool before it becomes the worker. Here its command
 * and environment come from the synthesized task definition and run with the real Prefect against a real server
 * that requires basic auth. Changed for this machine, and only these: PREFECT_API_URL (the local server instead of
 * the Cloud Map name), the auth string ECS would inject from the secret, the template as Terraform's
 * `base64gzip()` renders it, PREFECT_HOME and the health-check port (free ones), and the ECS event observer's
 * queue left out (it would poll SQS; the emulator lanes cover it), and AWS pointed at a closed local port.
 * `python` is the machine's python3. `npm run status` reads the AWS side from moto (the cluster and service as a
 * deploy leaves them) and the Prefect side from this server, as through a port forward.
 */
const AUTH = "operator:a-long-enough-auth-string-for-tests";
const { json } = synthVariant("prefect_server", { self_hosted_auth: "auth_string" });
const container = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0];
const renderedTemplate = renderTemplateForTest((json as any).locals.base_job_template);
const pool = "dev-prefect-ecs";

let server: PrefectServer;
let emulator: Emulator;
const started: ChildProcess[] = [];
beforeAll(async () => {
  [server, emulator] = await Promise.all([startPrefectServer({ authString: AUTH }), startEmulator({ MOTO_ECS_SERVICE_RUNNING: "1" })]);
  await deployedServices(emulator.endpoint);
});
afterAll(async () => {
  for (const child of started) await stopProcess(child, 1_000);
  await server?.stop();
  await emulator?.stop();
});

async function startContainer(auth: string) {
  const environment: Record<string, string> = Object.fromEntries(
    container.environment.map((e: { name: string; value: string }) => [e.name, e.value]),
  );
  expect(container.secrets.map((s: { name: string }) => s.name)).toEqual(["PREFECT_API_AUTH_STRING"]);
  expect(environment[TEMPLATE_ENV]).toBe("${base64gzip(local.base_job_template)}");
  delete environment.PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME;
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-worker-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim(), join(bin, "python"));
  const healthPort = await freePort();
  const env = cleanEnv({
    ...environment,
    PATH: `${bin}:${process.env.PATH}`,
    PREFECT_API_URL: server.apiUrl,
    PREFECT_API_AUTH_STRING: auth,
    [TEMPLATE_ENV]: gzipSync(Buffer.from(renderedTemplate)).toString("base64"),
    [SERVER_WAIT_ENV]: "30",
    PREFECT_HOME: join(dir, "prefect"),
    PREFECT_WORKER_WEBSERVER_HOST: "127.0.0.1",
    PREFECT_WORKER_WEBSERVER_PORT: String(healthPort),
    TMPDIR: dir,
    // Nothing the worker might call on AWS leaves this machine.
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });
  const [command, ...args] = [...(container.entryPoint ?? []), ...container.command] as string[];
  const log = join(dir, "container.log");
  const child = startProcess(command, args, { env, cwd: dir, log });
  started.push(child);
  return { child, log, healthPort };
}

/** The stack's cluster, worker service and server service as the emulator holds them after a deploy (status reads them; moto reports 1 running). */
async function deployedServices(endpoint: string): Promise<void> {
  const client = new ECSClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  await client.send(new CreateClusterCommand({ clusterName: "prefect-ecs-dev" }));
  for (const name of ["prefect-ecs-dev-worker", "prefect-ecs-dev-prefect-server"]) {
    await client.send(new RegisterTaskDefinitionCommand({ family: name, containerDefinitions: [{ name: "main", image: "x", memory: 512 }] }));
    await client.send(new CreateServiceCommand({ cluster: "prefect-ecs-dev", serviceName: name, taskDefinition: name, desiredCount: 1 }));
  }
}

/** `npm run status` (its script) in a project folder holding the stack's settings, as an operator runs it through a port forward. */
async function operatorStatus(): Promise<{ code: number | null; output: string; last: string }> {
  const project = mkdtempSync(join(tmpdir(), "prefect-ecs-status-"));
  writeFileSync(join(project, "terraform.tfvars"), 'prefect_server = true\nself_hosted_auth = "auth_string"\n');
  const env = cleanEnv({
    HOME: project,
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
    PREFECT_API_URL: server.apiUrl,
    PREFECT_API_AUTH_STRING: AUTH,
  });
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "status.ts")], {
    cwd: project,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  const output = result.stdout + result.stderr;
  return { code: result.status, output, last: result.stdout.trim().split("\n").at(-1) ?? "" };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, log: string, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`${what} not seen within ${ms / 1000} s; the container's log:\n${readFileSync(log, "utf8").slice(-3_000)}`);
}

describe("the worker's own pool step, with the real Prefect and a server requiring basic auth", () => {
  it("GIVEN the task definition's command THEN it creates the pool with the stack's template and queues, and the worker it becomes heartbeats", async () => {
    const { child, log, healthPort } = await startContainer(AUTH);
    const worker = await until(
      "a worker heartbeat in the pool",
      async () => {
        const workers = await api(server, "POST", `/work_pools/${pool}/workers/filter`, {});
        return workers.status === 200 && workers.json.length ? workers.json[0] : undefined;
      },
      log,
    );
    expect(worker.name).toMatch(/^ECSWorker /);
    const read = await api(server, "GET", `/work_pools/${pool}`);
    expect(read.json.base_job_template).toEqual(JSON.parse(renderedTemplate));
    const queues = await api(server, "POST", `/work_pools/${pool}/queues/filter`, {});
    expect(queues.json.map((q: { name: string }) => q.name).sort()).toEqual(["default", "high-priority"]);
    // --with-healthcheck: the endpoint the container's health check calls answers.
    const health = await until(
      "the worker's health endpoint",
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${healthPort}/health`)).status;
        } catch {
          return undefined;
        }
      },
      log,
      30_000,
    );
    expect(health).toBe(200);
    expect(child.exitCode).toBeNull();
  });

  it("GIVEN that worker and a scheduled flow run WHEN an operator runs npm run status through a port forward THEN it shows the pool, the worker and the run", async () => {
    const flow = await api(server, "POST", "/flows/", { name: "status-check" });
    const deployment = await api(server, "POST", "/deployments/", { name: "status-check", flow_id: flow.json.id, work_pool_name: pool });
    expect(deployment.status, JSON.stringify(deployment.json)).toBeLessThan(300);
    // An hour ahead, so the worker leaves it alone and status reads it as Prefect keeps it.
    const scheduled = new Date(Date.now() + 3_600_000).toISOString();
    const run = await api(server, "POST", `/deployments/${deployment.json.id}/create_flow_run`, {
      state: { type: "SCHEDULED", name: "Scheduled", state_details: { scheduled_time: scheduled } },
    });
    expect(run.status, JSON.stringify(run.json)).toBeLessThan(300);
    const result = await operatorStatus();
    expect(result.output).toContain(`Work pool ${pool}: READY`);
    expect(result.output).toMatch(/worker ECSWorker [^:]+: ONLINE, last heartbeat \d+ s ago/);
    expect(result.output).toContain(`${run.json.name}: Scheduled`);
    expect(result.last).toBe("OK: the worker runs and polls its pool");
    expect(result.code).toBe(0);
    expect(result.output).not.toContain(AUTH);
  });

  it("GIVEN a wrong auth string THEN the container stops with one prefect-ecs line naming the pool, and no worker starts", async () => {
    const { child, log } = await startContainer("operator:not-the-right-one-at-all");
    const status = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
    const output = readFileSync(log, "utf8");
    expect(status).toBe(1);
    expect(output).toContain("401");
    expect(output.match(/prefect-ecs: could not create or update work pool dev-prefect-ecs/g)).toHaveLength(1);
    expect(output).not.toContain("not-the-right-one-at-all");
    expect(output).not.toContain("Starting worker");
  });
});
