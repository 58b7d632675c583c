import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";

/**
 * Terraform's local backend rewrites its state file in place, so a kill during a write leaves it empty or cut
 * short (measured against moto: 0 bytes after a SIGKILL in a destroy). Terraform then reads "no state" and the next
 * destroy says "No objects need to be destroyed" while everything still bills. Its `.backup` holds the state as it
 * was before that run's first write. This puts the backup back, keeping the cut file beside it, and says so: what
 * the killed run did after the backup is found again by recovery (deploy) or by Terraform's refresh (destroy).
 * The S3 backend writes each state version whole, so it cannot be cut this way.
 */
export function repairCutLocalState(stateFile: string, log: (line: string) => void): boolean {
  if (!existsSync(stateFile)) return false;
  const text = readFileSync(stateFile, "utf8");
  if (parses(text)) return false;
  const backup = `${stateFile}.backup`;
  if (!existsSync(backup) || !parses(readFileSync(backup, "utf8"))) {
    throw new Error(
      `${stateFile} is ${text.length ? "cut short" : "empty"} (a run was killed while writing it) and there is no readable ${backup} to restore. Nothing was changed; restore the state from your own copy before going on.`,
    );
  }
  const aside = `${stateFile}.cut-${statSync(stateFile).mtime.toISOString().replace(/[:.]/g, "-")}`;
  copyFileSync(stateFile, aside);
  copyFileSync(backup, stateFile);
  log(
    `${stateFile} was ${text.length ? "cut short" : "empty"}: a run was killed while writing it. Restored ${backup} (the state before that run; the cut file is kept as ${aside}).`,
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
