/**
 * Prints the work pool's base job template, for creating the pool by hand (manage_work_pool = false):
 *   npm run --silent template [-- <environment>] > base-job-template.json
 *   prefect work-pool create <pool> --type ecs --base-job-template base-job-template.json
 * After a deploy it prints the real template (Terraform output `base_job_template`); before one, the
 * synthesized template, whose ${…} references Terraform fills in at apply.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "../src/cli";
import { loadDeployments, selectDeployment } from "../src/settings/environments";
import { stackDir as synthesizedStackDir, stackName, TEMPLATE_OUTPUT } from "../src/naming";

const USAGE = "npm run --silent template [-- <environment>] > base-job-template.json";

/** The work pool's base job template: Terraform's output after a deploy, else the synthesized one (with a note on stderr). */
export async function templateText(environment: string | undefined): Promise<{ text: string; note?: string }> {
  const { settings } = selectDeployment(await loadDeployments(), environment, USAGE);
  const stackDir = synthesizedStackDir(stackName(settings));
  const deployed = spawnSync("terraform", ["output", "-raw", TEMPLATE_OUTPUT], { cwd: stackDir, encoding: "utf8" });
  if (deployed.status === 0 && deployed.stdout.trim().startsWith("{")) return { text: deployed.stdout.trim() };
  const synthesized = join(stackDir, "cdk.tf.json");
  if (!existsSync(synthesized)) throw new Error(`${synthesized} not found; run "npm run synth" (or deploy) first`);
  const template = JSON.parse(readFileSync(synthesized, "utf8")).locals?.[TEMPLATE_OUTPUT] as string | undefined;
  if (!template) throw new Error(`${synthesized} has no ${TEMPLATE_OUTPUT}; run "npm run synth" again`);
  return {
    text: template,
    note:
      `Note: ${stackName(settings)} is not deployed here (no Terraform output), so this is the synthesized template: ` +
      "Terraform fills in the ${…} references at apply. Run this again after `npx cdktf deploy` for the final template.",
  };
}

if (require.main === module) {
  runScript({
    usage: USAGE,
    description: "Prints the work pool's base job template, for creating the pool by hand (manage_work_pool = false).",
    run: async ([environment]) => {
      const { text, note } = await templateText(environment);
      if (note) console.error(note);
      process.stdout.write(`${text}\n`);
    },
  });
}
