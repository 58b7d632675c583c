import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_WAIT_ENV, TEMPLATE_ENV } from "../src/work-pool/worker-bootstrap";
import { TEMPLATE_TEMP_PREFIX } from "../src/naming";
import { doubleCalls, newPoolCalls, prefectDoubleWorkdir } from "./support/prefect-double";
import { resources, synthVariant } from "./support/synth";

/**
 * The worker's own pool step (prefect_server): the command and environment come from the synthesized task
 * definition and run in a real shell with a stand-in `prefect` (a test double, see support/prefect-double.ts),
 * the machine's Python for the readiness wait and the template's decoding, and a local HTTP server standing in
 * for Prefect's /api/ready. The wait's deadline is shortened to one second.
 */
const { json } = synthVariant("prefect_server");
const worker = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0];
const workerEnv: Record<string, string> = Object.fromEntries(worker.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
/** What Terraform would render: the template with fake ids, gzipped and base64-encoded as base64gzip() does. */
const renderedTemplate = ((json as any).locals.base_job_template as string).replace(
  /\$\{([^}]+)\}/g,
  (_, e: string) => `fake-${e.replace(/\W/g, "_")}`,
);
const encodedTemplate = gzipSync(Buffer.from(renderedTemplate)).toString("base64");

let ready = true;
let server: Server;
let apiUrl: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    response.statusCode = request.url === "/api/ready" && ready ? 200 : 503;
    response.end(request.url === "/api/ready" && ready ? '{"message":"OK"}' : '{"message":"Database is not available"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(options: { mode?: string; template?: string | null; poolExists?: boolean } = {}) {
  // The interpreter itself, not a version-manager shim (a shim needs more than this PATH).
  const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
  const w = prefectDoubleWorkdir({ tools: ["mktemp", "rm"], links: { python } });
  const env: Record<string, string> = {
    ...workerEnv,
    [TEMPLATE_ENV]: options.template ?? encodedTemplate,
    [SERVER_WAIT_ENV]: "1",
    PREFECT_API_URL: apiUrl,
    PATH: w.bin,
    TMPDIR: join(w.dir, "tmp"),
    DOUBLE_LOG: w.log,
    DOUBLE_MODE: options.mode ?? "ok",
    DOUBLE_POOL_EXISTS: options.poolExists ? "1" : "0",
  };
  if (options.template === null) delete env[TEMPLATE_ENV];
  const [command, flag, script] = worker.command as string[];
  const child = spawn(command, [flag, script], { cwd: w.dir, env });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const calls = doubleCalls(w);
  return { status, stderr, calls, leftInTmp: readdirSync(join(w.dir, "tmp")) };
}

describe("the worker's pool step with an in-stack server, in a shell with a stand-in prefect CLI", () => {
  it("GIVEN the server is ready THEN the pool is written from the task definition's template, queues are created, then the worker starts", async () => {
    ready = true;
    const result = await run();
    expect(result.status, result.stderr).toBe(0);
    const templatePath = result.calls[1].args[6];
    expect(templatePath).toContain(`/tmp/${TEMPLATE_TEMP_PREFIX}.`);
    // Byte for byte what Terraform rendered, after Python's gunzip.
    expect(result.calls[1].templateText).toBe(renderedTemplate);
    expect(result.calls.map((c) => c.args)).toEqual([
      ...newPoolCalls("dev-prefect-ecs", templatePath, ["default", "high-priority"]),
      [
        "worker",
        "start",
        "--pool",
        "dev-prefect-ecs",
        "--type",
        "ecs",
        "--with-healthcheck",
        "--work-queue",
        "default",
        "--work-queue",
        "high-priority",
      ],
    ]);
    expect(result.leftInTmp).toEqual([]);
  });

  it("GIVEN the pool exists (perhaps paused by an operator) WHEN a worker task starts THEN only the template is updated", async () => {
    const result = await run({ poolExists: true });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.slice(0, 2).map((c) => c.args.slice(0, 3))).toEqual([
      ["work-pool", "inspect", "dev-prefect-ecs"],
      ["work-pool", "update", "dev-prefect-ecs"],
    ]);
    expect(result.calls.flatMap((c) => c.args)).not.toContain("--overwrite");
  });

  it("GIVEN no template in the environment THEN the container exits 1 saying so, and leaves no temporary file", async () => {
    const result = await run({ template: null });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`prefect-ecs: could not decode the base job template from ${TEMPLATE_ENV}`);
    expect(result.calls).toEqual([]);
    expect(result.leftInTmp).toEqual([]);
  });

  it("GIVEN the server never becomes ready THEN the container exits 1 saying so, without touching the pool or starting the worker", async () => {
    ready = false;
    const result = await run();
    ready = true;
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`prefect-ecs: the Prefect server at ${apiUrl} was not ready within 1 s`);
    expect(result.calls).toEqual([]);
  });

  it("GIVEN the server refuses the pool THEN the container exits 1 naming the pool, and the worker never starts", async () => {
    const result = await run({ mode: "refuse-create" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("401 Unauthorized");
    expect(result.stderr).toContain("prefect-ecs: could not create or update work pool dev-prefect-ecs");
    expect(result.stderr.match(/401 Unauthorized/g)).toHaveLength(1);
    expect(result.calls.map((c) => c.args[0] + " " + c.args[1])).toEqual(["work-pool inspect", "work-pool create"]);
  });

  it("GIVEN a template the server would reject THEN the worker never starts", async () => {
    const broken = gzipSync(JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: {} } })).toString("base64");
    const result = await run({ template: broken });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("undeclared variable(s): cluster");
    expect(result.calls.some((c) => c.args[0] === "worker")).toBe(false);
  });
});
