import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CommandContext, DEFAULT_DEPLOYMENT, registerDeployments, runDeployment } from "../../src/flows/commands";
import type { FlowStackOutputs } from "../../src/flows/stack-outputs";
import { type Emulator, EMULATOR_CREDENTIALS, startEmulator } from "../support/emulator";
import { EMULATOR_REGION } from "../support/emulator-aws";
import { api, cleanEnv, renderTemplateForTest } from "../support/prefect-real";
import { synth } from "../support/synth";

/**
 * `npm run flow-deploy` and `npm run flow-run`, with the real Prefect CLI against a real server and the real AWS CLI
 * against moto (for its identity check), up to where AWS takes over: no worker serves this pool, so the run is
 * created and followed until the watch gives up, and the command says no ECS task was started and where to look.
 */
const ROOT = join(__dirname, "..", "..");
const server = inject("prefectServer");
const POOL = "flow-commands-pool";
const IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev-flows:abc1234";
const outputs: FlowStackOutputs = {
  flows_repository_url: "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev-flows",
  work_pool_name: POOL,
  flow_run_cpu_architecture: "X86_64",
  flow_run_efs_mount_path: "",
  flow_run_log_group: "/ecs/prefect-ecs-dev/flow-runs",
  worker_log_group: "/ecs/prefect-ecs-dev/worker",
  cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prefect-ecs-dev",
};

let emulator: Emulator;
let ctx: CommandContext;
const logged: string[] = [];
beforeAll(async () => {
  emulator = await startEmulator();
  // A copy of the project's flows/: `prefect deploy` may write beside prefect.yaml.
  const projectDir = mkdtempSync(join(tmpdir(), "prefect-ecs-flows-"));
  cpSync(join(ROOT, "flows"), join(projectDir, "flows"), { recursive: true });
  ctx = {
    env: cleanEnv({
      ...server.clientEnv,
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: EMULATOR_REGION,
    }),
    projectDir,
    log: (line) => logged.push(line),
  };
  const template = JSON.parse(renderTemplateForTest((synth().json as any).locals.base_job_template));
  const created = await api(server, "POST", "/work_pools/", { name: POOL, type: "ecs", base_job_template: template });
  expect(created.status).toBe(201);
}, 120_000);
afterAll(() => emulator?.stop());

describe("the flow commands with the real Prefect CLI", () => {
  it("GIVEN the stack's pool WHEN flow-deploy registers flows/ with an image THEN the server holds the deployment on that pool with that image", async () => {
    expect(registerDeployments(outputs, ctx, { image: IMAGE })).toBe(IMAGE);
    const [flowName, deploymentName] = DEFAULT_DEPLOYMENT.split("/");
    const read = await api(server, "GET", `/deployments/name/${flowName}/${deploymentName}`);
    expect(read.status).toBe(200);
    expect(read.json.work_pool_name).toBe(POOL);
    expect(read.json.job_variables).toMatchObject({ image: IMAGE, env: { FLOW_IMAGE: IMAGE, EFS_MOUNT_PATH: "" } });
    expect(read.json.pull_steps).toEqual([{ "prefect.deployments.steps.set_working_directory": { directory: "/opt/prefect/flows" } }]);
  });

  it("GIVEN no worker takes the run WHEN flow-run starts it THEN it returns the run's id, not completed, and says no ECS task was started and where to look", async () => {
    const result = runDeployment(outputs, ctx, DEFAULT_DEPLOYMENT, 5);
    expect(result.completed).toBe(false);
    const run = await api(server, "GET", `/flow_runs/${result.flowRunId}`);
    expect(run.status).toBe(200);
    expect(run.json.work_pool_name).toBe(POOL);
    expect(["SCHEDULED", "PENDING"]).toContain(run.json.state.type);
    expect(result.hints[0]).toBe(
      `No ECS task was started for flow run ${result.flowRunId}: a run stuck in Pending or Late means no worker picked it up; see the worker's log group ${outputs.worker_log_group}:`,
    );
    expect(result.hints[1]).toBe(`  aws logs tail ${outputs.worker_log_group} --since 30m --region us-east-1`);
  });
});
