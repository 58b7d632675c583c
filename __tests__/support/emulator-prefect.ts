import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TerraformJson } from "./synth";

/**
 * The work pool's provisioner commands, taken from the synthesized stack and run the way Terraform's
 * local-exec runs them (`/bin/sh -c` in the stack directory), with values rendered from an applied
 * stack, and a stand-in `prefect` first on PATH. The stand-in records its arguments and the template
 * file it is handed, and rejects a template the way Prefect's server does.
 */
const STAND_IN = `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
const file = args[0] === "work-pool" && args[1] === "create" ? args[args.indexOf("--base-job-template") + 1] : undefined;
const templateText = file ? fs.readFileSync(file, "utf8") : undefined;
fs.appendFileSync(process.env.STAND_IN_LOG, JSON.stringify({ args, apiUrl: process.env.PREFECT_API_URL, credential: process.env.PREFECT_API_KEY || process.env.PREFECT_API_AUTH_STRING || null, templateText }) + "\\n");
if (file) {
  const template = JSON.parse(templateText);
  if (!template.job_configuration || !template.variables) { console.error("invalid template"); process.exit(2); }
  const known = new Set(Object.keys(template.variables.properties || {}));
  const missing = (JSON.stringify(template.job_configuration).match(/\\{\\{\\s*([^{}\\s]+)\\s*\\}\\}/g) || [])
    .map((p) => p.replace(/[{}\\s]/g, "")).filter((n) => !n.startsWith("prefect.") && !known.has(n));
  if (missing.length) { console.error("unknown placeholders: " + missing.join(",")); process.exit(2); }
  console.log("Created work pool " + args[2]);
}
if (args[0] === "work-queue" && args[1] === "inspect") process.exit(1);
if (args[0] === "work-pool" && args[1] === "delete") console.log("Deleted work pool " + args[2]);
`;

export interface StandInCall {
  readonly args: string[];
  readonly apiUrl: string;
  readonly credential: string | null;
  readonly templateText?: string;
}

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
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-emulator-pool-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "prefect"), STAND_IN);
  chmodSync(join(bin, "prefect"), 0o755);
  const log = join(dir, "calls.jsonl");
  const env = { PATH: `${bin}:${process.env.PATH}`, TMPDIR: dir, STAND_IN_LOG: log, ...environment };
  const result = spawnSync("/bin/sh", ["-c", command], { cwd: dir, env, encoding: "utf8" });
  let calls: StandInCall[];
  try {
    calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
  } catch {
    calls = [];
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}
