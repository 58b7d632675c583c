import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { type Deployment, parseSettings, SettingsError } from "./index";
import { readTfvars } from "./tfvars";

/** Folder of per-environment settings files: environments/<name>.tfvars. */
export const ENVIRONMENTS_DIR = "environments";
export const ROOT_TFVARS = "terraform.tfvars";

export interface EnvironmentDeployment extends Deployment {
  /** The environment's own file (environments/<name>.tfvars), or undefined for the root terraform.tfvars alone. */
  readonly varFile?: string;
}

/**
 * The deployments of this project directory. Without environments/*.tfvars, terraform.tfvars alone is
 * one deployment. With them, each file is one environment, layered over terraform.tfvars exactly as
 * Terraform layers `-var-file`s (a key in the environment file replaces the shared one), so the values
 * the app synthesizes from are the values Terraform sees. The file name is the environment's name.
 */
export async function loadDeployments(projectDir = "."): Promise<EnvironmentDeployment[]> {
  const shared = await readTfvars(join(projectDir, ROOT_TFVARS));
  const dir = join(projectDir, ENVIRONMENTS_DIR);
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".tfvars")).sort() : [];
  if (files.length === 0) return [parseSettings(shared, ROOT_TFVARS)];

  const deployments = await Promise.all(
    files.map(async (fileName): Promise<EnvironmentDeployment> => {
      const varFile = join(ENVIRONMENTS_DIR, fileName);
      const name = basename(fileName, ".tfvars");
      const own = await readTfvars(join(projectDir, varFile));
      const merged = { ...shared, ...own };
      if (merged.environment !== undefined && merged.environment !== name) {
        const from = own.environment !== undefined ? varFile : ROOT_TFVARS;
        throw new SettingsError(varFile, [
          `environment = ${JSON.stringify(merged.environment)} (from ${from}) does not match the file name; the environment of ${varFile} is "${name}": remove environment from ${from}`,
        ]);
      }
      const deployment = parseSettings({ ...merged, environment: name }, varFile);
      // Terraform sees the merged files, without the name the app takes from the file.
      return { ...deployment, fileValues: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)), varFile };
    }),
  );
  const stateKeys = ["state_bucket", "state_region", "state_locking", "state_lock_table"] as const;
  const disagreeing = stateKeys.filter((key) => new Set(deployments.map((d) => d.settings[key])).size > 1);
  if (disagreeing.length) {
    throw new SettingsError(ENVIRONMENTS_DIR, [
      `${disagreeing.join(", ")} differ between environments; all environments share one state bucket and lock (set them in ${ROOT_TFVARS})`,
    ]);
  }
  return deployments;
}

/**
 * The deployment a command acts on: the one named, or the only one. `usage` shows how to name one.
 */
export function selectDeployment(deployments: EnvironmentDeployment[], name: string | undefined, usage: string): EnvironmentDeployment {
  const names = deployments.map((d) => d.settings.environment).join(", ");
  if (name !== undefined) {
    const named = deployments.find((d) => d.settings.environment === name);
    if (!named) throw new Error(`no environment "${name}"; the environments are ${names}`);
    return named;
  }
  if (deployments.length === 1) return deployments[0];
  throw new Error(`name an environment: ${usage}, one of ${names}`);
}
