import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, emulatorProvider } from "./emulator";
import { PLAN_TIME_ENV, type TerraformJson } from "./synth";
import { setAsideWorkPool, terraformTooling } from "./terraform";

export interface TfRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
  readonly seconds: number;
}

/**
 * Terraform and the AWS provider hold a few hundred MB of schemas; Go's default collector rescans them
 * every time the heap doubles. A higher GOGC (test processes only) measured about a third less CPU per
 * apply and destroy on the 2-core machine, for about 500 MB per process.
 */
const GO_GC = { GOGC: "400" };

/** Runs terraform without blocking the event loop and without throwing on a non-zero exit. */
export function runTerraform(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TfRun> {
  const tooling = terraformTooling();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(tooling.bin, [...args, "-no-color"], {
      cwd: dir,
      env: { ...tooling.env, ...GO_GC, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) =>
      resolve({ status: status ?? -1, stdout, stderr, output: `${stdout}\n${stderr}`, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

const checked = (run: TfRun, what: string): TfRun => {
  if (run.status !== 0) throw new Error(`terraform ${what} failed (${run.status}):\n${run.output.slice(-12_000)}`);
  return run;
};

export interface Plan {
  /** `-detailed-exitcode`: 0 no changes, 2 changes. */
  readonly status: number;
  readonly text: string;
  /** `terraform show -json` of the saved plan. */
  readonly json: any;
}

export const OVERRIDE_FILE = "emulator_override.tf.json";
export const STACK_FILE = "cdk.tf.json";

/**
 * One synthesized stack in its own working directory, applied against one emulator. The stack's file is
 * the synthesized JSON unchanged except that the work pool's null/local resources are set aside (their
 * providers are not installable here); every test-only setting (fake credentials, emulator endpoints,
 * the backend) lives in a separate override file.
 */
export class EmulatedStack {
  readonly dir: string;
  /** Wall seconds per Terraform command, in order, for the timing report. */
  readonly timings: { command: string; seconds: number }[] = [];
  private extraEnv: NodeJS.ProcessEnv;

  constructor(
    readonly name: string,
    readonly emulator: Emulator,
    options: { env?: NodeJS.ProcessEnv } = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `prefect-ecs-emulator-${name}-`));
    this.extraEnv = { ...PLAN_TIME_ENV, ...options.env };
  }

  /** Writes (or rewrites, for a change) the stack; `backend` replaces the stack's backend in the override. */
  configure(json: TerraformJson, backend: Record<string, unknown> = { local: { path: "terraform.tfstate" } }): this {
    writeFileSync(join(this.dir, STACK_FILE), JSON.stringify(setAsideWorkPool(json), null, 2));
    writeFileSync(
      join(this.dir, OVERRIDE_FILE),
      JSON.stringify({ terraform: { backend }, provider: { aws: emulatorProvider(this.emulator) } }, null, 2),
    );
    return this;
  }

  async run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TfRun> {
    const result = await runTerraform(this.dir, args, { ...this.extraEnv, ...env });
    this.timings.push({ command: args[0], seconds: result.seconds });
    return result;
  }

  async init(): Promise<TfRun> {
    return checked(await this.run(["init", "-input=false"]), "init");
  }

  async apply(): Promise<TfRun> {
    return checked(await this.run(["apply", "-auto-approve", "-input=false", "-parallelism=20"]), "apply");
  }

  /** `terraform plan -detailed-exitcode`, saved, and its JSON form. */
  async plan(args: string[] = []): Promise<Plan> {
    const plan = await this.run(["plan", "-input=false", "-detailed-exitcode", "-parallelism=20", "-out=plan.bin", ...args]);
    if (plan.status !== 0 && plan.status !== 2) throw new Error(`terraform plan failed (${plan.status}):\n${plan.output.slice(-12_000)}`);
    const show = checked(await this.run(["show", "-json", "plan.bin"]), "show");
    return { status: plan.status, text: plan.output, json: JSON.parse(show.stdout) };
  }

  /** Applies the plan last saved by plan(). */
  async applyPlan(): Promise<TfRun> {
    return checked(await this.run(["apply", "-input=false", "-parallelism=20", "plan.bin"]), "apply of the saved plan");
  }

  /**
   * Without a refresh: the state is what the last apply read back, and every lane has just planned with
   * a refresh. Reading every resource again costs each lane CPU the 2-core machine does not have.
   */
  async destroy(): Promise<TfRun> {
    return this.run(["destroy", "-auto-approve", "-input=false", "-parallelism=20", "-refresh=false"]);
  }

  /** Output values, as `terraform output -json` gives them. */
  async outputs(): Promise<Record<string, any>> {
    const run = checked(await this.run(["output", "-json"]), "output");
    return Object.fromEntries(Object.entries(JSON.parse(run.stdout) as Record<string, { value: unknown }>).map(([name, o]) => [name, o.value]));
  }

  async stateList(): Promise<string[]> {
    const run = checked(await this.run(["state", "list"]), "state list");
    return run.stdout.split("\n").filter(Boolean);
  }

  /** The state as Terraform holds it, wherever the backend keeps it. */
  async stateText(): Promise<string> {
    return checked(await this.run(["state", "pull"]), "state pull").stdout;
  }

  readFile(name: string): string {
    return readFileSync(join(this.dir, name), "utf8");
  }

  /** Records this stack's command timings under test-results/emulator/, for the timing report. */
  saveTimings(root: string): void {
    const dir = join(root, "test-results", "emulator");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.name}.json`), JSON.stringify(this.timings, null, 2));
  }
}
