import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESERVED_POOL_HINT } from "../../src/work-pool/pool-shell";
import { provisionerOf } from "../support/emulator-prefect";
import { api, cleanEnv, type PrefectServer, renderTemplateForTest, startPrefectServer } from "../support/prefect-real";
import { synthVariant } from "../support/synth";

/**
 * The work pool's two provisioner commands, taken from the synthesized stack and run the way Terraform's
 * local-exec runs them (`/bin/sh -c`), with the real Prefect CLI against a real server that requires basic auth
 * (the self-hosted variant's credential). What the pool holds afterwards is read back from the server's API.
 */
const AUTH = "operator:a-long-enough-auth-string-for-tests";
const QUEUES = ["default", "critical"];
const json = synthVariant("self_hosted", { work_queues: QUEUES }).json as any;
const create = provisionerOf(json, "work_pool_template_sync");
const destroy = provisionerOf(json, "work_pool_pool", "destroy");

let server: PrefectServer;
beforeAll(async () => {
  server = await startPrefectServer({ authString: AUTH });
});
afterAll(() => server?.stop());

/** Runs a provisioner command with its environment as Terraform would render it for this server. */
function runCommand(command: string, environment: Record<string, string>) {
  const result = spawnSync("/bin/sh", ["-c", command], {
    cwd: mkdtempSync(join(tmpdir(), "prefect-ecs-stack-")),
    env: cleanEnv({ PREFECT_HOME: server.clientEnv.PREFECT_HOME, ...environment }),
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function createEnv(pool: string, template: string, auth = AUTH): Record<string, string> {
  // The synthesized environment, each Terraform reference given its value.
  expect(Object.keys(create.environment).sort()).toEqual([
    "BASE_JOB_TEMPLATE",
    "PREFECT_API_AUTH_STRING",
    "PREFECT_API_URL",
    "WORK_POOL",
    "WORK_QUEUES",
  ]);
  expect(create.environment.PREFECT_API_AUTH_STRING).toBe("${var.prefect_api_auth_string}");
  return {
    BASE_JOB_TEMPLATE: template,
    PREFECT_API_AUTH_STRING: auth,
    PREFECT_API_URL: server.apiUrl,
    WORK_POOL: pool,
    WORK_QUEUES: create.environment.WORK_QUEUES,
  };
}
const destroyEnv = (pool: string) => ({ WORK_POOL: pool, PREFECT_API_URL: server.apiUrl, PREFECT_API_AUTH_STRING: AUTH });

const queuesOf = async (pool: string) => (await api(server, "POST", `/work_pools/${pool}/queues/filter`, {})).json as { name: string; id: string }[];

describe("the pool commands of the synthesized stack, with the real Prefect CLI and server", () => {
  const pool = "dev-prefect-ecs";
  const first = renderTemplateForTest(json.locals.base_job_template);
  const second = renderTemplateForTest(json.locals.base_job_template, "-v2");

  it("GIVEN no pool WHEN the create command runs THEN the pool holds the stack's template and each queue", async () => {
    const result = runCommand(create.command, createEnv(pool, first));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const read = await api(server, "GET", `/work_pools/${pool}`);
    expect(read.status).toBe(200);
    expect(read.json.type).toBe("ecs");
    expect(read.json.base_job_template).toEqual(JSON.parse(first));
    expect((await queuesOf(pool)).map((q) => q.name).sort()).toEqual([...QUEUES].sort());
  });

  it("GIVEN an operator paused the pool, set a limit and a description WHEN the template changes THEN only the template changes and no queue is made twice", async () => {
    const patched = await api(server, "PATCH", `/work_pools/${pool}`, { is_paused: true, concurrency_limit: 3, description: "set by an operator" });
    expect(patched.status).toBe(204);
    const queuesBefore = await queuesOf(pool);
    const result = runCommand(create.command, createEnv(pool, second));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const read = (await api(server, "GET", `/work_pools/${pool}`)).json;
    expect(read.base_job_template).toEqual(JSON.parse(second));
    expect(read).toMatchObject({ is_paused: true, concurrency_limit: 3, description: "set by an operator" });
    expect(await queuesOf(pool)).toEqual(queuesBefore);
  });

  it("GIVEN the destroy command WHEN the pool exists THEN it is deleted, and a second run reports it already gone", async () => {
    const deleted = runCommand(destroy.command, destroyEnv(pool));
    expect(deleted.status, deleted.stdout + deleted.stderr).toBe(0);
    expect((await api(server, "GET", `/work_pools/${pool}`)).status).toBe(404);
    const again = runCommand(destroy.command, destroyEnv(pool));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`prefect-ecs: work pool ${pool} is already gone`);
  });

  it("GIVEN a reserved pool name WHEN the create command runs THEN the server's 403 reason is shown once, with what to change, and no traceback", async () => {
    const result = runCommand(create.command, createEnv("Prefect-ecs-dev", first));
    expect(result.status).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output.match(/reserved for internal use/g)).toHaveLength(1);
    expect(result.stderr).toContain(RESERVED_POOL_HINT);
    expect(output).not.toContain("Traceback");
    expect((await api(server, "GET", "/work_pools/Prefect-ecs-dev")).status).toBe(404);
  });

  it("GIVEN a template the server refuses WHEN the create command runs THEN its 422 is shown once, with one traceback, and no queue or pool is made", async () => {
    const refused = JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: {} } });
    const result = runCommand(create.command, createEnv("refused-template", refused));
    expect(result.status).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain("undeclared variable(s): cluster");
    expect(output.match(/Traceback \(most recent call last\)/g)).toHaveLength(1);
    expect(output.match(/422 Unprocessable Entity/g)).toHaveLength(1);
    expect((await api(server, "GET", "/work_pools/refused-template")).status).toBe(404);
  });

  it("GIVEN a wrong auth string WHEN the create command runs THEN it fails once with the server's 401, and no pool is made", async () => {
    const result = runCommand(create.command, createEnv("wrong-credential", first, "operator:not-the-right-one-at-all"));
    expect(result.status).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain("401");
    expect(output).not.toContain("not-the-right-one-at-all");
    expect((await api(server, "GET", "/work_pools/wrong-credential")).status).toBe(404);
  });
});
