import { Testing } from "cdktf";
import { expect } from "vitest";
import { estimate, type Estimate, inventoryOf, resourcesOfSynth } from "../../src/review/cost";
import { parseSettings } from "../../src/settings";
import { PrefectEcsStack } from "../../src/stack";
import { StateStack } from "../../src/state-stack";
import { VARIANTS, type Variant, valuesFor } from "./variants";

export { BASE_VALUES, EVERYTHING_ON, VARIANTS, type Variant, valuesFor } from "./variants";

export interface Synthesized {
  /** The raw cdk.tf.json text (for cdktf's matchers and canary searches). */
  readonly text: string;
  readonly json: TerraformJson;
  readonly stack: PrefectEcsStack;
}
export interface TerraformJson {
  resource: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  variable: Record<string, Record<string, any>>;
  output: Record<string, Record<string, any>>;
  provider: Record<string, Record<string, any>[]>;
  terraform: Record<string, any>;
}

/** Synthesizes one stack from raw settings values (as a terraform.tfvars would hold them). */
export function synth(overrides: Record<string, unknown> = {}): Synthesized {
  const deployment = parseSettings(valuesFor(overrides), "test");
  const app = Testing.app();
  const stack = new PrefectEcsStack(app, deployment);
  const text = Testing.synth(stack, true);
  return { text, json: JSON.parse(text) as TerraformJson, stack };
}

/** Synthesizes the state bootstrap stack for these values (they must set state_bucket). */
export function synthState(overrides: Record<string, unknown> = {}): { text: string; json: TerraformJson } {
  const app = Testing.app();
  const stack = new StateStack(app, parseSettings(valuesFor(overrides), "test"));
  const text = Testing.synth(stack, true);
  return { text, json: JSON.parse(text) as TerraformJson };
}

export const synthVariant = (variant: Variant, extra: Record<string, unknown> = {}) => synth({ ...VARIANTS[variant], ...extra });

/** All resources of one type, keyed by logical id. */
export function resources(json: TerraformJson, type: string): Record<string, Record<string, any>> {
  return json.resource[type] ?? {};
}

/** The single resource of a type (fails loudly when there is not exactly one). */
export function only(json: TerraformJson, type: string): Record<string, any> {
  const all = Object.values(resources(json, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/**
 * A canary value for every secret setting (SECRET_KEYS): valid for its setting, unique, and never to surface
 * in cdk.tf.json, plan output, state, task definitions or messages. secret-canaries.test.ts fails when a
 * secret setting has no canary here.
 */
export const SECRET_CANARIES: Readonly<Record<string, string>> = {
  prefect_api_key: "pnu_CANARY_7a3f0e_must_never_appear",
  prefect_api_auth_string: "admin:auth_CANARY_5d20b4_must_never_appear",
  prefect_server_db_password: "dbpw_CANARY_41c9e2_must_never_appear",
};
export const CANARY_API_KEY = SECRET_CANARIES.prefect_api_key;
export const CANARY_DB_PASSWORD = SECRET_CANARIES.prefect_server_db_password;

/** Fails naming the first secret canary found in text (the canary itself is only in the test source). */
export function expectNoCanary(text: string, where = "the output"): void {
  for (const [key, canary] of Object.entries(SECRET_CANARIES)) expect(text.includes(canary), `${key}'s canary in ${where}`).toBe(false);
}

/** Plan-time variable values for Terraform runs: the Prefect ids, and every secret as its canary. */
export const PLAN_TIME_ENV = {
  TF_VAR_prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666",
  TF_VAR_prefect_workspace_id: "1b5c1a2e-1111-4222-8333-944455556666",
  TF_VAR_prefect_api_key: SECRET_CANARIES.prefect_api_key,
  TF_VAR_prefect_api_auth_string: SECRET_CANARIES.prefect_api_auth_string,
  TF_VAR_prefect_server_db_password: SECRET_CANARIES.prefect_server_db_password,
};

/** Every problem the settings validation reports for these values, as one message ("" when they are valid). */
export function settingsProblems(values: Record<string, unknown>): string {
  try {
    parseSettings(values);
    return "";
  } catch (error) {
    return String((error as Error).message);
  }
}

/** The monthly estimate (us-east-1 prices) of the stack these values synthesize. */
export function monthlyCost(values: Record<string, unknown>): Estimate {
  const { json } = synth(values);
  return estimate(inventoryOf(resourcesOfSynth(json), "us-east-1"));
}
