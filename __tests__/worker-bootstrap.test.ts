import { spawn, spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READY_PROBE_ATTEMPTS, TEMPLATE_ENV } from "../src/work-pool/worker-bootstrap";
import { TEMPLATE_TEMP_PREFIX } from "../src/naming";
import { prefectDoubleWorkdir } from "./support/prefect-double";
import { resources, synthVariant } from "./support/synth";

/**
 * The worker's own pool step (prefect_server): the command and environment come from the synthesized task
 * definition and run in a real shell with a stand-in `prefect` (a test double, see support/prefect-double.ts),
 * a stand-in `sleep` that only counts, the machine's Python for the readiness probe and the template's
 * decoding, and a local HTTP server standing in for Prefect's /api/ready.
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

async function run(options: { mode?: string; template?: string } = {}) {
  // The interpreter itself, not a version-manager shim (a shim needs more than this PATH).
  const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
  const w = prefectDoubleWorkdir({ tools: ["mktemp", "rm"], links: { python } });
  // A stand-in sleep: counts the waits instead of taking them.
  writeFileSync(join(w.bin, "sleep"), `#!/bin/sh\necho "$1" >> "${join(w.dir, "sleeps")}"\n`);
  chmodSync(join(w.bin, "sleep"), 0o755);
  const env = {
    ...workerEnv,
    [TEMPLATE_ENV]: options.template ?? encodedTemplate,
    PREFECT_API_URL: apiUrl,
    PATH: w.bin,
    TMPDIR: join(w.dir, "tmp"),
    DOUBLE_LOG: w.log,
    DOUBLE_MODE: options.mode ?? "ok",
  };
  const [command, flag, script] = worker.command as string[];
  const child = spawn(command, [flag, script], { cwd: w.dir, env });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const read = (file: string) => {
    try {
      return readFileSync(join(w.dir, file), "utf8").trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  const calls = read("calls.jsonl").map((line) => JSON.parse(line) as { args: string[]; templateText?: string });
  return { status, stderr, calls, sleeps: read("sleeps").length, leftInTmp: readdirSync(join(w.dir, "tmp")) };
}

describe("the worker's pool step with an in-stack server, in a shell with a stand-in prefect CLI", () => {
  it("GIVEN the server is ready THEN the pool is written from the task definition's template, queues are created, then the worker starts", async () => {
    ready = true;
    const result = await run();
    expect(result.status, result.stderr).toBe(0);
    const templatePath = result.calls[0].args[6];
    expect(templatePath).toContain(`/tmp/${TEMPLATE_TEMP_PREFIX}.`);
    // Byte for byte what Terraform rendered, after Python's gunzip.
    expect(result.calls[0].templateText).toBe(renderedTemplate);
    expect(result.calls.map((c) => c.args)).toEqual([
      ["work-pool", "create", "dev-prefect-ecs", "--type", "ecs", "--base-job-template", templatePath, "--overwrite"],
      ["work-queue", "inspect", "default", "--pool", "dev-prefect-ecs"],
      ["work-queue", "inspect", "high-priority", "--pool", "dev-prefect-ecs"],
      ["work-queue", "create", "high-priority", "--pool", "dev-prefect-ecs"],
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
    expect(result.sleeps).toBe(0);
    expect(result.leftInTmp).toEqual([]);
  });

  it("GIVEN the server never becomes ready THEN the container exits 1 saying so, without touching the pool or starting the worker", async () => {
    ready = false;
    const result = await run();
    ready = true;
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`prefect-ecs: the Prefect server at ${apiUrl} was not ready after ${READY_PROBE_ATTEMPTS} checks`);
    expect(result.calls).toEqual([]);
    expect(result.sleeps).toBe(READY_PROBE_ATTEMPTS - 1);
  });

  it("GIVEN the server refuses the pool THEN the container exits 1 naming the pool, and the worker never starts", async () => {
    const result = await run({ mode: "refuse-create" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("401 Unauthorized");
    expect(result.stderr).toContain("prefect-ecs: could not create or update work pool dev-prefect-ecs");
    expect(result.calls.map((c) => c.args[0] + " " + c.args[1])).toEqual(["work-pool create"]);
  });

  it("GIVEN a template the server would reject THEN the worker never starts", async () => {
    const broken = gzipSync(JSON.stringify({ job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: {} } })).toString("base64");
    const result = await run({ template: broken });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("unknown placeholders: cluster");
    expect(result.calls.some((c) => c.args[0] === "worker")).toBe(false);
  });
});
