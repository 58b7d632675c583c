import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runGracefully } from "../src/operations/graceful-child";

/**
 * runGracefully, with stand-ins instead of cdktf and Terraform (no AWS, no cdktf): the wrapper runs as its own
 * process (tsx, as `npm run deploy` runs it) and gets the signals a terminal or a CI runner would send.
 */

const REPO = resolve(__dirname, "..");
const TSX = join(REPO, "node_modules", "tsx", "dist", "cli.mjs");
const WRAPPER = join(REPO, "src", "operations", "graceful-child.ts");
/** How long the stand-in Terraform takes to "write its state" after its first interrupt. */
const STATE_WRITE_MS = 800;

/**
 * Stand-in for Terraform: records every signal it gets. The first SIGINT or SIGTERM starts a graceful stop that
 * writes the state file after a while and exits 1; a second interrupt exits at once without state ("Two interrupts
 * received"), and SIGHUP kills it without state, as it does the real one.
 */
const STAND_IN_TERRAFORM = `
const fs = require("node:fs");
const dir = process.argv[2];
let stopping = false;
// Without a signal it finishes by itself, with the exit code it was given.
const natural = setTimeout(() => process.exit(Number(process.argv[3])), 2000);
const record = (signal) => fs.appendFileSync(dir + "/signals", signal + "\\n");
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    record(signal);
    if (stopping) process.exit(1);
    stopping = true;
    clearTimeout(natural);
    setTimeout(() => { fs.writeFileSync(dir + "/state", "written"); process.exit(1); }, ${STATE_WRITE_MS});
  });
process.on("SIGHUP", () => { record("SIGHUP"); process.exit(129); });
fs.writeFileSync(dir + "/terraform.pid", String(process.pid));
`;

/**
 * Stand-in for cdktf 0.21: starts the stand-in Terraform in a session of its own (node-pty does setsid) and exits
 * with its code. On SIGINT or SIGTERM it does what cdktf does: one Ctrl-C into the terminal, then it exits without
 * waiting, and the closed terminal hangs Terraform up.
 */
const STAND_IN_CDKTF = `
const { spawn } = require("node:child_process");
const [dir, code] = process.argv.slice(2);
const terraform = spawn(process.execPath, [dir + "/stand-in-terraform.cjs", dir, code], { detached: true, stdio: "inherit" });
require("node:fs").writeFileSync(dir + "/cdktf.pid", String(process.pid));
terraform.on("exit", (exitCode) => process.exit(exitCode ?? 1));
const abort = () => {
  process.kill(-terraform.pid, "SIGINT");
  setTimeout(() => { process.kill(-terraform.pid, "SIGHUP"); process.exit(1); }, 100);
};
process.on("SIGINT", abort);
process.on("SIGTERM", abort);
`;

const DRIVER = `
import { runGracefully } from ${JSON.stringify(WRAPPER)};
import { writeFileSync } from "node:fs";
const [command, ...args] = process.argv.slice(2);
writeFileSync(args[1] + "/wrapper.pid", String(process.pid));
runGracefully(command, args, { env: process.env }).then((code) => process.exit(code));
`;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(what: string, ready: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dirs: string[] = [];
let started: number[] = [];

afterEach(() => {
  // Everything a test started, by PID (the driver's group, and the stand-ins' PIDs they wrote down).
  for (const dir of dirs)
    for (const file of ["wrapper.pid", "cdktf.pid", "terraform.pid"])
      if (existsSync(join(dir, file))) started.push(Number(readFileSync(join(dir, file), "utf8")));
  for (const pid of started)
    if (alive(pid))
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        process.kill(pid, "SIGKILL");
      }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
  started = [];
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-graceful-"));
  dirs.push(dir);
  writeFileSync(join(dir, "stand-in-terraform.cjs"), STAND_IN_TERRAFORM);
  writeFileSync(join(dir, "stand-in-cdktf.cjs"), STAND_IN_CDKTF);
  writeFileSync(join(dir, "driver.ts"), DRIVER);
  return dir;
}

interface Run {
  readonly dir: string;
  /** The wrapper's exit code, and whether the stand-in Terraform was still running when the wrapper exited. */
  readonly exit: Promise<{ code: number | null; terraformOutlivedWrapper: boolean; stderr: string }>;
  /** Sends a signal to the wrapper's process group, as a terminal's Ctrl-C (or a runner stopping the job) does. */
  readonly signal: (signal: NodeJS.Signals) => void;
}

/** The wrapper (tsx, like `npm run deploy`) running `node <script> dir code` through runGracefully. */
function startWrapper(script: string, exitCode = 0): Run {
  const dir = workDir();
  const wrapper = spawn(process.execPath, [TSX, join(dir, "driver.ts"), process.execPath, join(dir, script), dir, String(exitCode)], {
    cwd: REPO,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  started.push(wrapper.pid!);
  let stderr = "";
  wrapper.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; terraformOutlivedWrapper: boolean; stderr: string }>((done) =>
    wrapper.on("exit", (code) => {
      const pidFile = join(dir, "terraform.pid");
      const terraformOutlivedWrapper = existsSync(pidFile) && alive(Number(readFileSync(pidFile, "utf8")));
      done({ code, terraformOutlivedWrapper, stderr });
    }),
  );
  return { dir, exit, signal: (signal) => process.kill(-wrapper.pid!, signal) };
}

const signalsOf = (dir: string): string[] =>
  existsSync(join(dir, "signals")) ? readFileSync(join(dir, "signals"), "utf8").trim().split("\n").filter(Boolean) : [];

describe("runGracefully: a stop signal reaches Terraform once, and the wrapper waits for its state", () => {
  it("GIVEN Ctrl-C twice during a cdktf-style run THEN Terraform gets one SIGINT, writes its state, and the wrapper exits 130 after it", async () => {
    const run = startWrapper("stand-in-cdktf.cjs");
    await until("the stand-in Terraform to start", () => existsSync(join(run.dir, "terraform.pid")));
    run.signal("SIGINT");
    await sleep(300);
    run.signal("SIGINT");
    const { code, terraformOutlivedWrapper, stderr } = await run.exit;
    expect(signalsOf(run.dir)).toEqual(["SIGINT"]);
    expect(readFileSync(join(run.dir, "state"), "utf8")).toBe("written");
    expect(terraformOutlivedWrapper).toBe(false);
    expect(code).toBe(130);
    expect(stderr.match(/^Stopping \(SIGINT\): Terraform is finishing what it started and writing its state\./gm)).toHaveLength(1);
    expect(stderr).toMatch(/^SIGINT ignored: still waiting for Terraform/m);
    // The wrapper's lines hold no control characters (other than their newlines).
    expect([...stderr].filter((c) => c !== "\n" && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))).toEqual([]);
  });

  it("GIVEN SIGTERM (a CI runner) and then SIGINT THEN Terraform gets one SIGINT and the wrapper exits 143 once the state is written", async () => {
    const run = startWrapper("stand-in-cdktf.cjs");
    await until("the stand-in Terraform to start", () => existsSync(join(run.dir, "terraform.pid")));
    run.signal("SIGTERM");
    await sleep(300);
    run.signal("SIGINT");
    const { code, terraformOutlivedWrapper } = await run.exit;
    expect(signalsOf(run.dir)).toEqual(["SIGINT"]);
    expect(existsSync(join(run.dir, "state"))).toBe(true);
    expect(terraformOutlivedWrapper).toBe(false);
    expect(code).toBe(143);
  });

  it("GIVEN a child that started nothing in a group of its own THEN the child itself gets one SIGINT and is waited for", async () => {
    const run = startWrapper("stand-in-terraform.cjs");
    await until("the stand-in to start", () => existsSync(join(run.dir, "terraform.pid")));
    run.signal("SIGINT");
    await sleep(200);
    // A closed terminal hangs up the wrapper (tsx's own parent process has no handler for it, so only the wrapper).
    process.kill(Number(readFileSync(join(run.dir, "wrapper.pid"), "utf8")), "SIGHUP");
    run.signal("SIGTERM");
    const { code, terraformOutlivedWrapper } = await run.exit;
    expect(signalsOf(run.dir)).toEqual(["SIGINT"]);
    expect(existsSync(join(run.dir, "state"))).toBe(true);
    expect(terraformOutlivedWrapper).toBe(false);
    expect(code).toBe(130);
  });

  it("GIVEN no signal THEN the child's exit code passes through, through cdktf and directly", async () => {
    const run = startWrapper("stand-in-cdktf.cjs", 3);
    expect((await run.exit).code).toBe(3);
    expect(signalsOf(run.dir)).toEqual([]);
    expect(await runGracefully(process.execPath, ["-e", "process.exit(7)"], { env: process.env })).toBe(7);
    expect(await runGracefully(process.execPath, ["-e", "process.exit(0)"], { env: process.env })).toBe(0);
  });

  it("GIVEN a child killed by a signal THEN the code is 128 + its number; GIVEN no such command THEN it rejects", async () => {
    expect(await runGracefully(process.execPath, ["-e", "process.kill(process.pid, 'SIGKILL')"], { env: process.env })).toBe(137);
    await expect(runGracefully(join(tmpdir(), "no-such-command-prefect-ecs"), [], { env: process.env })).rejects.toThrow(/could not start/);
  });
});
