import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, EMULATOR_CREDENTIALS, startEmulator } from "../support/emulator";
import { EMULATOR_REGION } from "../support/emulator-aws";

/**
 * `npm run status`, run as an operator runs it (the real script, in a project folder), against moto for the
 * AWS side and a stand-in for the Prefect REST routes it calls (a test double: it answers the three routes
 * as Prefect's server does, and refuses any other key). moto reports MOTO_ECS_SERVICE_RUNNING tasks running
 * for a new service: 1 here.
 */
const ROOT = join(__dirname, "..", "..");
/** The lane's stack is self-hosted with an auth string, read through a port forward (the stand-in on loopback). */
const AUTH = "admin:status-canary-auth";
const SELF_HOSTED = 'prefect_api_url = "https://prefect.example.com/api"\nself_hosted_auth = "auth_string"\n';
/** A Prefect Cloud key left in the operator's shell: never sent to a self-hosted server. */
const CLOUD_KEY = "pnu_status-cloud-key-never-sent";
const POOL = "dev-prefect-ecs";
let emulator: Emulator;
let cloudwatch: CloudWatchClient;
let standIn: Server;
let standInUrl: string;
const prefect = {
  pool: "ready" as "ready" | "missing" | "paused",
  heartbeatSecondsAgo: 10 as number | undefined,
  requests: [] as { path: string; body: any }[],
};

function startStandIn(): Promise<void> {
  standIn = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      const path = (request.url ?? "").replace(/^\/api/, "");
      prefect.requests.push({ path, body: text ? JSON.parse(text) : undefined });
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { "Content-Type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (request.headers.authorization !== `Basic ${Buffer.from(AUTH).toString("base64")}`)
        return send(401, { detail: "Invalid authentication credentials" });
      if (request.method === "GET" && path === `/work_pools/${POOL}`) {
        if (prefect.pool === "missing") return send(404, { detail: "Work pool not found." });
        return send(200, { name: POOL, type: "ecs", status: prefect.pool === "paused" ? "PAUSED" : "READY", is_paused: prefect.pool === "paused" });
      }
      if (request.method === "POST" && path === `/work_pools/${POOL}/workers/filter`) {
        const heartbeat = prefect.heartbeatSecondsAgo === undefined ? [] : [new Date(Date.now() - prefect.heartbeatSecondsAgo * 1000).toISOString()];
        return send(
          200,
          heartbeat.map((time) => ({ name: "ECSWorker 1f2e", status: "ONLINE", last_heartbeat_time: time })),
        );
      }
      if (request.method === "POST" && path === "/flow_runs/filter") {
        return send(200, [{ name: "brave-fox", expected_start_time: "2026-11-23T10:00:00Z", state: { type: "COMPLETED", name: "Completed" } }]);
      }
      send(404, { detail: "Not Found" });
    });
  });
  return new Promise((resolve) =>
    standIn.listen(0, "127.0.0.1", () => {
      standInUrl = `http://127.0.0.1:${(standIn.address() as { port: number }).port}/api`;
      resolve();
    }),
  );
}

/** Runs `npm run status` (its script) in a project folder holding these settings, with this environment. */
function status(env: Record<string, string | undefined>, tfvars = SELF_HOSTED): Promise<{ code: number | null; output: string; last: string }> {
  const project = mkdtempSync(join(tmpdir(), "status-"));
  writeFileSync(join(project, "terraform.tfvars"), tfvars);
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: project,
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
    PREFECT_API_URL: standInUrl,
    PREFECT_API_AUTH_STRING: AUTH,
    PREFECT_API_KEY: CLOUD_KEY,
  };
  const merged = Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "status.ts")], { cwd: project, env: merged });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve({ code, output, last: output.trim().split("\n").at(-1) ?? "" }));
  });
}

/** The stack's cluster and worker service, as the emulator holds them after a deploy. */
async function deployedService(endpoint: string): Promise<void> {
  const client = new ECSClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  await client.send(new CreateClusterCommand({ clusterName: "prefect-ecs-dev" }));
  await client.send(
    new RegisterTaskDefinitionCommand({
      family: "prefect-ecs-dev-worker",
      containerDefinitions: [{ name: "prefect-worker", image: "prefecthq/prefect-aws", memory: 512 }],
    }),
  );
  await client.send(
    new CreateServiceCommand({
      cluster: "prefect-ecs-dev",
      serviceName: "prefect-ecs-dev-worker",
      taskDefinition: "prefect-ecs-dev-worker",
      desiredCount: 1,
    }),
  );
}

let workerDown: Emulator;

beforeAll(async () => {
  // moto fixes a new service's running count from MOTO_ECS_SERVICE_RUNNING, so a worker that is down needs its own server.
  [emulator, workerDown] = await Promise.all([startEmulator({ MOTO_ECS_SERVICE_RUNNING: "1" }), startEmulator({ MOTO_ECS_SERVICE_RUNNING: "0" })]);
  cloudwatch = new CloudWatchClient({ endpoint: emulator.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  await Promise.all([deployedService(emulator.endpoint), deployedService(workerDown.endpoint)]);
  await startStandIn();
}, 120_000);
afterAll(async () => {
  await workerDown?.stop();
  await emulator?.stop();
  await new Promise((resolve) => standIn?.close(resolve));
});

describe("npm run status", () => {
  it("GIVEN a running worker that polls its pool THEN it shows the service, pool, worker and last runs, and exits 0", async () => {
    prefect.requests.length = 0;
    const run = await status({});
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("Worker service prefect-ecs-dev-worker: desired 1, running 1, pending 0");
    expect(run.output).toContain("last deployment: COMPLETED");
    expect(run.output).toContain(`Work pool ${POOL}: READY`);
    // The stand-in stamps the heartbeat 10 s before it answers; the command may have started a little earlier.
    expect(run.output).toMatch(/worker ECSWorker 1f2e: ONLINE, last heartbeat \d+ s ago/);
    expect(run.output).toContain("brave-fox: Completed");
    expect(run.last).toBe("OK: the worker runs and polls its pool");
    // Prefect's filter shapes (src/prefect/server/api/flow_runs.py read_flow_runs; schemas/filters.py WorkPoolFilterName).
    expect(prefect.requests.find((r) => r.path === "/flow_runs/filter")?.body).toEqual({
      work_pools: { name: { any_: [POOL] } },
      sort: "EXPECTED_START_TIME_DESC",
      limit: 5,
    });
    expect(run.output).not.toContain(AUTH);
    expect(run.output).not.toContain(CLOUD_KEY);
  });

  it("GIVEN the worker is down (fewer running than desired, no recent heartbeat) THEN it exits 1 and says so on the last line", async () => {
    prefect.heartbeatSecondsAgo = 600;
    try {
      const run = await status({ AWS_ENDPOINT_URL: workerDown.endpoint });
      expect(run.code).toBe(1);
      expect(run.output).toContain("desired 1, running 0, pending 1");
      expect(run.output).toContain("last deployment: IN_PROGRESS");
      expect(run.last).toBe("NOT OK: the worker service runs 0 of 1 desired task(s) (and 1 more above)");
      expect(run.output).toContain("no worker has polled work pool dev-prefect-ecs in the last 120 s");
    } finally {
      prefect.heartbeatSecondsAgo = 10;
    }
  });

  it("GIVEN the work pool does not exist THEN it exits 1 naming the pool", async () => {
    prefect.pool = "missing";
    try {
      const run = await status({});
      expect(run.code).toBe(1);
      expect(run.last).toBe("NOT OK: Prefect: work pool dev-prefect-ecs does not exist (npm run deploy creates it, unless manage_work_pool = false)");
    } finally {
      prefect.pool = "ready";
    }
  });

  it("GIVEN a credential Prefect refuses THEN it exits 1 saying the credential was refused, without printing it", async () => {
    const run = await status({ PREFECT_API_AUTH_STRING: "admin:wrong-auth-canary" });
    expect(run.code).toBe(1);
    expect(run.last).toBe("NOT OK: Prefect: the API refused the credential (HTTP 401); check PREFECT_API_KEY or the auth string");
    expect(run.output).not.toContain("admin:wrong-auth-canary");
  });

  it("GIVEN an alarm of the stack in ALARM THEN it lists the alarms and exits 1 naming it", async () => {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "prefect-ecs-dev-worker-down",
        Namespace: "ECS/ContainerInsights",
        MetricName: "RunningTaskCount",
        Statistic: "Minimum",
        Period: 60,
        EvaluationPeriods: 5,
        Threshold: 1,
        ComparisonOperator: "LessThanThreshold",
      }),
    );
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: "prefect-ecs-dev-worker-down", StateValue: "ALARM", StateReason: "test" }));
    try {
      const run = await status({});
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/Alarms:\n {2}ALARM +prefect-ecs-dev-worker-down/);
      expect(run.last).toBe("NOT OK: alarm prefect-ecs-dev-worker-down is in ALARM");
    } finally {
      await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: "prefect-ecs-dev-worker-down", StateValue: "OK", StateReason: "test" }));
    }
  });

  it("GIVEN a stack that was never deployed THEN it says so in one line", async () => {
    const run = await status({}, `${SELF_HOSTED}project_name = "other"\n`);
    expect(run.code).toBe(1);
    expect(run.last).toMatch(/^NOT OK: not deployed: no ECS cluster other-dev in us-east-1/);
  });

  it("GIVEN Prefect Cloud ids but no key in the environment THEN it says which variable to set", async () => {
    const run = await status(
      {
        PREFECT_API_URL: undefined,
        PREFECT_API_KEY: undefined,
        TF_VAR_prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666",
        TF_VAR_prefect_workspace_id: "0b5c1a2e-1111-4222-8333-944455556667",
      },
      "",
    );
    expect(run.code).toBe(1);
    expect(run.output).toContain("Prefect: no credential: set PREFECT_API_KEY (or TF_VAR_prefect_api_key) to read the work pool");
  });
});
