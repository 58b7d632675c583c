import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TerraformJson } from "./synth";
import { type DoubleCall, doubleCalls, prefectDoubleWorkdir } from "./prefect-double";

/**
 * The work pool's provisioner commands, taken from the synthesized stack and run the way Terraform's
 * local-exec runs them (`/bin/sh -c` in the stack directory), with values rendered from an applied
 * stack, and the stand-in `prefect` of support/prefect-double.ts first on PATH (it records its arguments and
 * the template file it is handed, and rejects a template the way Prefect's server does).
 */
export type StandInCall = DoubleCall;

/** Renders Terraform's `${…}` in a provisioner value; an expression without a value is an error, not a guess. */
export function renderStrict(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
    const value = values[expression.trim()];
    if (value === undefined) throw new Error(`no value for \${${expression}} in ${text.slice(0, 80)}`);
    return value;
  });
}

/** The local-exec provisioner of a synthesized null_resource (`when: "destroy"` for the delete command). */
export function provisionerOf(json: TerraformJson, logicalId: string, when?: "destroy"): { command: string; environment: Record<string, string> } {
  const resource = json.resource.null_resource?.[logicalId];
  if (!resource) throw new Error(`the stack has no null_resource.${logicalId}`);
  const found = resource.provisioner.map((p: any) => p["local-exec"]).find((p: any) => p.when === when);
  if (!found) throw new Error(`null_resource.${logicalId} has no ${when ?? "create-time"} local-exec provisioner`);
  return found;
}

export function runWithStandInPrefect(
  command: string,
  environment: Record<string, string>,
): { status: number | null; stdout: string; stderr: string; calls: StandInCall[] } {
  const w = prefectDoubleWorkdir({ tools: ["mktemp", "rm"] });
  const env = { PATH: w.bin, TMPDIR: join(w.dir, "tmp"), DOUBLE_LOG: w.log, ...environment };
  const result = spawnSync("/bin/sh", ["-c", command], { cwd: w.dir, env, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: doubleCalls(w) };
}
