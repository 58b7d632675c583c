import { describe, expect, it } from "vitest";
import { RULES, ruleProblems, SETTING_KEYS } from "../src/settings";

const VPC = { existing_vpc_id: "vpc-0123456789abcdef0", existing_private_subnet_ids: ["subnet-0123456789abcdef0"] };
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prefect/key-AbC123";

/** At least one case per rule of the cross-key table; each case is what a user could write. */
const CASES: Record<string, Record<string, unknown>>[] = [
  { vpcNoSubnets: { existing_vpc_id: "vpc-0123456789abcdef0" } },
  { subnetsNoVpc: { existing_private_subnet_ids: ["subnet-0123456789abcdef0"] } },
  { newVpcKeysWithExisting: { ...VPC, nat_gateway_mode: "per_az", az_count: 3 } },
  { egressKeyOfAnotherMode: { internet_egress: "nat_instance", nat_gateway_mode: "per_az" } },
  { endpointsWithPublicSubnets: { internet_egress: "public_subnets", vpc_interface_endpoints: true } },
  { oneAz: { availability_zones: ["us-east-1a"] } },
  { azTwice: { availability_zones: ["us-east-1a", "us-east-1a"] } },
  { azOutsideRegion: { availability_zones: ["eu-west-1a", "eu-west-1b"] } },
  { azCountDisagrees: { availability_zones: ["us-east-1a", "us-east-1b"], az_count: 3 } },
  { cidrSyntax: { vpc_cidr: "10.0.0.1/16" } },
  { cidrReserved: { vpc_cidr: "172.17.0.0/16" } },
  { workerSize: { worker_cpu: 256, worker_memory: 4096 } },
  { flowRunSize: { flow_run_cpu: 256, flow_run_memory: 4096 } },
  { cloudWithSelfHosted: { prefect_api_url: "https://p.example.com/api", prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666" } },
  { authWithoutUrl: { self_hosted_auth: "auth_string" } },
  { authStringUnused: { prefect_api_url: "https://p.example.com/api", prefect_api_auth_string: "a:b" } },
  { plainHttp: { prefect_api_url: "http://p.example.com/api" } },
  { plainHttpFlagUnused: { prefect_api_allow_plain_http: true } },
  { foreignPartition: { flow_run_policy_arns: ["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"] } },
  { kmsWithoutSecret: { existing_api_key_secret_kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" } },
  {
    kmsRegion: {
      existing_api_key_secret_arn: SECRET,
      existing_api_key_secret_kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
  },
  { reservedDerivedPool: { environment: "prefectx" } },
  { queueTwice: { work_queues: ["a", "a"] } },
  { imageAndTag: { flow_run_image: "acme/flows:1", flow_run_image_tag: "2" } },
  { latestImmutable: { flow_run_image_tag: "latest" } },
  { hubWithoutCredential: { ecr_pull_through_cache: "docker_hub" } },
  {
    hubCredentialUnused: { docker_hub_credential_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbC123" },
  },
  {
    hubCredentialName: {
      ecr_pull_through_cache: "docker_hub",
      docker_hub_credential_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:hub-AbC123",
    },
  },
  {
    hubCredentialRegion: {
      ecr_pull_through_cache: "docker_hub",
      docker_hub_credential_secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/hub-AbC123",
    },
  },
  { mountPathWithoutEfs: { flow_run_efs_mount_path: "/data" } },
  { mountPathOverSystem: { flow_run_efs: true, flow_run_efs_mount_path: "/usr" } },
  { minAboveDesired: { worker_min_count: 2 } },
  { maxBelowDesiredByDefault: { worker_min_count: 1, worker_desired_count: 2 } },
  { maxBelowDesired: { worker_desired_count: 3, worker_max_count: 2 } },
  { targetsWithoutScaling: { worker_cpu_target: 50, worker_memory_target: 60 } },
  { scalingFromZero: { worker_desired_count: 0, worker_min_count: 0, worker_max_count: 2 } },
  { execReadOnly: { enable_ecs_exec: true, worker_read_only_root_filesystem: true } },
  { downAlarmWithNoWorker: { alarm_email: "ops@example.com", worker_desired_count: 0, alarm_worker_down_minutes: 10 } },
  { thresholdsWithoutAlarms: { alarm_worker_down_minutes: 10, monthly_budget_usd: 50 } },
  { topicInAnotherRegion: { alarm_sns_topic_arn: "arn:aws:sns:eu-west-1:123456789012:ops" } },
  { queueAlarmWithoutObserver: { alarm_email: "ops@example.com", ecs_event_observer: false, alarm_queue_age_minutes: 30 } },
  { serverSize: { prefect_server: true, prefect_server_cpu: 512, prefect_server_memory: 8192 } },
  { serverWithUrl: { prefect_server: true, prefect_api_url: "https://p.example.com/api" } },
  { serverWithCloud: { prefect_server: true, prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666" } },
  { serverKeysWithoutServer: { prefect_server_db_instance_class: "db.t4g.small", prefect_server_cpu: 1024 } },
  { serverWithPublicSubnets: { prefect_server: true, internet_egress: "public_subnets" } },
  { serverOneExistingSubnet: { ...VPC, prefect_server: true } },
  { serverWorkerVersionSkew: { prefect_server: true, worker_image: "prefecthq/prefect-aws:0.7.7-python3.12-prefect3.6.28" } },
  {
    publicWithoutAuth: {
      prefect_server: true,
      prefect_server_public_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    },
  },
  { publicCidrsWithoutListener: { prefect_server: true, prefect_server_public_cidrs: ["203.0.113.0/24"] } },
  {
    publicWeakAuthString: {
      prefect_server: true,
      self_hosted_auth: "auth_string",
      prefect_api_auth_string: "admin:short",
      prefect_server_public_cidrs: ["0.0.0.0/0"],
      prefect_server_public_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    },
  },
  {
    publicWithExistingVpc: {
      ...VPC,
      existing_private_subnet_ids: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      prefect_server: true,
      self_hosted_auth: "auth_string",
      prefect_server_public_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    },
  },
  {
    publicCertificateRegion: {
      prefect_server: true,
      self_hosted_auth: "auth_string",
      prefect_server_public_certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    },
  },
  { serverFlowImageSkew: { prefect_server: true, flow_run_image: "prefecthq/prefect:3.4.0-python3.12" } },
  { serverWorkerFloatingTag: { prefect_server: true, worker_image: "prefecthq/prefect-aws:latest" } },
  {
    publicInternalPrefix: {
      project_name: "internal-app",
      prefect_server: true,
      self_hosted_auth: "auth_string",
      prefect_server_public_certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    },
  },
  {
    restoreSnapshotRegion: {
      prefect_server: true,
      prefect_server_db_restore_snapshot: "arn:aws:rds:eu-west-1:123456789012:snapshot:prefect-ecs-dev-prefect-final",
    },
  },
  { serverMaxStorageBelowSize: { prefect_server: true, prefect_server_db_storage_gb: 200 } },
  { serverMaxStorageUnder110Percent: { prefect_server: true, prefect_server_db_storage_gb: 100, prefect_server_db_max_storage_gb: 105 } },
  { ec2KeysOnFargate: { flow_run_instances_min: 2, flow_run_ami_id: "ami-0123456789abcdef0" } },
  { spotAndEc2: { flow_run_spot: true, flow_run_capacity: "ec2" } },
  { ec2WithPublicSubnets: { flow_run_capacity: "ec2", internet_egress: "public_subnets" } },
  { ec2ArmTypeOnX86: { flow_run_capacity: "ec2", flow_run_instance_type: "c7g.large" } },
  { ec2MinAboveMax: { flow_run_capacity: "ec2", flow_run_instances_min: 3, flow_run_instances_max: 2 } },
  { ec2WarmPoolAboveMax: { flow_run_capacity: "ec2", flow_run_warm_pool_size: 3, flow_run_instances_max: 2 } },
  { ec2RunTooLarge: { flow_run_capacity: "ec2", flow_run_instance_type: "c7i.large", flow_run_memory: 4096 } },
  { stateWithoutBucket: { state_lock_table: "locks", state_region: "eu-west-1" } },
  { lockfileWithTable: { state_bucket: "acme-state-bucket", state_locking: "s3_lockfile", state_lock_table: "locks" } },
];

describe("cross-key settings rules: every message", () => {
  const results = CASES.map((entry) => {
    const [name, values] = Object.entries(entry)[0];
    return { name, values, problems: ruleProblems(values) };
  });

  it("GIVEN one case per rule THEN every rule of the table fires for at least one of them", () => {
    const fired = new Set(results.flatMap((r) => r.problems.map((p) => p.rule)));
    const silent = RULES.map((_, i) => i).filter((i) => !fired.has(i));
    expect(silent, `rules without a case: ${silent.join(", ")}`).toEqual([]);
  });

  it.each(CASES.map((entry) => Object.keys(entry)[0]))("GIVEN %s WHEN checked THEN a message results, with no `undefined` in it", (name) => {
    const { problems } = results.find((r) => r.name === name)!;
    expect(problems.length).toBeGreaterThan(0);
    for (const { message } of problems) expect(message).not.toMatch(/undefined|NaN|\[object Object\]/);
  });

  it.each(CASES.map((entry) => Object.keys(entry)[0]))(
    "GIVEN %s WHEN checked THEN every `key = value` in a message is a key the user wrote; defaults read `key (not set, so …)`",
    (name) => {
      const { values, problems } = results.find((r) => r.name === name)!;
      for (const { message } of problems) {
        // "set key = value" is advice, not blame.
        const blamed = SETTING_KEYS.filter((key) => new RegExp(`(^|[^a-z_])(?<!set )${key} = `).test(message));
        for (const key of blamed) expect(Object.keys(values), `${name}: ${message}`).toContain(key);
      }
    },
  );

  it("GIVEN worker_min_count = 1 and worker_desired_count = 2 THEN the message explains the default maximum instead of printing undefined", () => {
    const [problem] = ruleProblems({ worker_min_count: 1, worker_desired_count: 2 });
    expect(problem.message).toBe(
      "worker_max_count (not set, so worker_min_count's 1) is below worker_desired_count = 2; use min <= desired <= max (set worker_max_count to at least worker_desired_count)",
    );
  });
});
