import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A test double for the Prefect CLI (named as such: the logic under test is the project's own shell
 * commands). It records its arguments and environment to DOUBLE_LOG and, for `work-pool create`, checks the
 * template file with its own copy of Prefect's server rule (not the project's templateProblems): both sections
 * present and non-empty, every `{{ name }}` placeholder of job_configuration a key of variables.properties, with
 * no exemption for `prefect.…` names. Exit codes, streams and the phrases the pool commands look for are the real
 * CLI's (3.8.3); __tests__/prefect/stand-in-agrees.test.ts runs the same cases against the real CLI. DOUBLE_MODE
 * selects a refusal for the delete command, "refuse-create" for a create or update the server turns down, or
 * "race" for a create that another writer beat; DOUBLE_POOL_EXISTS=1 makes the pool exist.
 */
const PREFECT_DOUBLE = `#!${process.execPath}
// Test double for the Prefect CLI: records argv and the env it saw; checks base job templates.
const fs = require("fs");
const args = process.argv.slice(2);
const mode = process.env.DOUBLE_MODE || "ok";
const file = args[0] === "work-pool" && ["create", "update"].includes(args[1]) ? args[args.indexOf("--base-job-template") + 1] : undefined;
const templateText = file ? fs.readFileSync(file, "utf8") : undefined;
fs.appendFileSync(process.env.DOUBLE_LOG, JSON.stringify({ args, apiUrl: process.env.PREFECT_API_URL, hasKey: !!process.env.PREFECT_API_KEY, credential: process.env.PREFECT_API_KEY || process.env.PREFECT_API_AUTH_STRING || null, templateText }) + "\\n");
// DOUBLE_POOL_EXISTS=1: the pool is already there (inspect succeeds); a create without --overwrite is then refused.
// DOUBLE_MODE=race: inspect finds no pool, but another writer creates it before this create.
const exists = process.env.DOUBLE_POOL_EXISTS === "1";
if (args[0] === "work-pool" && args[1] === "inspect") {
  if (!exists) { console.log("Work pool " + JSON.stringify(args[2]).replace(/"/g, "'") + " not found!"); process.exit(1); }
  process.exit(0);
}
if (args[0] === "work-pool" && args[1] === "create" && (exists || mode === "race") && !args.includes("--overwrite")) {
  console.log("Work pool named '" + args[2] + "' already exists. Use --overwrite to update it."); process.exit(1);
}
// The server's 403 for a reserved name (workers.py create_work_pool), as the CLI prints it: on stdout, exit 1.
if (args[0] === "work-pool" && args[1] === "create" && args[2].toLowerCase().startsWith("prefect")) {
  console.log("Work pools starting with 'Prefect' are reserved for internal use."); process.exit(1);
}
if (file && mode === "refuse-create") { console.log("An exception occurred."); console.error("prefect.exceptions.PrefectHTTPStatusError: Client error '401 Unauthorized'"); process.exit(1); }
if (file) {
  // The server's own rule, written here apart from the project's templateProblems: validate_base_job_template in
  // prefect/server/schemas/actions.py (3.8.3) and PLACEHOLDER_CAPTURE_REGEX in prefect/utilities/templating.
  const template = JSON.parse(templateText);
  const truthy = (v) => v !== null && v !== undefined && v !== "" && v !== false && v !== 0 && !(typeof v === "object" && Object.keys(v).length === 0);
  if (Object.keys(template).length > 0) {
    if (!(truthy(template.job_configuration) && truthy(template.variables))) {
      console.log("An exception occurred.");
      console.error("Client error '422 Unprocessable Entity': The \`base_job_template\` must contain both a \`job_configuration\` key and a \`variables\` key."); process.exit(1);
    }
    // Where Python's .values(), .get() or .keys() would fail on a non-dict, the server answers 500.
    const dict = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!dict(template.job_configuration) || !dict(template.variables) || !dict(template.variables.properties || {})) {
      console.log("An exception occurred.");
      console.error("Server error '500 Internal Server Error'"); process.exit(1);
    }
    const found = new Set();
    for (const value of Object.values(template.job_configuration))
      for (const m of JSON.stringify(value).matchAll(/\\{\\{\\s*([\\w.\\-\\[\\]$]+)\\s*\\}\\}/g)) found.add(m[1]);
    const provided = new Set(Object.keys(template.variables.properties || {}));
    const missing = [...found].filter((name) => !provided.has(name));
    if (missing.length) {
      console.log("An exception occurred.");
      console.error("Client error '422 Unprocessable Entity': Your job configuration uses the following undeclared variable(s): " + missing.join(", ") + "."); process.exit(1);
    }
  }
  console.log((args[1] === "update" ? "Updated work pool " : "Created work pool ") + "'" + args[2] + "'" + (args[1] === "update" ? "" : "!"));
}
if (args[0] === "work-queue" && args[1] === "inspect") process.exit(args[2] === "default" ? 0 : 1);
if (args[0] === "work-pool" && args[1] === "delete") {
  if (mode === "gone") { console.log("Work pool '" + args[2] + "' does not exist."); process.exit(1); }
  if (mode === "denied") { console.error("Unauthorized: invalid API key"); process.exit(1); }
  // What the real CLI prints (traceback, then Prefect's 403 detail) for a reserved name.
  if (mode === "reserved") {
    console.error("prefect.exceptions.PrefectHTTPStatusError: Client error '403 Forbidden' for url 'https://api.example/api/work_pools/" + args[2] + "'");
    console.error('Response: {"detail": "Work pools starting with \\u0027Prefect\\u0027 are reserved for internal use and can not be deleted."}');
    console.error("An exception occurred.");
    process.exit(1);
  }
  console.log("Deleted work pool '" + args[2] + "'");
}
`;

export interface DoubleWorkdir {
  readonly dir: string;
  readonly bin: string;
  readonly log: string;
}

/**
 * A working directory (with its own tmp/) and a bin/ holding the double and links to the listed tools:
 * nothing else from the machine is on PATH when a command runs with PATH = bin.
 */
export function prefectDoubleWorkdir(options: { withDouble?: boolean; tools: string[]; links?: Record<string, string> }): DoubleWorkdir {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-pool-"));
  mkdirSync(join(dir, "tmp"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of options.tools) symlinkSync(spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), join(bin, tool));
  for (const [name, target] of Object.entries(options.links ?? {})) symlinkSync(target, join(bin, name));
  if (options.withDouble ?? true) {
    const double = join(bin, "prefect");
    writeFileSync(double, PREFECT_DOUBLE);
    chmodSync(double, 0o755);
  }
  return { dir, bin, log: join(dir, "calls.jsonl") };
}

/** One recorded call of the double. */
export interface DoubleCall {
  readonly args: string[];
  readonly apiUrl: string;
  readonly hasKey: boolean;
  readonly credential: string | null;
  readonly templateText?: string;
}

/** The calls the double recorded in a workdir (none when it was never run). */
export function doubleCalls(w: DoubleWorkdir): DoubleCall[] {
  try {
    return readFileSync(w.log, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as DoubleCall);
  } catch {
    return [];
  }
}

/**
 * The calls the shared pool snippet (src/work-pool/pool-shell.ts) makes for a pool that does not exist yet: inspect,
 * create from the template file, then each queue inspected and, unless it is "default" (which the double knows),
 * created.
 */
export function newPoolCalls(pool: string, templatePath: string, queues: string[]): string[][] {
  return [
    ["work-pool", "inspect", pool],
    ["work-pool", "create", pool, "--type", "ecs", "--base-job-template", templatePath],
    ...queues.flatMap((queue) => [
      ["work-queue", "inspect", queue, "--pool", pool],
      ...(queue === "default" ? [] : [["work-queue", "create", queue, "--pool", pool]]),
    ]),
  ];
}
