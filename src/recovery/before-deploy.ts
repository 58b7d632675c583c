/**
 * The recovery step of `npm run deploy` and `npm run destroy`, between synth and cdktf: reads the state through
 * Terraform (init, then `state pull`, which takes no lock) and finds leftovers (recover.ts). A deploy adopts them
 * through import blocks beside cdk.tf.json (Terraform reads every *.tf.json in the directory), so the plan shows
 * each import. A destroy plan ignores import blocks (measured: Terraform 1.11 planned 28 destroys and left the
 * killed run's subnets, so the VPC's delete waited on them), so a destroy imports them with `terraform import`
 * first, and then destroys them with the rest.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Recovery, findLeftovers, importBlocks } from "./recover";
import { removeDuplicates } from "./remove-duplicates";
import { terraformStillRunning } from "./still-running";
import { recoveryReport } from "./report";

/** The file of import blocks; replaced on every deploy, so an adoption is never repeated from a stale file. */
export const IMPORTS_FILE = "recovery-imports.tf.json";

export interface BeforeDeploy {
  readonly command: "deploy" | "destroy";
  /** Settings files Terraform reads, relative to the project (terraform.tfvars first). */
  readonly varFiles: readonly string[];
  /** cdktf.out/stacks/<stack> */
  readonly stackDir: string;
  readonly stack: string;
  readonly region: string;
  readonly removeDuplicates: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

function terraform(args: string[], options: BeforeDeploy): string {
  const result = spawnSync("terraform", args, { cwd: options.stackDir, env: options.env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new Error(`terraform ${args[0]} could not start: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`terraform ${args.join(" ")} failed before the deploy began (nothing was changed):\n${result.stderr || result.stdout}`);
  return result.stdout;
}

/** Returns false when the deploy must not go on (a conflict); the report says why. */
export async function recoverBeforeDeploy(options: BeforeDeploy): Promise<{ proceed: boolean; recovery: Recovery }> {
  const running = terraformStillRunning(options.stackDir);
  if (running.length) {
    const pids = running.map((p) => `${p.pid} (${p.command})`).join(", ");
    throw new Error(
      `Terraform from an earlier run is still working in ${options.stackDir}: ${pids}. Wait for it to exit (or stop it once: kill -INT <pid>), then deploy again. Nothing was changed.`,
    );
  }
  rmSync(join(options.stackDir, IMPORTS_FILE), { force: true });
  terraform(["init", "-input=false", "-no-color"], options);
  const pulled = terraform(["state", "pull"], options).trim();
  const state: unknown = pulled ? JSON.parse(pulled) : undefined;
  const config: unknown = JSON.parse(readFileSync(join(options.stackDir, "cdk.tf.json"), "utf8"));
  const found = await findLeftovers({ config, state, region: options.region, stack: options.stack });
  // Types recovery cannot look up matter only after an interrupted run: said when the state or AWS shows one.
  const interrupted =
    (Array.isArray((state as { resources?: unknown[] })?.resources) && (state as { resources: unknown[] }).resources.length > 0) ||
    found.adoptions.length > 0;
  const recovery = { ...found, unchecked: interrupted ? found.unchecked : [] };
  for (const line of recoveryReport(recovery, { removeDuplicates: options.removeDuplicates, command: options.command })) options.log(line);
  // A destroy leaves what is not this stack's alone, so a conflict stops only a deploy.
  if (recovery.conflicts.length && options.command === "deploy") return { proceed: false, recovery };
  if (recovery.duplicates.length && options.removeDuplicates) await removeDuplicates(recovery.duplicates, options.region, options.log);
  if (!recovery.adoptions.length) return { proceed: true, recovery };
  if (options.command === "deploy") {
    writeFileSync(join(options.stackDir, IMPORTS_FILE), `${JSON.stringify(importBlocks(recovery.adoptions), null, 2)}\n`);
  } else {
    const varFiles = options.varFiles.map((file) => `-var-file=${join("..", "..", "..", file)}`);
    for (const { address, id } of recovery.adoptions) {
      terraform(["import", "-input=false", "-no-color", ...varFiles, address, id], options);
      options.log(`  imported ${address} for the destroy`);
    }
  }
  return { proceed: true, recovery };
}
