/**
 * The settings variants the tests build, apart from the helpers that synthesize them, so scripts outside the
 * test runner (scripts/synth-fingerprint.ts) can use them too.
 */
import type { SettingsInput } from "../../src/settings";

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
  ec2_capacity: { flow_run_capacity: "ec2", flow_run_ami_id: "ami-0123456789abcdef0", flow_run_warm_pool_size: 1 },
  existing_secret: {
    existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbC123:api_key",
  },
} satisfies Record<string, Partial<Record<keyof SettingsInput, unknown>>>;
export type Variant = keyof typeof VARIANTS;

/** Every optional feature at once: the most resource types one stack emits. */
export const EVERYTHING_ON = {
  ...VARIANTS.prefect_server,
  ...VARIANTS.nat_instance,
  flow_run_efs: true,
  vpc_interface_endpoints: true,
  alarm_email: "ops@example.com",
  monthly_budget_usd: 50,
  worker_max_count: 3,
  flow_run_capacity: "ec2",
  flow_run_warm_pool_size: 1,
};

export function valuesFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...BASE_VALUES, ...overrides }).filter(([, v]) => v !== undefined));
}
