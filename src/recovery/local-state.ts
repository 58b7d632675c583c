import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";

/**
 * Terraform's local backend rewrites its state file in place, so a kill during a write leaves it empty or cut
 * short (measured against moto: 0 bytes after a SIGKILL in a destroy). Terraform then reads "no state" and the next
 * destroy says "No objects need to be destroyed" while everything still bills. Its `.backup` holds the state as it
 * was before that run's first write. This puts the backup back, keeping the cut file beside it, and says so: what
 * the killed run did after the backup is found again by recovery. Without a backup (a first deploy killed before
 * or while its state was first written: the file is created empty when the run starts) the state starts empty.
 * The S3 backend writes each state version whole, so it cannot be cut this way.
 */
export function repairCutLocalState(stateFile: string, log: (line: string) => void): boolean {
  if (!existsSync(stateFile)) return false;
  const text = readFileSync(stateFile, "utf8");
  if (parses(text)) return false;
  const how = text.length ? "cut short" : "empty";
  const backup = `${stateFile}.backup`;
  const aside = `${stateFile}.cut-${statSync(stateFile).mtime.toISOString().replace(/[:.]/g, "-")}`;
  copyFileSync(stateFile, aside);
  if (existsSync(backup) && parses(readFileSync(backup, "utf8"))) {
    copyFileSync(backup, stateFile);
    log(
      `${stateFile} was ${how}: a run was killed while writing it. Restored ${backup} (the state before that run; the cut file is kept as ${aside}).`,
    );
    return true;
  }
  // Terraform writes a backup only when the run began with a state; without one, the killed run was the first and
  // everything it made is in AWS only, which is what recovery looks for.
  rmSync(stateFile);
  log(
    `${stateFile} was ${how} and has no ${backup}: the killed run was the first, so the state starts empty and what it made is looked up in AWS. The cut file is kept as ${aside}.`,
  );
  return true;
}

function parses(text: string): boolean {
  try {
    const state = JSON.parse(text) as { version?: unknown };
    return typeof state === "object" && state !== null && state.version === 4;
  } catch {
    return false;
  }
}
