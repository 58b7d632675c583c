import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { type Deployment, parseSettings, SettingsError } from "./index";
import { readTfvars } from "./tfvars";

import { serverNamespace, STATE_ENVIRONMENT, stateStackName } from "../naming";

/**
 * Files Terraform loads by itself from the project root (and cdktf passes to every stack) that this app
 * does not read: values there would reach Terraform but not the synthesized stack.
 */
export function unreadSettingsFiles(projectDir: string): string[] {
  return readdirSync(projectDir)
    .filter((name) => name === "terraform.tfvars.json" || name.endsWith(".auto.tfvars") || name.endsWith(".auto.tfvars.json"))
    .sort();
}

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
  const unread = unreadSettingsFiles(projectDir);
  if (unread.length) {
    throw new SettingsError(
      projectDir === "." ? "the project folder" : projectDir,
      unread.map(
        (name) => `${name} would be read by Terraform but not by this app; move its values to ${ROOT_TFVARS} or ${ENVIRONMENTS_DIR}/<name>.tfvars`,
      ),
    );
  }
  const shared = await readTfvars(join(projectDir, ROOT_TFVARS));
  const dir = join(projectDir, ENVIRONMENTS_DIR);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new SettingsError(ENVIRONMENTS_DIR, ["is a file; environments/ must be a folder of <environment>.tfvars files"]);
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  const stray = entries.filter((name) => name.endsWith(".tfvars.json"));
  if (stray.length) {
    throw new SettingsError(
      ENVIRONMENTS_DIR,
      stray.map((name) => `${name} is not read; write environments as HCL files named <environment>.tfvars`),
    );
  }
  const files = entries.filter((name) => name.endsWith(".tfvars")).sort();
  if (files.includes(`${STATE_ENVIRONMENT}.tfvars`)) {
    throw new SettingsError(join(ENVIRONMENTS_DIR, `${STATE_ENVIRONMENT}.tfvars`), [
      `"${STATE_ENVIRONMENT}" names the state bootstrap stack (npm run deploy -- ${STATE_ENVIRONMENT}); rename the file to another environment name`,
    ]);
  }
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
      // A message says where a value came from when it is not the environment's own file.
      const origins = {
        ...Object.fromEntries(
          Object.keys(shared)
            .filter((key) => own[key] === undefined)
            .map((key) => [key, `from ${ROOT_TFVARS}`]),
        ),
        environment: `from the file name ${varFile}: rename the file to change it`,
      };
      const deployment = parseSettings({ ...merged, environment: name }, varFile, origins);
      // Terraform sees the merged files, without the name the app takes from the file.
      return { ...deployment, fileValues: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)), varFile };
    }),
  );
  const owners = new Map<string, string>([[stateStackName(deployments[0].settings.project_name), "the state bootstrap stack"]]);
  const clashes: string[] = [];
  for (const d of deployments) {
    const other = owners.get(d.settings.name_prefix);
    if (other)
      clashes.push(
        `${d.varFile} gives the stack name "${d.settings.name_prefix}" (<project_name>-<environment>), as does ${other}; change project_name or rename the file`,
      );
    else owners.set(d.settings.name_prefix, d.varFile!);
  }
  clashes.push(...sharedResourceClashes(deployments));
  if (clashes.length) throw new SettingsError(ENVIRONMENTS_DIR, clashes);
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
 * Pairs of environments that would claim one thing that must be unique beyond their own names: a private DNS
 * namespace in a shared VPC (Cloud Map allows one namespace of a name per VPC, and both servers would answer to
 * it), and a work pool on the same Prefect server or workspace (each stack rewrites the pool's template).
 */
function sharedResourceClashes(deployments: EnvironmentDeployment[]): string[] {
  const clashes: string[] = [];
  const seen = new Map<string, EnvironmentDeployment>();
  const claim = (key: string, d: EnvironmentDeployment, what: string) => {
    const other = seen.get(key);
    if (other) clashes.push(`${d.varFile} and ${other.varFile} ${what}; give each environment its own`);
    else seen.set(key, d);
  };
  for (const d of deployments) {
    const s = d.settings;
    // The Cloud Map namespace exists with the in-stack server, or when named.
    if (s.existing_vpc_id && (s.prefect_server || s.service_discovery_namespace))
      claim(
        `namespace ${s.existing_vpc_id} ${serverNamespace(s)}`,
        d,
        `both create the private DNS namespace ${serverNamespace(s)} in ${s.existing_vpc_id}, where Cloud Map allows one`,
      );
    // An in-stack server is each environment's own; otherwise the target is known only when the files name it.
    if (!s.prefect_server) {
      const target =
        s.prefect_api_url ??
        (s.prefect_workspace_id ? `workspace ${s.prefect_workspace_id}` : "Prefect Cloud (workspace from TF_VAR_prefect_workspace_id)");
      claim(
        `pool ${target} ${s.work_pool_name}`,
        d,
        `both use the work pool ${s.work_pool_name} on ${target}, and each deploy would rewrite the other's template`,
      );
    }
  }
  return clashes;
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
