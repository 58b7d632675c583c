/**
 * The sandbox's own processes: started detached (they outlive `npm run sandbox` until `npm run sandbox -- down`),
 * each in its own process group with its output in a log file, and stopped by process group from the PIDs the
 * sandbox recorded.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { ALL_CONTROL_CHARACTERS } from "../settings/service-rules";

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** When the kernel started it (/proc/<pid>/stat, field 22): a PID reused later by another process does not match. */
  readonly startTime?: string;
}

/** A process's start time in clock ticks since boot, or undefined where /proc does not say. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After "pid (name) ", field 3 is the state; the start time is field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3];
  } catch {
    return undefined;
  }
}

/** Whether a recorded process is still running and is the same process (not another one given its PID since). */
export function stillOurs(started: Started): boolean {
  if (!isAlive(started.pid)) return false;
  return started.startTime === undefined || startTimeOf(started.pid) === started.startTime;
}

/** Starts a process in its own group, output appended to `log`, not tied to this process. */
export function startDetached(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; log: string }): Started {
  const out = openSync(options.log, "a");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  return { name, pid: child.pid, log: options.log, startTime: startTimeOf(child.pid) };
}

/** Whether a process (group leader) is still there; an exited one its parent has not reaped yet (a zombie) is not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (name) state …"; the name may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
};

/** The processes of a group that are still running (not zombies), from /proc; empty where /proc is missing. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // After "pid (name) ": state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(pgrp) === pgid && state !== "Z" ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

/**
 * SIGTERM to the process group, then SIGKILL after `graceMs` (Prefect's worker ignores SIGTERM); returns once no
 * process of the group runs, so nothing it started is left behind.
 */
export async function stopGroup(pid: number, graceMs = 5_000): Promise<void> {
  const running = () => isAlive(pid) || groupMembers(pid).length > 0;
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (running() && Date.now() < deadline) await sleep(100);
  if (running()) signalGroup(pid, "SIGKILL");
  const killDeadline = Date.now() + 5_000;
  while (running() && Date.now() < killDeadline) await sleep(50);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port of 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The last lines of a log, for a message (control characters shown inert). */
function tail(log: string, lines = 15): string {
  try {
    const text = readFileSync(log, "utf8").trimEnd().split("\n").slice(-lines);
    return text.map((line) => line.replace(ALL_CONTROL_CHARACTERS, "?")).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `probe` until it returns a value, the process behind it dies, or the deadline passes; a failure names the log. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { ms: number; pid?: number; log?: string }): Promise<T> {
  const deadline = Date.now() + options.ms;
  const failed = (why: string) => new Error(`${what}: ${why}${options.log ? `; its log, ${options.log}, ends:\n${tail(options.log)}` : ""}`);
  while (Date.now() < deadline) {
    if (options.pid !== undefined && !isAlive(options.pid)) throw failed("the process exited");
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(500);
  }
  throw failed(`not within ${Math.round(options.ms / 1000)} s`);
}
