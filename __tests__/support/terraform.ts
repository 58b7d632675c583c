import { setAsideWorkPool, withoutWorkPoolProviders } from "../../src/sandbox/work-pool-aside";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { TerraformJson } from "./synth";

/**
 * The real Terraform binary, with providers from a filesystem mirror when the machine has one, and otherwise
 * from the registry through one shared plugin cache (one download for every test). Credentials are fake and
 * the AWS provider is told not to validate them; these settings exist only in test copies of the stacks.
 */
export interface TerraformTooling {
  readonly bin: string;
  /** The filesystem mirror providers come from, or undefined when they come from the registry. */
  readonly mirrorRoot: string | undefined;
  /** Environment for Terraform child processes only. */
  readonly env: NodeJS.ProcessEnv;
}

/** The provider the stacks are planned with (package.json pins @cdktf/provider-aws 20.1.0, built for it). */
export const AWS_PROVIDER_VERSION = "5.100.0";

/** What to do when neither a mirror nor the registry can provide hashicorp/aws: one line. */
export const MIRROR_INSTRUCTION =
  `The real-Terraform tests need hashicorp/aws ${AWS_PROVIDER_VERSION}: no provider mirror was found and registry.terraform.io cannot be reached. ` +
  "On a machine with internet run `npm run synth && terraform -chdir=cdktf.out/stacks/prefect-ecs-dev providers mirror $HOME/terraform-mirror`, " +
  "copy that folder here, and set PREFECT_ECS_PROVIDER_MIRROR to its path.";

/**
 * A provider mirror: PREFECT_ECS_PROVIDER_MIRROR when set ("none" to use the registry even where a mirror
 * exists), else the parent of a registry.terraform.io folder holding hashicorp/aws at that version within 4
 * levels of /.
 */
function findMirror(given: string | undefined): string | undefined {
  if (given === "none") return undefined;
  if (given) {
    if (!existsSync(join(given, "registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER_VERSION)))
      throw new Error(
        `PREFECT_ECS_PROVIDER_MIRROR=${given} holds no registry.terraform.io/hashicorp/aws/${AWS_PROVIDER_VERSION}; ${MIRROR_INSTRUCTION}`,
      );
    return given;
  }
  const found = spawnSync("sh", ["-c", "find / -xdev -maxdepth 4 -type d -name registry.terraform.io 2>/dev/null"], { encoding: "utf8" });
  const registry = found.stdout
    .split("\n")
    .map((line) => line.trim())
    .find((path) => path && existsSync(join(path, "hashicorp", "aws", AWS_PROVIDER_VERSION)));
  return registry ? join(registry, "..") : undefined;
}

/** Tooling for this environment (tests of the fallback pass their own); terraformTooling() caches the process's. */
export function makeTooling(processEnv: NodeJS.ProcessEnv = process.env): TerraformTooling {
  const which = spawnSync("sh", ["-c", "command -v terraform"], { encoding: "utf8", env: processEnv });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) {
    throw new Error("The real-Terraform tests need `terraform` (1.11+) on PATH, and it is not there. Install Terraform to run them.");
  }
  const mirrorRoot = findMirror(processEnv.PREFECT_ECS_PROVIDER_MIRROR);
  const configDir = mkdtempSync(join(tmpdir(), "prefect-ecs-tfcli-"));
  const cliConfig = join(configDir, "terraform.rc");
  const env: NodeJS.ProcessEnv = { ...processEnv, TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
  if (mirrorRoot) {
    writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirrorRoot)}\n  }\n}\n`);
  } else {
    // The registry, downloaded once: every test directory links the provider from one cache. The test
    // directories have no lock file, so Terraform must be allowed to use the cache without one.
    const cache = processEnv.TF_PLUGIN_CACHE_DIR || join(homedir(), ".cache", "prefect-ecs", "terraform-plugins");
    mkdirSync(cache, { recursive: true });
    writeFileSync(cliConfig, `plugin_cache_dir = ${JSON.stringify(cache)}\n`);
    env.TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE = "1";
  }
  for (const name of Object.keys(env)) if (name.startsWith("TF_VAR_")) delete env[name];
  return { bin, mirrorRoot, env };
}

let tooling: TerraformTooling | undefined;

export function terraformTooling(): TerraformTooling {
  tooling ??= makeTooling();
  return tooling;
}

/**
 * Makes sure hashicorp/aws can be installed (from the mirror, or into the shared cache from the registry),
 * once, before test files run side by side: the plugin cache is not safe for concurrent first downloads.
 * Throws MIRROR_INSTRUCTION when it cannot.
 */
export function ensureAwsProvider(t: TerraformTooling = terraformTooling()): void {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-tf-provider-"));
  const config = { terraform: { required_providers: { aws: { source: "hashicorp/aws", version: AWS_PROVIDER_VERSION } } } };
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(config));
  const init = spawnSync(t.bin, ["init", "-input=false", "-no-color"], { cwd: dir, env: t.env, encoding: "utf8" });
  if (init.status !== 0) {
    const why = `${init.stdout}\n${init.stderr}`;
    const unreachable = /Failed to query available provider packages|could not connect|Failed to install provider|no available releases/i.test(why);
    throw new Error(unreachable ? MIRROR_INSTRUCTION : `terraform init failed:\n${why}`);
  }
}

export const FAKE_AWS_PROVIDER = {
  access_key: "AKIAIOSFODNN7EXAMPLE",
  secret_key: "not-a-real-secret",
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  skip_region_validation: true,
};

/** Writes a stack copy plus a test-only override (fake credentials, and a backend) into a new directory. */
export function stackDir(json: TerraformJson, backend: Record<string, unknown> = { local: { path: "terraform.tfstate" } }): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-tf-"));
  writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(json, null, 2));
  // An override file's backend block replaces the stack's; its provider block merges into the stack's.
  writeFileSync(join(dir, "test_override.tf.json"), JSON.stringify({ terraform: { backend }, provider: { aws: FAKE_AWS_PROVIDER } }, null, 2));
  return dir;
}

/**
 * Lays several synthesized stacks out as modules of one root configuration, so a single `terraform
 * validate` / `plan` / `show` covers them all. Each run starts the 700 MB AWS provider and loads its
 * schema (about 3 s here); one root instead of one per stack keeps the tier inside the test budget.
 * Backends are dropped (modules have none) and each module keeps its own provider block, with the
 * test-only fake credentials merged in by an override file. Plan-time variables are passed through.
 */
export function modulesRoot(stacks: Record<string, TerraformJson>, moduleArgs: Record<string, Record<string, unknown>> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "prefect-ecs-tf-root-"));
  const rootVariables: Record<string, unknown> = {
    prefect_account_id: { type: "string" },
    prefect_workspace_id: { type: "string" },
    prefect_api_key: { type: "string", sensitive: true, ephemeral: true },
    prefect_api_auth_string: { type: "string", sensitive: true, ephemeral: true },
    prefect_server_db_password: { type: "string", sensitive: true, ephemeral: true },
  };
  const modules: Record<string, unknown> = {};
  for (const [name, json] of Object.entries(stacks)) {
    const copy = structuredClone(json);
    delete copy.terraform.backend;
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(copy, null, 2));
    writeFileSync(join(dir, "test_override.tf.json"), JSON.stringify({ provider: { aws: FAKE_AWS_PROVIDER } }, null, 2));
    const passThrough = Object.fromEntries(
      Object.keys(rootVariables)
        .filter((v) => v in copy.variable)
        .map((v) => [v, `\${var.${v}}`]),
    );
    modules[name] = { source: `./${name}`, ...passThrough, ...moduleArgs[name] };
  }
  writeFileSync(join(root, "main.tf.json"), JSON.stringify({ variable: rootVariables, module: modules }, null, 2));
  return root;
}

/** The planned changes of one module of a modulesRoot plan. */
export function moduleChanges(plan: any, name: string): any[] {
  return (plan.resource_changes ?? []).filter((c: any) => c.module_address === `module.${name}`);
}

export interface TfResult extends Pick<SpawnSyncReturns<string>, "status" | "stdout" | "stderr"> {
  readonly output: string;
}

/** Runs terraform in dir; with `check`, a non-zero exit throws with Terraform's own output. */
export function terraform(dir: string, args: string[], opts: { env?: NodeJS.ProcessEnv; check?: boolean } = {}): TfResult {
  const { bin, env } = terraformTooling();
  const result = spawnSync(bin, [...args, "-no-color"], { cwd: dir, env: { ...env, ...opts.env }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const output = `${result.stdout}\n${result.stderr}`;
  if ((opts.check ?? true) && result.status !== 0) throw new Error(`terraform ${args.join(" ")} failed (${result.status}):\n${output}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output };
}

export interface PlanResult {
  readonly text: string;
  readonly json: any;
  /** The root module's folder; the saved plan is plan.bin in it. */
  readonly dir: string;
}

/** Like terraform(), without blocking the event loop, so two commands can run at once. */
export function terraformAsync(dir: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<TfResult> {
  const { bin, env } = terraformTooling();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args, "-no-color"], { cwd: dir, env: { ...env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => {
      const output = `${stdout}\n${stderr}`;
      if (status !== 0) reject(new Error(`terraform ${args.join(" ")} failed (${status}):\n${output}`));
      else resolve({ status, stdout, stderr, output });
    });
  });
}

/**
 * init, then validate and a create-only plan side by side (both only read the configuration; each
 * spends most of its time loading the provider schema), then `terraform show -json` of the plan.
 */
export async function initValidatePlan(dir: string, env: NodeJS.ProcessEnv = {}): Promise<PlanResult> {
  terraform(dir, ["init", "-input=false"], { env });
  const [, plan] = await Promise.all([
    terraformAsync(dir, ["validate"], { env }),
    terraformAsync(dir, ["plan", "-input=false", "-out=plan.bin"], { env }),
  ]);
  const show = terraform(dir, ["show", "-json", "plan.bin"], { env });
  return { text: plan.output, json: JSON.parse(show.stdout), dir };
}

/** Counts planned creations by resource type. */
export function createdByType(changes: any[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const change of changes) {
    if (change.mode === "managed" && change.change.actions.join() === "create") counts[change.type] = (counts[change.type] ?? 0) + 1;
  }
  return counts;
}

/** Counts resources by type in synthesized JSON. */
export function synthesizedByType(json: TerraformJson): Record<string, number> {
  return Object.fromEntries(Object.entries(json.resource).map(([type, byId]) => [type, Object.keys(byId).length]));
}

export { setAsideWorkPool, withoutWorkPoolProviders };
