import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { freePort } from "../../src/sandbox/processes";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The real Prefect (server, CLI and prefect-aws's ECS worker) for the real-Prefect tier: the `prefect` on PATH, at
 * the version src/versions.ts pins (the sandbox's check): a different version proves nothing about the one the
 * stack runs.
 */
export { findLocalPrefect as findRealPrefect, PREFECT_HINT as REAL_PREFECT_HINT } from "../../src/sandbox/prerequisites";

export { freePort } from "../../src/sandbox/processes";

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) if (child.pid) killGroup(child.pid, "SIGKILL");
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops a process started here, and everything it started, by its process group: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return void running.delete(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => killGroup(child.pid!, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

/** Starts a process in its own group (so stopping it takes its children too), output to a log file. */
export function startProcess(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; log: string }): ChildProcess {
  writeFileSync(options.log, "");
  const out = openSync(options.log, "a");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", out, out] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** The environment every real-Prefect process starts from: PATH and HOME only, so no profile or PREFECT_* of the machine leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), LANG: "C.UTF-8", ...extra };
}

export interface PrefectServer {
  readonly apiUrl: string;
  /** Settings for a client of this server: its URL, the auth string if it has one, and a home of its own. */
  readonly clientEnv: Record<string, string>;
  readonly pid: number;
  readonly log: string;
  stop(): Promise<void>;
}

async function waitForHealth(url: string, child: ChildProcess, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/**
 * A Prefect server on 127.0.0.1 with SQLite in a temporary home. Its background tasks run on docket; where
 * `redis-server` is on PATH (the offline bundle has no `lupa` for docket's in-memory backend) a Redis on a Unix
 * socket in the same home serves them. `authString` ("user:password") turns on the server's basic auth.
 */
export async function startPrefectServer(options: { authString?: string } = {}): Promise<PrefectServer> {
  const home = mkdtempSync(join(tmpdir(), "prefect-ecs-server-"));
  const children: ChildProcess[] = [];
  const env: Record<string, string> = {
    PREFECT_HOME: join(home, "prefect"),
    PREFECT_SERVER_ANALYTICS_ENABLED: "false",
    PREFECT_SERVER_UI_ENABLED: "false",
    PREFECT_LOGGING_LEVEL: "WARNING",
    ...(options.authString ? { PREFECT_SERVER_API_AUTH_STRING: options.authString } : {}),
  };
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status === 0) {
    const socket = join(home, "redis.sock");
    const redis = startProcess("redis-server", ["--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no"], {
      env: cleanEnv(),
      cwd: home,
      log: join(home, "redis.log"),
    });
    children.push(redis);
    env.PREFECT_SERVER_DOCKET_URL = `unix://${socket}?db=0`;
  }
  const stopAll = async () => {
    for (const child of children.reverse()) await stopProcess(child);
    rmSync(home, { recursive: true, force: true });
  };
  // A port found free can be taken before the server binds it: try again on a new one.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}/api`;
    const log = join(home, `server-${attempt}.log`);
    const server = startProcess("prefect", ["server", "start", "--host", "127.0.0.1", "--port", String(port)], {
      env: cleanEnv(env),
      cwd: home,
      log,
    });
    if (await waitForHealth(apiUrl, server, 120_000)) {
      children.push(server);
      const clientHome = join(home, "client");
      return {
        apiUrl,
        clientEnv: {
          PREFECT_API_URL: apiUrl,
          PREFECT_HOME: clientHome,
          ...(options.authString ? { PREFECT_API_AUTH_STRING: options.authString } : {}),
        },
        pid: server.pid!,
        log,
        stop: stopAll,
      };
    }
    const output = readFileSync(log, "utf8");
    await stopProcess(server);
    if (attempt === 3 || !/address already in use|Errno 98/i.test(output)) {
      await stopAll();
      throw new Error(`the Prefect server did not become healthy; its log ends:\n${output.slice(-2_000)}`);
    }
  }
  throw new Error("unreachable");
}

/** Runs the real CLI (or any command) with the server's client settings; the result of a finished process. */
export function runPrefect(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("prefect", args, {
    cwd: options.cwd ?? tmpdir(),
    env: cleanEnv(env),
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Answers Prefect's own client retries (prefect/client/base.py:390-393), up to its default 5 retries. */
const RETRIED = new Set([429, 502, 503]);
const RETRIES = 5;

/**
 * A JSON call to the server's REST API (for reading back what the CLI did, and for quick template checks). A new
 * connection each time: uvicorn closes idle ones after 5 s, and a pooled connection it closed fails the call. A
 * server busy with the tier's other files may answer 503; like Prefect's client, the call is then made again.
 */
export async function api(
  server: Pick<PrefectServer, "apiUrl" | "clientEnv">,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  for (let attempt = 0; ; attempt++) {
    const answer = await apiOnce(server, method, path, body);
    if (!RETRIED.has(answer.status) || attempt === RETRIES) return answer;
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
  }
}

function apiOnce(
  server: Pick<PrefectServer, "apiUrl" | "clientEnv">,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const auth = server.clientEnv.PREFECT_API_AUTH_STRING;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.apiUrl}${path}`,
      {
        method,
        agent: false,
        timeout: 30_000,
        headers: {
          "content-type": "application/json",
          ...(payload ? { "content-length": Buffer.byteLength(payload) } : {}),
          ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          let json: any = text;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * A synthesized template (Terraform's `local.base_job_template`) with each `${…}` reference replaced by a value of
 * the same kind (an ARN where it names one): the server checks the template's shape, not what AWS ids hold.
 */
export function renderTemplateForTest(template: string, suffix = ""): string {
  const rendered = template.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => {
    const name = expression.trim().replace(/[^A-Za-z0-9]+/g, "-");
    return expression.trim().endsWith(".arn") ? `arn:aws:iam::123456789012:role/${name}${suffix}` : `${name}${suffix}`;
  });
  JSON.parse(rendered);
  return rendered;
}
