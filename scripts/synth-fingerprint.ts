/**
 * Fingerprints the synthesized Terraform JSON of every settings variant the tests build, so a refactor can
 * show it changed nothing (logical ids included):
 *   npx tsx scripts/synth-fingerprint.ts [<folder>] > fingerprints.txt
 * Prints one `sha256  variant` line per variant, over canonical JSON (keys sorted at every level); with a
 * folder, also writes each variant's canonical JSON there as <variant>.json. Run it before and after, then diff.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { runScript } from "../src/cli";
import { parseSettings } from "../src/settings";
import { PrefectEcsStack } from "../src/stack";
import { StateStack } from "../src/state-stack";
import { withSortedKeys } from "../src/stacks/variables";
import { VARIANTS, valuesFor } from "../__tests__/support/variants";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const HUB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbC123";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts";

/** VARIANTS, plus settings the test files build on top of them: every feature, on and off. */
const CASES: Record<string, Record<string, unknown>> = {
  ...VARIANTS,
  public_subnets_efs: { ...VARIANTS.public_subnets, flow_run_efs: true },
  nat_instance_arm: { ...VARIANTS.nat_instance, nat_instance_type: "c7gn.medium" },
  alarms_budget: { ...VARIANTS.nat_instance, alarm_email: "ops@example.com", alarm_sns_topic_arn: TOPIC, monthly_budget_usd: 50 },
  alarms_autoscaling: {
    alarm_email: "ops@example.com",
    worker_desired_count: 2,
    worker_min_count: 2,
    worker_max_count: 4,
    alarm_worker_down_minutes: 10,
  },
  alarms_no_observer: { alarm_email: "ops@example.com", ecs_event_observer: false, container_insights: false },
  efs_spot: { flow_run_efs: true, flow_run_spot: true, work_queues: ["default"], vpc_interface_endpoints: true, worker_capacity: "fargate_spot" },
  efs_mount_path: { flow_run_efs: true, flow_run_efs_mount_path: "/data" },
  manual_pool: { manage_work_pool: false },
  observer_off: { ecs_event_observer: false, log_retention_days: 60, worker_cpu: 1024, worker_memory: 2048 },
  ecs_exec: { enable_ecs_exec: true },
  autoscaling_arm: { worker_min_count: 1, worker_max_count: 3, worker_cpu_architecture: "ARM64", ecs_event_observer: true },
  flow_run_arm: { flow_run_cpu_architecture: "ARM64", flow_run_cpu: 2048, flow_run_memory: 8192, flow_run_image_tag: "2024.06" },
  flow_image: { flow_run_image: "ghcr.io/acme/flows:1.2", flow_image_keep_count: 40, ecr_keep_image_count: 12 },
  pull_through_cache: { ecr_pull_through_cache: "docker_hub", docker_hub_credential_secret_arn: HUB_SECRET },
  pull_through_cache_server: { ...VARIANTS.prefect_server, ecr_pull_through_cache: "docker_hub", docker_hub_credential_secret_arn: HUB_SECRET },
  az_count: { availability_zones: undefined, az_count: 3 },
  prefect_cloud_queues: { work_queues: ["default", "critical"], tags: { Team: "data" }, prefect_api_key_version: 2 },
  existing_secret_kms: {
    ...VARIANTS.existing_secret,
    existing_api_key_secret_kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012",
  },
  existing_vpc_server: { ...VARIANTS.existing_vpc, prefect_server: true },
  existing_vpc_efs: { ...VARIANTS.existing_vpc, flow_run_efs: true },
  server_auth: { ...VARIANTS.prefect_server, self_hosted_auth: "auth_string" },
  server_manual_pool: { ...VARIANTS.prefect_server, manage_work_pool: false, alarm_email: "ops@example.com" },
  server_public: {
    ...VARIANTS.prefect_server,
    internet_egress: "nat_instance",
    nat_instance_ami_id: "ami-0123456789abcdef0",
    self_hosted_auth: "auth_string",
    prefect_server_public_certificate_arn: CERT,
    prefect_server_public_cidrs: ["203.0.113.0/24"],
    prefect_server_cpu_architecture: "ARM64",
    service_discovery_namespace: "acme.internal",
    prefect_server_db_restore_snapshot: "prefect-ecs-dev-prefect-final",
    prefect_server_ecs_exec: false,
  },
  server_public_alarms: {
    prefect_server: true,
    self_hosted_auth: "auth_string",
    prefect_server_public_certificate_arn: CERT,
    prefect_server_public_cidrs: ["0.0.0.0/0"],
    alarm_email: "ops@example.com",
    flow_run_efs: true,
    prefect_server_db_deletion_protection: false,
    prefect_server_db_final_snapshot: false,
  },
  state_bucket_prod: { state_bucket: "acme-tfstate", state_lock_table: "acme-locks", state_region: "eu-west-1", environment: "prod" },
  state_lockfile_staging: { state_bucket: "acme-tfstate", state_locking: "s3_lockfile", environment: "staging" },
};

/** JSON text with the keys of every object sorted, so equal content gives equal text. */
const canonical = (value: unknown): string => JSON.stringify(withSortedKeys(value), null, 2) + "\n";

function synthesized(values: Record<string, unknown>): Record<string, string> {
  const deployment = parseSettings(valuesFor(values), "test");
  const stack = new PrefectEcsStack(Testing.app(), deployment);
  const texts = { stack: Testing.synth(stack, true) };
  if (!deployment.settings.state_bucket) return texts;
  return { ...texts, state: Testing.synth(new StateStack(Testing.app(), deployment), true) };
}

runScript({
  usage: "npx tsx scripts/synth-fingerprint.ts [<folder>] > fingerprints.txt",
  description:
    "Prints a sha256 of the canonical Terraform JSON of every settings variant the tests build; with a folder, writes each JSON there too.",
  run: async ([folder]) => {
    if (folder) mkdirSync(folder, { recursive: true });
    for (const [name, values] of Object.entries(CASES)) {
      for (const [kind, text] of Object.entries(synthesized(values))) {
        const variant = kind === "stack" ? name : `${name}.${kind}`;
        const json = canonical(JSON.parse(text));
        console.log(`${createHash("sha256").update(json).digest("hex")}  ${variant}`);
        if (folder) writeFileSync(join(folder, `${variant}.json`), json);
      }
    }
  },
});
