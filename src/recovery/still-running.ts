import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Terraform processes (and their providers) still working in a stack's directory on this machine: after a killed
 * deploy a provider can finish a create it had started, so looking for leftovers before it exits could miss one.
 * Linux only (/proc); elsewhere nothing is found, and the lookup relies on the earlier run being gone.
 */
export function terraformStillRunning(stackDir: string): { pid: number; command: string }[] {
  const dir = resolve(stackDir);
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const found: { pid: number; command: string }[] = [];
  for (const pid of pids) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      const command = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (command.startsWith("terraform")) found.push({ pid: Number(pid), command });
    } catch {
      // exited, or not ours to read
    }
  }
  return found;
}
