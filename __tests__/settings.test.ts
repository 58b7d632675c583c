import { describe, expect, it } from "vitest";
import { fargateSizeError } from "../src/rules/fargate";
import { parseSettings, SettingsError } from "../src/settings";

/** Returns the problems parseSettings reports for these values (fails the test when none). */
function problemsFor(values: Record<string, unknown>): string[] {
  try {
    parseSettings(values, "terraform.tfvars");
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be rejected`);
}

describe("settings defaults", () => {
  it("GIVEN no file WHEN parsed THEN a complete, cheap default deployment results", () => {
    const { settings } = parseSettings({});
    expect(settings).toMatchObject({
      name_prefix: "prefect-ecs-dev",
      aws_region: "us-east-1",
      az_count: 2,
      vpc_cidr: "10.0.0.0/16",
      nat_gateway_mode: "single",
      worker_cpu: 512,
      worker_memory: 1024,
      worker_desired_count: 1,
      log_retention_days: 30,
      work_pool_name: "dev-prefect-ecs",
      state_region: "us-east-1",
      prefect_target: "cloud",
      ecr_image_tag_mutability: "IMMUTABLE",
      worker_read_only_root_filesystem: true,
    });
  });

  it("GIVEN explicit AZs WHEN parsed THEN az_count follows the list", () => {
    expect(parseSettings({ availability_zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], aws_region: "eu-west-1" }).settings.az_count).toBe(3);
  });

  it("GIVEN ECS Exec on WHEN parsed THEN the root filesystem becomes writable, because the SSM agent writes to it", () => {
    expect(parseSettings({ enable_ecs_exec: true }).settings.worker_read_only_root_filesystem).toBe(false);
  });

  it("GIVEN image tags in mixed case or a digest WHEN parsed THEN they are accepted", () => {
    expect(
      parseSettings({ worker_image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect/worker:Release-1.2" }).settings.worker_image,
    ).toContain(":Release-1.2");
    expect(() => parseSettings({ flow_run_image: `ghcr.io/acme/flows@sha256:${"a".repeat(64)}` })).not.toThrow();
  });

  it("GIVEN prefect_api_url WHEN parsed THEN the deployment targets a self-hosted server", () => {
    expect(parseSettings({ prefect_api_url: "https://prefect.example.com/api" }).settings.prefect_target).toBe("self_hosted");
  });
});

describe("settings validation: each rule names the key, the bad value and what is allowed", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown key with a suggestion", { worker_cpus: 512 }, /worker_cpus is not a known setting.*did you mean worker_cpu/],
    ["wrong type", { worker_cpu: "512" }, /worker_cpu = "512" is not valid: expected a number/],
    ["not a Fargate CPU", { worker_cpu: 300 }, /worker_cpu = 300 is not valid: use a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384/],
    [
      "memory outside the CPU's range",
      { worker_cpu: 256, worker_memory: 4096 },
      /worker_memory = 4096 does not fit worker_cpu = 256 on Fargate; use 512, 1024 or 2048/,
    ],
    ["bad environment name", { environment: "Prod!" }, /environment = "Prod!" is not valid: lower-case letters/],
    ["bad region", { aws_region: "useast1" }, /aws_region = "useast1" is not valid: an AWS region code/],
    ["NAT mode", { nat_gateway_mode: "both" }, /nat_gateway_mode = "both" is not valid: use "single" or "per_az"/],
    ["retention", { log_retention_days: 10 }, /log_retention_days = 10 is not valid: use one of CloudWatch's retention periods: 1, 3, 5, 7, 14, 30/],
    ["CIDR host bits", { vpc_cidr: "10.0.0.1/16" }, /vpc_cidr = "10.0.0.1\/16" is not a network address \(did you mean "10.0.0.0\/16"\?\)/],
    [
      "CIDR too small",
      { vpc_cidr: "10.0.0.0/26" },
      /vpc_cidr = "10.0.0.0\/26" has prefix \/26; use an IPv4 network address with a prefix from \/16 to \/24/,
    ],
    ["CIDR garbage", { vpc_cidr: "ten/8" }, /vpc_cidr = "ten\/8" is not a CIDR block/],
    ["AZ outside the region", { availability_zones: ["eu-west-1a", "eu-west-1b"] }, /must all be in aws_region \(not set, so "us-east-1"\)/],
    ["one AZ", { availability_zones: ["us-east-1a"] }, /lists 1 AZs; list 2 to 6/],
    ["duplicate AZ", { availability_zones: ["us-east-1a", "us-east-1a"] }, /lists an AZ twice/],
    ["az_count disagrees", { availability_zones: ["us-east-1a", "us-east-1b"], az_count: 3 }, /az_count = 3 disagrees with availability_zones/],
    ["az_count range", { az_count: 7 }, /az_count = 7 is not valid: use a whole number from 2 to 6/],
    [
      "VPC without subnets",
      { existing_vpc_id: "vpc-0123456789abcdef0" },
      /existing_vpc_id = "vpc-0123456789abcdef0" needs existing_private_subnet_ids/,
    ],
    [
      "subnets without VPC",
      { existing_private_subnet_ids: ["subnet-0123456789abcdef0"] },
      /existing_private_subnet_ids is set but existing_vpc_id is not/,
    ],
    [
      "new-VPC key with existing VPC",
      { existing_vpc_id: "vpc-0123456789abcdef0", existing_private_subnet_ids: ["subnet-0123456789abcdef0"], nat_gateway_mode: "per_az" },
      /nat_gateway_mode only applies to a new VPC/,
    ],
    [
      "interface endpoints with an existing VPC",
      { existing_vpc_id: "vpc-0123456789abcdef0", existing_private_subnet_ids: ["subnet-0123456789abcdef0"], vpc_interface_endpoints: true },
      /vpc_interface_endpoints only applies to a new VPC/,
    ],
    ["worker capacity", { worker_capacity: "spot" }, /worker_capacity = "spot" is not valid: use "fargate" or "fargate_spot"/],
    ["min above desired", { worker_min_count: 2 }, /worker_min_count = 2 is above worker_desired_count \(not set, so 1\); use min <= desired <= max/],
    ["max below desired", { worker_desired_count: 3, worker_max_count: 2 }, /worker_max_count = 2 is below worker_desired_count = 3/],
    ["target without autoscaling", { worker_cpu_target: 50 }, /worker_cpu_target only applies with autoscaling/],
    [
      "target out of range",
      { worker_min_count: 1, worker_max_count: 3, worker_memory_target: 99 },
      /worker_memory_target = 99 is not valid: use a whole number from 10 to 95 %/,
    ],
    [
      "autoscaling from zero",
      { worker_desired_count: 0, worker_min_count: 0, worker_max_count: 2 },
      /worker_min_count = 0 must be at least 1 with autoscaling/,
    ],
    [
      "KMS key without the secret",
      { existing_api_key_secret_kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/abc" },
      /it needs existing_api_key_secret_arn/,
    ],
    [
      "image with spaces",
      { worker_image: "my image" },
      /worker_image = "my image" is not valid: it has characters|worker_image = "my image" is not valid: use an image reference Docker accepts/,
    ],
    [
      "bad subnet id",
      { existing_vpc_id: "vpc-0123456789abcdef0", existing_private_subnet_ids: ["sub-1"] },
      /existing_private_subnet_ids = \["sub-1"\] is not valid: subnet ids/,
    ],
    [
      "account id not a UUID",
      { prefect_account_id: "my-account" },
      /prefect_account_id = "my-account" is not valid: a Prefect Cloud account id \(UUID\)/,
    ],
    [
      "API URL without /api",
      { prefect_api_url: "https://prefect.example.com" },
      /prefect_api_url = "https:\/\/prefect.example.com" is not valid: use an http\(s\) URL ending in \/api/,
    ],
    [
      "Cloud key with self-hosted server",
      { prefect_api_url: "https://prefect.example.com/api", prefect_api_key: "pnu_x" },
      /prefect_api_key is a Prefect Cloud setting, but prefect_api_url = "https:\/\/prefect.example.com\/api" selects a self-hosted server/,
    ],
    ["auth string mode on Cloud", { self_hosted_auth: "auth_string" }, /self_hosted_auth = "auth_string" needs prefect_api_url/],
    [
      "auth string without its mode",
      { prefect_api_url: "https://p.example.com/api", prefect_api_auth_string: "a:b" },
      /set self_hosted_auth = "auth_string"/,
    ],
    [
      "secret ARN without suffix",
      { existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect" },
      /existing_api_key_secret_arn = .* is not valid: a full Secrets Manager secret ARN/,
    ],
    [
      "recovery window",
      { secret_recovery_window_days: 3 },
      /secret_recovery_window_days = 3 is not valid: use 0 \(delete at once\) or a whole number from 7 to 30/,
    ],
    ["pool name", { work_pool_name: "my pool; rm -rf" }, /work_pool_name = "my pool; rm -rf" is not valid: letters, digits/],
    [
      "lock table with S3 lock files",
      { state_bucket: "acme-state", state_locking: "s3_lockfile", state_lock_table: "tf-locks" },
      /state_lock_table = "tf-locks" is not used with state_locking = "s3_lockfile"/,
    ],
    ["lock table without bucket", { state_lock_table: "locks" }, /state_lock_table needs state_bucket/],
    ["bucket name", { state_bucket: "My_Bucket" }, /state_bucket = "My_Bucket" is not valid: S3 bucket names have 3-63 lower-case letters/],
    [
      "tag key aws:",
      { tags: { "aws:owner": "x" } },
      /tags = \{"aws:owner":"x"\} is not valid: key "aws:owner" starts with "aws:", which AWS reserves/,
    ],
    ["bool as string", { ecr_force_delete: "true" }, /ecr_force_delete = "true" is not valid: use true or false/],
    [
      "flow-run size",
      { flow_run_cpu: 1024, flow_run_memory: 1024 },
      /flow_run_memory = 1024 does not fit flow_run_cpu = 1024 on Fargate; use 2048, 3072, 4096, 5120, 6144, 7168 or 8192/,
    ],
    [
      "image and tag together",
      { flow_run_image: "ghcr.io/a/b:1", flow_run_image_tag: "2" },
      /flow_run_image_tag only tags the stack's flows repository/,
    ],
    ["mount path without EFS", { flow_run_efs_mount_path: "/data" }, /flow_run_efs_mount_path is set but flow_run_efs is not true/],
    [
      "EFS over /tmp",
      { flow_run_efs: true, flow_run_efs_mount_path: "/tmp" },
      /flow_run_efs_mount_path = "\/tmp" is not valid: a mount there would hide or replace \/tmp/,
    ],
    [
      "relative mount path",
      { flow_run_efs: true, flow_run_efs_mount_path: "data" },
      /flow_run_efs_mount_path = "data" is not valid: an absolute container path/,
    ],
    [
      "policy ARN",
      { flow_run_policy_arns: ["AmazonS3ReadOnlyAccess"] },
      /flow_run_policy_arns = \["AmazonS3ReadOnlyAccess"\] is not valid: IAM policy ARNs/,
    ],
    ["queue twice", { work_queues: ["a", "a"] }, /work_queues = \["a","a"\] lists a queue twice/],
    ["queue name", { work_queues: ["bad queue"] }, /work_queues = \["bad queue"\] is not valid: queue names/],
    [
      "ECS Exec with an explicitly read-only root",
      { enable_ecs_exec: true, worker_read_only_root_filesystem: true },
      /enable_ecs_exec = true needs a writable root filesystem/,
    ],
  ];

  it.each(cases)("rejects %s", (_name, values, expected) => {
    expect(problemsFor(values).join("\n")).toMatch(expected);
  });

  it("GIVEN several bad keys WHEN parsed THEN every problem is reported at once, with the file name", () => {
    try {
      parseSettings({ worker_cpu: 300, nat_gateway_mode: "x" }, "environments/prod.tfvars");
      expect.unreachable();
    } catch (error) {
      expect((error as SettingsError).problems).toHaveLength(2);
      expect((error as Error).message).toMatch(/^environments\/prod.tfvars has 2 problems:/);
    }
  });
});

describe("Fargate sizes", () => {
  it.each([
    [256, 512],
    [512, 4096],
    [4096, 30720],
    [16384, 122880],
  ])("accepts cpu %i with memory %i", (cpu, memory) => {
    expect(fargateSizeError("cpu", cpu, "memory", memory)).toBeUndefined();
  });

  it("describes long memory ranges by their bounds and step", () => {
    expect(fargateSizeError("cpu", 4096, "memory", 4096)).toBe(
      "memory = 4096 does not fit cpu = 4096 on Fargate; use 8192 to 30720 in steps of 1024",
    );
  });
});
