/**
 * The sandbox's own processes: started detached (they outlive `npm run sandbox` until `npm run sandbox -- down`),
 * each in its own process group with its output in a log file, and stopped by process group from the PIDs the
 * sandbox recorded.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

/** Starts a process in its own group, output appended to `log`, not tied to this process. */
export function startDetached(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; log: string }): Started {
  const out = openSync(options.log, "a");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  return { name, pid: child.pid, log: options.log };
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

/** Polls `probe` until it returns a value, the process behind it dies, or the deadline passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { ms: number; pid?: number }): Promise<T> {
  const deadline = Date.now() + options.ms;
  while (Date.now() < deadline) {
    if (options.pid !== undefined && !isAlive(options.pid)) throw new Error(`${what}: the process exited`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(500);
  }
  throw new Error(`${what}: not within ${Math.round(options.ms / 1000)} s`);
}
