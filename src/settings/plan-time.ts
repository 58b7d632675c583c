import type { Deployment } from "./index";
import { planPrefectConnection, type PrefectConnection } from "./prefect-connection";
import { edgeWhitespaceError, PLAN_TIME_KEYS, placeholderIdError, publicAuthStringError, SECRET_KEYS } from "./schema";

type PlanTimeKey = (typeof PLAN_TIME_KEYS)[number];

/** How an operator supplies each plan-time value, for messages (never the value itself). */
const HOW: Record<PlanTimeKey, string> = {
  prefect_account_id:
    "set prefect_account_id in {file} or export TF_VAR_prefect_account_id (the id after /account/ in https://app.prefect.cloud/account/<account id>/workspace/<workspace id>)",
  prefect_workspace_id: "set prefect_workspace_id in {file} or export TF_VAR_prefect_workspace_id (the id after /workspace/ in the workspace URL)",
  prefect_api_key: "export TF_VAR_prefect_api_key=<your key> (a key in a file is easy to commit or share)",
  prefect_api_auth_string: "export TF_VAR_prefect_api_auth_string=<user:password>",
  prefect_server_db_password:
    "export TF_VAR_prefect_server_db_password=<8-128 printable ASCII characters, none of / ' \" @ or space>, read without echo (read -rs)",
};

/** Which of the stack's needs (prefect-connection.ts) each plan-time value answers. */
const NEED: Record<PlanTimeKey, keyof PrefectConnection["required"]> = {
  prefect_account_id: "accountAndWorkspace",
  prefect_workspace_id: "accountAndWorkspace",
  prefect_api_key: "apiKey",
  prefect_api_auth_string: "authString",
  prefect_server_db_password: "serverDbPassword",
};

/** The plan-time values this deployment's stack requires (the others default to null). */
export function requiredPlanTimeKeys(deployment: Deployment): PlanTimeKey[] {
  const needs = planPrefectConnection(deployment.settings).required;
  return PLAN_TIME_KEYS.filter((key) => needs[NEED[key]]);
}

/**
 * What Terraform would stop at, said before it runs: each required plan-time value that neither the settings
 * files nor a TF_VAR_ variable gives, or gives empty. `files` names the files Terraform reads, for the message.
 */
export function missingPlanTimeValues(deployment: Deployment, env: NodeJS.ProcessEnv, files: string): string[] {
  return requiredPlanTimeKeys(deployment).flatMap((key) => {
    const value = deployment.fileValues[key] ?? env[`TF_VAR_${key}`];
    if (value === undefined) return [`${key} has no value: ${HOW[key].replace("{file}", files)}`];
    const from = deployment.fileValues[key] !== undefined ? files : `TF_VAR_${key}`;
    if (typeof value === "string" && value.trim() === "") return [`${key} is empty (in ${from}): ${HOW[key].replace("{file}", files)}`];
    // The file's values were checked at synth; TF_VAR_ values are checked here, never shown.
    const edge = SECRET_KEYS.includes(key) && typeof value === "string" && edgeWhitespaceError(value);
    if (edge) return [`${key} (in ${from}) is not valid: ${edge}`];
    const weak =
      key === "prefect_api_auth_string" && deployment.settings.prefect_server_public_certificate_arn !== undefined && typeof value === "string"
        ? publicAuthStringError(value)
        : undefined;
    if (weak) return [`${key} (in ${from}) is not valid with the internet-facing listener: ${weak}`];
    // The file's ids were checked at synth; an id from the environment is checked here.
    const placeholder = (key === "prefect_account_id" || key === "prefect_workspace_id") && typeof value === "string" && placeholderIdError(value);
    if (placeholder) return [`${key} = ${JSON.stringify(value)} (in ${from}) is not valid: ${placeholder}`];
    return [];
  });
}

/** Warnings about how the settings were given: a credential written into a settings file (`files` names them). */
export function settingsWarnings(deployment: Deployment, files: string): string[] {
  return SECRET_KEYS.filter((key) => deployment.fileValues[key] !== undefined).map(
    (key) =>
      `${key} is written in ${files}: it never reaches cdktf.out, state or plans, but a file holding a credential is easy to commit, ` +
      `share or back up; prefer export TF_VAR_${key}=… and remove it from the file`,
  );
}

/** The settings files Terraform reads for a deployment, as messages name them. */
export const settingsFiles = (varFile: string | undefined): string => (varFile ? `terraform.tfvars or ${varFile}` : "terraform.tfvars");
