import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { expect } from "vitest";
import { type EcsRecorder, type RecordedCall, startEcsRecorder } from "../../src/sandbox/ecs-proxy";
import { EMULATOR_REGION } from "./emulator-aws";
import { EmulatorLane } from "./emulator-lane";
import { provisionerOf, renderStrict } from "./emulator-prefect";
import { api, cleanEnv, freePort, type PrefectServer, startProcess, stopProcess } from "./prefect-real";
import { PLAN_TIME_ENV } from "./synth";

/**
 * A stack applied to moto, its work pool created by the stack's own command on the tier's Prefect server, and the
 * real prefect-aws worker started with the worker task definition's own command and environment, behind a recording
 * proxy: what the worker asks ECS for is read from the proxy. moto runs no containers and sends no task events.
 */
export class StackWorker {
  readonly lane: EmulatorLane;
  readonly home = mkdtempSync(join(tmpdir(), "prefect-ecs-stack-worker-"));
  /** A Prefect home of this worker's own for CLI calls (the server's client home is shared by the tier's files). */
  readonly clientEnv: NodeJS.ProcessEnv;
  recorder?: EcsRecorder;
  worker?: ChildProcess;
  /** The worker's container as moto holds it after the apply (every reference resolved). */
  workerContainer: any;
  private workerLog = "";

  constructor(
    name: string,
    readonly server: Pick<PrefectServer, "apiUrl" | "clientEnv">,
    readonly pool: string,
    /** Stands in for the credential the worker's task gets from Secrets Manager (secrets[].valueFrom). */
    readonly apiKey: string,
  ) {
    this.lane = new EmulatorLane(name);
    this.clientEnv = { ...server.clientEnv, PREFECT_HOME: join(this.home, "client") };
  }

  /** Applies the stack, creates its pool as the stack's provisioner would (only the API URL is the tier's), starts the worker. */
  async start(values: Record<string, unknown>): Promise<void> {
    const { lane, server } = this;
    await lane.deploy({ ...values, work_pool_name: this.pool });
    expect(lane.settings.work_pool_name).toBe(this.pool);
    const create = provisionerOf(lane.json, "work_pool_template_sync");
    const rendered = {
      "var.prefect_account_id": PLAN_TIME_ENV.TF_VAR_prefect_account_id,
      "var.prefect_workspace_id": PLAN_TIME_ENV.TF_VAR_prefect_workspace_id,
      "var.prefect_api_key": PLAN_TIME_ENV.TF_VAR_prefect_api_key,
      "local.base_job_template": lane.outputs.base_job_template,
    };
    const environment = Object.fromEntries(Object.entries(create.environment).map(([name, value]) => [name, renderStrict(value, rendered)]));
    const pool = spawnSync("/bin/sh", ["-c", create.command], {
      cwd: mkdtempSync(join(this.home, "stack-")),
      env: cleanEnv({ ...environment, PREFECT_API_URL: server.apiUrl, PREFECT_HOME: String(this.clientEnv.PREFECT_HOME) }),
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(pool.status, pool.stdout + pool.stderr).toBe(0);

    const family = lane.json.resource.aws_ecs_task_definition.worker_task_definition.family as string;
    this.workerContainer = (
      await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))
    ).taskDefinition!.containerDefinitions![0];
    this.recorder = await startEcsRecorder(lane.emulator.endpoint);
    // The task definition gives no entryPoint, so in ECS the image's own runs the command (Prefect's images: tini,
    // then entrypoint.sh, which execs its arguments); here the command runs directly.
    const argv = [...(this.workerContainer.entryPoint ?? []), ...(this.workerContainer.command ?? [])];
    this.workerLog = join(this.home, "worker.log");
    this.worker = startProcess(argv[0], argv.slice(1), {
      cwd: mkdtempSync(join(this.home, "worker-")),
      log: this.workerLog,
      env: cleanEnv({
        ...Object.fromEntries((this.workerContainer.environment ?? []).map((e: { name: string; value: string }) => [e.name, e.value])),
        PREFECT_API_URL: server.apiUrl,
        PREFECT_API_KEY: this.apiKey,
        PREFECT_HOME: join(this.home, "worker-home"),
        // The container's port (8080) may be taken on a shared machine; the health server gets a free one.
        PREFECT_WORKER_WEBSERVER_HOST: "127.0.0.1",
        PREFECT_WORKER_WEBSERVER_PORT: String(await freePort()),
        AWS_ENDPOINT_URL: this.recorder.endpoint,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_DEFAULT_REGION: EMULATOR_REGION,
        AWS_REGION: EMULATOR_REGION,
      }),
    });
  }

  logTail(): string {
    try {
      return readFileSync(this.workerLog, "utf8").slice(-4_000);
    } catch {
      return "(no worker log)";
    }
  }

  /** Waits (bounded) until the proxy has recorded `count` answered RunTask calls; fails with the worker's log otherwise. */
  async runTasks(count: number, timeoutMs = 120_000): Promise<RecordedCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const calls = this.recorder!.of("RunTask");
      if (calls.length >= count) return calls;
      if (this.worker?.exitCode !== null) throw new Error(`the worker exited (${this.worker?.exitCode}); its log ends:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`no RunTask number ${count} within ${timeoutMs / 1000} s; the worker's log ends:\n${this.logTail()}`);
  }

  /** A flow run of a deployment, scheduled now; returns its id. */
  async createFlowRun(deploymentId: string): Promise<string> {
    const created = await api(this.server, "POST", `/deployments/${deploymentId}/create_flow_run`, {});
    expect(created.status, JSON.stringify(created.json).slice(0, 500)).toBe(201);
    return created.json.id as string;
  }

  async stop(): Promise<void> {
    if (this.worker) await stopProcess(this.worker, 1_000);
    await this.recorder?.stop();
    await api(this.server, "DELETE", `/work_pools/${this.pool}`).catch(() => undefined);
    await this.lane.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}
