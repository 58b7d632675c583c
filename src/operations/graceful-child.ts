/**
 * Runs `npx cdktf deploy|destroy` so that Ctrl-C, a CI runner's SIGTERM or a closed terminal stops Terraform once,
 * gracefully, and the wrapper waits until Terraform has finished and written its state.
 *
 * Why cdktf cannot be left to do it (cdktf-cli 0.21): on SIGINT, SIGTERM or SIGQUIT it aborts, which writes one
 * Ctrl-C into the pseudo-terminal Terraform runs in (Terraform starts its graceful stop), but then cdktf exits at
 * once instead of waiting. Closing the pseudo-terminal makes the kernel send Terraform SIGHUP, which Terraform does
 * not handle: it is killed in the middle of its shutdown, before its last state write. A second Ctrl-C at a plain
 * Terraform is worse ("Two interrupts received. Exiting immediately").
 *
 * So the child runs in a session of its own (terminal signals never reach it), and on the first stop signal this
 * wrapper sends SIGINT straight to each process group the child started for itself, which for cdktf is Terraform in
 * its pseudo-terminal: exactly what Ctrl-C typed into that terminal would send, while cdktf stays alive, keeps the
 * terminal open and exits when Terraform has. Every later signal is ignored; there is deliberately no "press
 * Ctrl-C again to force" (one keypress can reach this process twice, from the terminal and relayed by tsx or npm).
 * The message names the PIDs to `kill -INT` for a person who decides to abandon the state anyway.
 * POSIX only (process groups); Linux reads /proc, elsewhere `ps`.
 */
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeSync } from "node:fs";
import { constants } from "node:os";

export interface GracefulOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Where the wrapper's own lines go; default stderr. The lines hold only fixed text, signal names and PIDs. */
  readonly log?: (line: string) => void;
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** How often, while stopping, to look for a Terraform the child started after the first signal (the next phase). */
const POLL_MS = 200;
/** Signals this close to the previous line say nothing more (one keypress can arrive twice; a held Ctrl-C repeats). */
const QUIET_MS = 250;

interface ProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
}

/** Every process's parent and group: /proc where there is one, else `ps`; empty when neither answers. */
function processTable(): ProcessRow[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => {
        try {
          // "pid (name) state ppid pgrp …": the name may hold spaces and parentheses, so split after the last ")".
          const stat = readFileSync(`/proc/${name}/stat`, "utf8");
          const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          return state === "Z" ? [] : [{ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid) }];
        } catch {
          return []; // exited while we read
        }
      });
  } catch {
    try {
      return execFileSync("ps", ["-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid="], { encoding: "utf8" })
        .split("\n")
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter((fields) => fields.length === 3 && fields.every(Number.isInteger))
        .map(([pid, ppid, pgid]) => ({ pid, ppid, pgid }));
    } catch {
      return [];
    }
  }
}

/** Every live process below `root` (not root itself), from one reading of the process table. */
function below(root: number, rows: ProcessRow[] = processTable()): ProcessRow[] {
  const pids = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const row of rows)
      if (!pids.has(row.pid) && pids.has(row.ppid)) {
        pids.add(row.pid);
        grew = true;
      }
  }
  return rows.filter((row) => row.pid !== root && pids.has(row.pid));
}

/** The PIDs of every live process below `root`. */
export const descendantsOf = (root: number): number[] => below(root).map((row) => row.pid);

/**
 * The process groups led by descendants of `root` other than root's own: processes the child deliberately put out
 * of its group. For cdktf these are the `terraform` runs node-pty started in pseudo-terminals (with their providers).
 */
function groupsStartedBy(root: number): number[] {
  return below(root)
    .filter((row) => row.pgid === row.pid)
    .map((row) => row.pid);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

/** Writes straight to fd 2: after a SIGHUP the terminal may be gone, and a stream's EIO error event would crash us. */
function toStderr(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // nowhere to say it
  }
}

/**
 * Runs `command args` in a session of its own with this terminal as its stdio, and resolves with its exit code
 * (a death by signal n as 128+n). The first SIGINT, SIGTERM or SIGHUP this process gets is passed on as one SIGINT
 * to the process groups the child started (Terraform, under cdktf), or to the child's own group when it started
 * none; later ones are ignored. After such a stop it waits for the child and resolves 128+n of the first signal
 * (130 for Ctrl-C), even if the child happened to finish with 0. Spawn failures reject.
 */
export function runGracefully(command: string, args: string[], options: GracefulOptions): Promise<number> {
  const log = options.log ?? toStderr;
  return new Promise<number>((resolve, reject) => {
    // detached: setsid(), so the terminal's Ctrl-C (sent to its foreground group) and its hangup never reach the child.
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: "inherit", detached: true });
    let stopSignal: StopSignal | undefined;
    let lastReminder = 0;
    const interrupted = new Set<number>();
    let poll: NodeJS.Timeout | undefined;

    // One SIGINT per process group, ever: a second one is what makes Terraform exit without writing its state.
    const interruptNewGroups = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      for (const pgid of groupsStartedBy(child.pid)) if (!interrupted.has(pgid) && signalGroup(pgid, "SIGINT")) interrupted.add(pgid);
    };

    const onSignal = (signal: StopSignal): void => {
      if (child.pid === undefined) return;
      if (stopSignal) {
        const now = Date.now();
        if (now - lastReminder >= QUIET_MS) {
          lastReminder = now;
          log(
            `${signal} ignored: still waiting for Terraform to stop and write its state. To abandon it anyway (changes not yet in the state are lost): kill -INT ${[...interrupted].join(" ")}`,
          );
        }
        return;
      }
      stopSignal = signal;
      lastReminder = Date.now();
      interruptNewGroups();
      if (interrupted.size > 0) {
        log(`Stopping (${signal}): Terraform is finishing what it started and writing its state. Wait for it; a second Ctrl-C is ignored.`);
      } else {
        // Nothing in a terminal of its own yet (cdktf synthesizing): the child's group gets what a terminal would send.
        if (signalGroup(child.pid, "SIGINT")) interrupted.add(child.pid);
        log(`Stopping (${signal}): asked the command to stop; waiting for it to exit. A second Ctrl-C is ignored.`);
      }
      // cdktf may still be between phases and start the next Terraform run; that one gets its single SIGINT too.
      poll = setInterval(interruptNewGroups, POLL_MS);
    };

    const handlers = STOP_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
    // Installed before anything can arrive and kept until the child is gone, so no signal ends this process early.
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const cleanUp = (): void => {
      if (poll) clearInterval(poll);
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };

    child.once("error", (error) => {
      cleanUp();
      reject(new Error(`could not start ${command}: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      cleanUp();
      if (stopSignal) resolve(128 + constants.signals[stopSignal]);
      else if (code !== null) resolve(code);
      else resolve(128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
