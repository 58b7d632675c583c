import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Emulator, EMULATOR_CREDENTIALS } from "./emulator";
import { EMULATOR_REGION } from "./emulator-aws";
import { PLAN_TIME_ENV } from "./synth";
import { terraformTooling } from "./terraform";
import { localStateFile } from "../../src/naming";
import { descendantsOf } from "../../src/operations/graceful-child";

const ROOT = join(__dirname, "..", "..");

export interface RunResult {
  readonly code: number | null;
  /** stdout and stderr together, as the operator's terminal shows them. */
  readonly output: string;
  /** Whether the run was killed (SIGKILL to Terraform, its providers, then the command) when `killWhen` matched. */
  readonly killed: boolean;
}

/** Terraform processes working in a directory, by process group (Terraform leads its own under cdktf's pty). */
function terraformGroups(dir: string): number[] {
  const groups = new Set<number>();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("terraform")) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      groups.add(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]));
    } catch {
      // gone
    }
  }
  return [...groups];
}

/**
 * A project folder as an operator has one: the repository's files (node_modules linked), a terraform.tfvars, and
 * the commands run as `npm run …` with AWS_ENDPOINT_URL at the lane's emulator, the operator's own loop.
 */
export class OperatorProject {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  private runs = 0;

  /** `name` labels this project's run logs: test-results/operator/<name>-<n>.log, kept for a failure's reading. */
  constructor(
    emulator: Emulator,
    tfvars: string,
    readonly name = "project",
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "operator-"));
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
    for (const file of listed.stdout.split("\0").filter(Boolean)) {
      if (file.startsWith("__tests__/") || file === "terraform.tfvars") continue;
      mkdirSync(dirname(join(this.dir, file)), { recursive: true });
      try {
        cpSync(join(ROOT, file), join(this.dir, file));
      } catch {
        // listed but deleted in the work tree
      }
    }
    symlinkSync(join(ROOT, "node_modules"), join(this.dir, "node_modules"));
    writeFileSync(join(this.dir, "terraform.tfvars"), tfvars);
    const { env } = terraformTooling();
    this.env = {
      ...env,
      ...PLAN_TIME_ENV,
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: EMULATOR_REGION,
      AWS_DEFAULT_REGION: EMULATOR_REGION,
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    };
  }

  stackDir(stack: string): string {
    return resolve(this.dir, "cdktf.out", "stacks", stack);
  }

  /**
   * Runs `npm run <args>`; with `interruptWhen`, sends SIGINT to npm's process group once the output matches (the
   * operator's Ctrl-C); with `killWhen`, SIGKILLs Terraform with its providers, then the
   * command and everything it started (a lost machine), as soon as the output matches, and returns once the command has exited.
   */
  run(
    args: string[],
    options: { killWhen?: (output: string) => boolean; interruptWhen?: (output: string) => boolean; stack?: string; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    return new Promise((done, fail) => {
      const child = spawn("npm", ["run", ...args], { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let output = "";
      let killed = false;
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // gone
        }
        fail(new Error(`npm run ${args.join(" ")} took longer than ${options.timeoutMs ?? 400_000} ms:\n${output.slice(-4000)}`));
      }, options.timeoutMs ?? 400_000);
      let interrupted = false;
      const watch = (chunk: Buffer) => {
        output += chunk.toString();
        if (options.interruptWhen && !interrupted && options.interruptWhen(output)) {
          // Ctrl-C: the terminal sends SIGINT to its foreground process group, which npm leads here.
          interrupted = true;
          process.kill(-child.pid!, "SIGINT");
        }
        if (!options.killWhen || killed || !options.killWhen(output)) return;
        const groups = terraformGroups(this.stackDir(options.stack ?? "prefect-ecs-dev"));
        if (groups.length === 0) return;
        // Terraform first, so it cannot write its state, then everything else the command started: a lost machine.
        for (const group of groups) process.kill(-group, "SIGKILL");
        for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
        killed = true;
      };
      child.stdout.on("data", watch);
      child.stderr.on("data", watch);
      child.on("exit", (code) => {
        clearTimeout(timer);
        const logs = join(ROOT, "test-results", "operator");
        mkdirSync(logs, { recursive: true });
        writeFileSync(join(logs, `${this.name}-${++this.runs}.log`), `$ npm run ${args.join(" ")}\n${output}`);
        done({ code, output, killed });
      });
    });
  }

  /** The addresses the local state holds. */
  stateAddresses(stack = "prefect-ecs-dev"): string[] {
    try {
      const state = JSON.parse(readFileSync(join(this.dir, localStateFile(stack)), "utf8"));
      return state.resources.filter((r: { mode: string }) => r.mode === "managed").map((r: { type: string; name: string }) => `${r.type}.${r.name}`);
    } catch {
      return [];
    }
  }

  /** The synthesized configuration the last command used. */
  config(stack = "prefect-ecs-dev"): { resource: Record<string, Record<string, unknown>> } {
    return JSON.parse(readFileSync(join(this.stackDir(stack), "cdk.tf.json"), "utf8"));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
