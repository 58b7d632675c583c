import { Testing } from "cdktf";
import { estimate, type Estimate, inventoryOf, resourcesOfSynth } from "../../src/review/cost";
import { parseSettings, type SettingsInput } from "../../src/settings";
import { PrefectEcsStack } from "../../src/stack";
import { StateStack } from "../../src/state-stack";

/** Values every test deployment starts from: explicit AZs so no AWS lookup is needed. */
export const BASE_VALUES: SettingsInput = {
  availability_zones: ["us-east-1a", "us-east-1b"],
};

/** Canonical settings variants the tests (and the real-Terraform tier) cover. */
export const VARIANTS = {
  default: {},
  per_az_nat: { nat_gateway_mode: "per_az", availability_zones: ["us-east-1a", "us-east-1b", "us-east-1c"] },
  existing_vpc: {
    availability_zones: undefined,
    existing_vpc_id: "vpc-0123456789abcdef0",
    existing_private_subnet_ids: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
  },
  nat_instance: { internet_egress: "nat_instance", nat_instance_ami_id: "ami-0123456789abcdef0" },
  public_subnets: { internet_egress: "public_subnets" },
  self_hosted: { prefect_api_url: "http://prefect.internal:4200/api", self_hosted_auth: "auth_string" },
  prefect_server: { prefect_server: true, work_queues: ["default", "high-priority"] },
  existing_secret: {
    existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbC123:api_key",
  },
} satisfies Record<string, Partial<Record<keyof SettingsInput, unknown>>>;
export type Variant = keyof typeof VARIANTS;

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

export function valuesFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...BASE_VALUES, ...overrides }).filter(([, v]) => v !== undefined));
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

/** Plan-time variable values for Terraform runs, with a canary API key that must never surface. */
export const CANARY_API_KEY = "pnu_CANARY_7a3f0e_must_never_appear";
/** The in-stack server's database password canary: like the key, it must never surface. */
export const CANARY_DB_PASSWORD = "dbpw_CANARY_41c9e2_must_never_appear";
export const PLAN_TIME_ENV = {
  TF_VAR_prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666",
  TF_VAR_prefect_workspace_id: "1b5c1a2e-1111-4222-8333-944455556666",
  TF_VAR_prefect_api_key: CANARY_API_KEY,
  TF_VAR_prefect_api_auth_string: `admin:${CANARY_API_KEY}`,
  TF_VAR_prefect_server_db_password: CANARY_DB_PASSWORD,
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
