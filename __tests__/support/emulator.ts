import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { GAP_SERVICES, type GapsProxy, startGapsProxy } from "./emulator-gaps";

/**
 * moto's server (the AWS API emulator prefect-aws's own tests use) on 127.0.0.1, one per test lane.
 * Terraform's real AWS provider and the AWS SDK are pointed at it through test-only settings.
 */
export const MOTO_INSTALL_HINT = 'The emulator tests need moto\'s server for Python 3; install it with: pip install "moto[server]"';

const PYTHON = process.env.EMULATOR_PYTHON ?? "python3";

/**
 * Runs moto's server and exits when stdin closes, so a test process that dies without its exit
 * handlers (a killed vitest worker) still takes its server with it.
 */
const SERVER_SCRIPT = `
import os, sys, threading
def watch_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
`;

/** AWS managed policies (AmazonECSTaskExecutionRolePolicy) exist in moto's IAM only with this set. */
const SERVER_ENV = { MOTO_IAM_LOAD_MANAGED_POLICIES: "true" };

export interface Emulator {
  /** moto's server. */
  readonly endpoint: string;
  /** Where Terraform sends each service: moto, or for the services in GAP_SERVICES the proxy in front of it. */
  readonly providerEndpoints: Record<string, string>;
  /** The proxy that answers the operations moto lacks (see emulator-gaps.ts). */
  readonly gaps: Pick<GapsProxy, "answered">;
  /** Operations moto answered with "not implemented" (from its log): each is a gap in the emulator. */
  readonly notImplemented: Set<string>;
  /** Back to an empty account (moto's reset API): isolates one scenario from the next. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHandlersInstalled = false;

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill("SIGKILL");
      process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    });
  }
}

/** Fails with one line saying how to install moto when Python or moto's server is missing. */
export function requireMoto(): void {
  const probe = spawnSync(PYTHON, ["-c", "import moto.server, flask, werkzeug"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(MOTO_INSTALL_HINT);
}

async function startOnce(env: Record<string, string>): Promise<Emulator> {
  // Port 0: moto's server binds a free port itself and prints it. A port probed here and handed over could be
  // taken by another lane's server first; this one would then fail to bind while the other answered its probe.
  const child = spawn(PYTHON, ["-c", SERVER_SCRIPT, "0"], {
    env: { ...process.env, ...SERVER_ENV, ...env },
    stdio: ["pipe", "ignore", "pipe"],
  });
  running.add(child);
  let stderr = "";
  const notImplemented = new Set<string>();
  child.stderr!.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
    for (const match of String(chunk).matchAll(/The (\w+) action has not been implemented/g)) notImplemented.add(match[1]);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => running.delete(child));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin!.end();
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };

  const deadline = Date.now() + 30_000;
  let endpoint = "";
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto's server exited (${child.exitCode}) before it answered:\n${stderr}`);
    const bound = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
    if (!endpoint && bound) endpoint = `http://127.0.0.1:${bound}`;
    try {
      if (endpoint && (await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto's server did not answer${endpoint ? ` on ${endpoint}` : ""} within 30 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const gaps = await startGapsProxy(endpoint).catch(async (error) => {
    await stop();
    throw error;
  });
  const providerEndpoints: Record<string, string> = Object.fromEntries(
    PROVIDER_ENDPOINT_SERVICES.map((service) => [service, (GAP_SERVICES as readonly string[]).includes(service) ? gaps.endpoint : endpoint]),
  );
  return {
    endpoint,
    providerEndpoints,
    gaps,
    notImplemented,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status} ${await response.text()}`);
      gaps.reset();
    },
    async stop() {
      await Promise.all([gaps.stop(), stop()]);
    },
  };
}

/**
 * Starts moto's server on a free port of 127.0.0.1 (managed policies loaded); stopped by stop() or at process exit.
 * `env` sets moto's own switches, such as MOTO_ECS_SERVICE_RUNNING (tasks a new ECS service reports running).
 */
export async function startEmulator(env: Record<string, string> = {}): Promise<Emulator> {
  requireMoto();
  installExitHandlers();
  // A server that fails to start (a slow machine, a bind error) is tried again.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(env);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Fake credentials the emulator accepts (it checks none). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "emulator-not-a-secret" };
export const EMULATOR_ACCOUNT_ID = "123456789012";

/** Every AWS service the stack (and the provider's own account lookup) calls, pointed at one endpoint. */
const PROVIDER_ENDPOINT_SERVICES = [
  "appautoscaling",
  "autoscaling",
  "budgets",
  "cloudwatch",
  "dynamodb",
  "ec2",
  "ecr",
  "ecs",
  "efs",
  "elbv2",
  "events",
  "iam",
  "kms",
  "logs",
  "rds",
  "s3",
  "secretsmanager",
  "servicediscovery",
  "sns",
  "sqs",
  "ssm",
  "sts",
] as const;

/** The AWS provider block of a test-only override file: fake credentials, emulator endpoints. */
export function emulatorProvider(emulator: Pick<Emulator, "providerEndpoints">): Record<string, unknown> {
  return {
    access_key: EMULATOR_CREDENTIALS.accessKeyId,
    secret_key: EMULATOR_CREDENTIALS.secretAccessKey,
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    // moto's STS answers GetCallerIdentity, so ARNs carry its account id as they would a real one.
    skip_requesting_account_id: false,
    s3_use_path_style: true,
    endpoints: [emulator.providerEndpoints],
  };
}

/** The S3 backend block of a test-only override: the stack's backend, its state and lock in the emulator. */
export function emulatorS3Backend(backend: Record<string, unknown>, endpoint: string): Record<string, unknown> {
  return {
    ...backend,
    access_key: EMULATOR_CREDENTIALS.accessKeyId,
    secret_key: EMULATOR_CREDENTIALS.secretAccessKey,
    endpoints: { s3: endpoint, dynamodb: endpoint, sts: endpoint },
    use_path_style: true,
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    skip_requesting_account_id: true,
  };
}
