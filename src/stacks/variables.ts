import { TerraformStack, TerraformVariable } from "cdktf";
import type { z } from "zod";
import { literal } from "../literal";
import {
  type Deployment,
  PLAN_TIME_KEYS,
  PUBLIC_AUTH_STRING_RE2,
  SECRET_KEYS,
  type SettingKey,
  SETTING_KEYS,
  settingsSchema,
  UUID_RE2,
} from "../settings";

/** Plan-time inputs the stack uses, as Terraform expressions (`${var.…}`). */
export interface PlanTimeInputs {
  readonly prefectAccountId: string;
  readonly prefectWorkspaceId: string;
  /** Sensitive and ephemeral: usable in write-only arguments and provisioners, never stored in state. */
  readonly prefectApiKey: string;
  readonly prefectApiAuthString: string;
  /** Sensitive and ephemeral, like the credentials: the in-stack server's database password. */
  readonly prefectServerDbPassword: string;
}

/** Which plan-time variables must have a value (the others default to null). */
export interface PlanTimeNeeds {
  readonly accountAndWorkspace: boolean;
  readonly apiKey: boolean;
  readonly authString: boolean;
  readonly serverDbPassword: boolean;
}

/**
 * Declares a Terraform variable for every settings key, so the same terraform.tfvars serves the app
 * (at synth) and Terraform (cdktf passes a project-root terraform.tfvars to every stack) without
 * "undeclared variable" warnings. Variables must sit at the stack root: their logical id is the key.
 */
export function declareVariables(
  stack: TerraformStack,
  deployment: Deployment,
  needs: PlanTimeNeeds,
  options: { readonly checkSynthTimeValues?: boolean } = {},
): PlanTimeInputs {
  const planTime = (key: (typeof PLAN_TIME_KEYS)[number], required: boolean, description: string) => {
    // A credential (secret() in the schema) is sensitive and ephemeral: never in state or plan output.
    const sensitive = SECRET_KEYS.includes(key);
    const variable = new TerraformVariable(stack, key, {
      type: "string",
      description,
      sensitive,
      nullable: !required,
    });
    // cdktf cannot serialize a null default from the config object; the override writes one.
    if (!required) variable.addOverride("default", null);
    if (sensitive) variable.addOverride("ephemeral", true);
    return variable;
  };
  const uuidCheck = (variable: TerraformVariable, what: string) =>
    variable.addValidation({
      condition: `\${var.${variable.node.id} == null || can(regex("${UUID_RE2}", var.${variable.node.id}))}`,
      errorMessage: `${variable.node.id} must be ${what} (a lower-case UUID, as in the workspace URL https://app.prefect.cloud/account/<account id>/workspace/<workspace id>).`,
    });
  // Only a credential the stack uses must be non-empty; an unused one may be empty (CI sets every
  // TF_VAR_* from secrets, and a missing secret arrives as "").
  const nonEmptyWhenRequired = (variable: TerraformVariable, required: boolean) => {
    if (!required) return;
    variable.addValidation({
      condition: `\${length(trimspace(var.${variable.node.id})) > 0}`,
      errorMessage: `${variable.node.id} must not be empty.`,
    });
  };

  const accountId = planTime("prefect_account_id", needs.accountAndWorkspace, "Prefect Cloud account id (UUID).");
  uuidCheck(accountId, "your Prefect Cloud account id");
  const workspaceId = planTime("prefect_workspace_id", needs.accountAndWorkspace, "Prefect Cloud workspace id (UUID).");
  uuidCheck(workspaceId, "your Prefect Cloud workspace id");
  const apiKey = planTime("prefect_api_key", needs.apiKey, "Prefect API key; pass it as TF_VAR_prefect_api_key or in terraform.tfvars.");
  nonEmptyWhenRequired(apiKey, needs.apiKey);
  const authString = planTime("prefect_api_auth_string", needs.authString, "PREFECT_API_AUTH_STRING for a self-hosted server (user:password).");
  nonEmptyWhenRequired(authString, needs.authString);
  if (needs.authString && deployment.settings.prefect_server_public_certificate_arn !== undefined) {
    // The same rule the app applies to a file's value, for a TF_VAR_ value; the message never shows it.
    authString.addValidation({
      condition: `\${can(regex("${PUBLIC_AUTH_STRING_RE2}", var.prefect_api_auth_string))}`,
      errorMessage:
        "prefect_api_auth_string must be <user>:<password> with a password of at least 16 characters: the internet-facing listener has no lockout or rate limit.",
    });
  }

  const dbPassword = planTime(
    "prefect_server_db_password",
    needs.serverDbPassword,
    "Master password of the in-stack Prefect server's database (prefect_server = true); pass it as TF_VAR_prefect_server_db_password.",
  );
  if (needs.serverDbPassword) {
    // RDS's rule for PostgreSQL master passwords; the message never shows the value.
    dbPassword.addValidation({
      condition: `\${length(var.prefect_server_db_password) >= 8 && length(var.prefect_server_db_password) <= 128 && can(regex("^[!#-&(-.0-?A-~]+$", var.prefect_server_db_password))}`,
      errorMessage:
        "prefect_server_db_password must be 8-128 printable ASCII characters other than /, ', \", @ and space (RDS's rule for PostgreSQL master passwords).",
    });
  }

  for (const key of SETTING_KEYS) {
    if ((PLAN_TIME_KEYS as readonly string[]).includes(key)) continue;
    declareSynthTimeVariable(stack, key, deployment, options.checkSynthTimeValues ?? true);
  }
  return {
    prefectAccountId: accountId.stringValue,
    prefectWorkspaceId: workspaceId.stringValue,
    prefectApiKey: apiKey.stringValue,
    prefectApiAuthString: authString.stringValue,
    prefectServerDbPassword: dbPassword.stringValue,
  };
}

/**
 * A setting the app applied at synth. Terraform only checks that the value it is given is the one
 * the stack was synthesized from: a stale cdktf.out fails the plan instead of silently ignoring an edit.
 */
function declareSynthTimeVariable(stack: TerraformStack, key: SettingKey, deployment: Deployment, check: boolean): void {
  const variable = new TerraformVariable(stack, key, {
    type: terraformType(settingsSchema.shape[key]),
    description: `Applied by the app at synth time (see terraform.tfvars.example); declared so Terraform accepts the same file.`,
    nullable: true,
  });
  variable.addOverride("default", null);
  if (!check) return;
  const synthesized = deployment.fileValues[key];
  const ref = `var.${key}`;
  const condition =
    synthesized === undefined ? `${ref} == null` : `${ref} == null || jsonencode(${ref}) == ${hclStringLiteral(terraformJsonEncode(synthesized))}`;
  variable.addValidation({
    condition: `\${${condition}}`,
    errorMessage: `${key} differs from the value the stack was synthesized with; run "npm run synth" (cdktf deploy, diff and destroy synthesize first).`,
  });
}

function terraformType(schema: z.ZodType): string {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; element?: z.ZodType } }).def;
  switch (def.type) {
    case "optional":
    case "default":
      return terraformType(def.innerType!);
    case "number":
      return "number";
    case "boolean":
      return "bool";
    case "array":
      return "list(string)";
    case "record":
      return "map(string)";
    default:
      return "string";
  }
}

/** Go sorts map keys by their UTF-8 bytes; JavaScript's default sort compares UTF-16 units, which differs beyond U+FFFF. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** A copy of a JSON value with the keys of every object in `compare`'s order (the default sort unless given). */
export function withSortedKeys(value: unknown, compare?: (a: string, b: string) => number): unknown {
  return Array.isArray(value)
    ? value.map((item) => withSortedKeys(item, compare))
    : value !== null && typeof value === "object"
      ? Object.fromEntries(
          Object.keys(value)
            .sort(compare)
            .map((k) => [k, withSortedKeys((value as Record<string, unknown>)[k], compare)]),
        )
      : value;
}

/** JSON text exactly as Terraform's jsonencode() writes it: map keys in Go's order, HTML-safe escapes. */
export function terraformJsonEncode(value: unknown): string {
  return JSON.stringify(withSortedKeys(value, byUtf8)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A quoted HCL string whose content is literal (no interpolation or directives). */
function hclStringLiteral(text: string): string {
  return literal(JSON.stringify(text));
}
