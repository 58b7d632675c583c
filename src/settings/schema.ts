import { z } from "zod";
import { FARGATE_CPU_VALUES, listForHumans } from "../rules/fargate";
import { INSTANCE_TYPES_ALLOWED, instanceShape } from "../rules/ec2-instances";
import { DEFAULT_WORKER_IMAGE } from "../versions";
import {
  apiUrlError,
  awsReservedZoneError,
  cidrListError,
  imageReferenceError,
  MAX_MANAGED_POLICIES_PER_ROLE,
  MAX_SERVICE_SUBNETS,
  nameSeparatorError,
  reservedPoolNameError,
  s3BucketNameError,
  securityGroupPrefixError,
  tagsError,
} from "./service-rules";

/** CloudWatch Logs accepts only these retention periods (days). 0 (never expire) is left out on purpose. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export { DEFAULT_WORKER_IMAGE } from "../versions";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Terraform-side copy of UUID (RE2 syntax) for plan-time variable validation. */
export const UUID_RE2 = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const AZ = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]$/;
/** EC2 image ids: "ami-" and 8 (older) or 17 hex digits. */
const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]+)?$/;
/**
 * A whole secret, no JSON key: ECR's pull-through cache rule takes the secret's ARN as its credentialArn and
 * reads `username` and `accessToken` from the secret itself (ECR User Guide, "Storing your upstream repository
 * credentials in an AWS Secrets Manager secret"; the API's CredentialArn is a secret ARN).
 */
const WHOLE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

// Field-level errors say what is allowed; the formatter prefixes "<key> = <value> is not valid".
const str = (allowed: string, re?: RegExp) => {
  const base = z.string({ error: `expected a string: ${allowed}` });
  return re ? base.regex(re, { error: allowed }) : base.min(1, { error: allowed });
};
const int = (min: number, max: number, unit = "") =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}${unit}` })
    .int({ error: `expected a whole number from ${min} to ${max}${unit}` })
    .min(min, { error: `use a whole number from ${min} to ${max}${unit}` })
    .max(max, { error: `use a whole number from ${min} to ${max}${unit}` });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `use ${listForHumans(values.map((v) => `"${v}"`))}` });
const numberIn = (values: readonly number[], what: string) =>
  z
    .number({ error: `expected a number: ${what} ${listForHumans(values)}` })
    .refine((v) => values.includes(v), { error: `use ${what} ${listForHumans(values)}` });
const bool = () => z.boolean({ error: "use true or false (no quotes)" });
const list = (item: z.ZodString, allowed: string) => z.array(item, { error: `expected a list of strings: ${allowed}` });
/** Adds a service rule (see service-rules.ts) that returns its own sentence, or undefined when the value passes. */
const checked = <T extends z.ZodType>(schema: T, ...checks: ((value: z.output<T>) => string | undefined)[]) =>
  schema.superRefine((value, ctx) => {
    for (const check of checks) {
      const message = check(value);
      if (message) ctx.addIssue({ code: "custom", message });
    }
  });
/** A Prefect id starting with twelve zero digits is a placeholder (a random id does so once in 2^48). */
export const placeholderIdError = (id: string): string | undefined =>
  /^00000000-0000-/.test(id)
    ? "it is a placeholder, not an id; copy yours from the workspace URL https://app.prefect.cloud/account/<account id>/workspace/<workspace id>"
    : undefined;
/** A credential with a space or newline at either end (a heredoc, a copied line): Secrets Manager would keep it. */
export const edgeWhitespaceError = (value: string): string | undefined =>
  value !== value.trim() ? "it starts or ends with a space or a newline (a heredoc or a copied line?); remove it" : undefined;
/** The auth string's rule with the internet-facing listener, for the app (file) and Terraform (TF_VAR_) alike. */
export const PUBLIC_AUTH_STRING_RE2 = "^[^:]+:.{16,}$";
/**
 * The listener has no lockout and no rate limit (Prefect's server checks one basic-auth string; the ALB has no
 * WAF here), so the password itself must resist guessing: 16 characters or more after the user name and colon.
 */
export const publicAuthStringError = (auth: string): string | undefined =>
  new RegExp(PUBLIC_AUTH_STRING_RE2).test(auth)
    ? undefined
    : "it must be <user>:<password> with a password of at least 16 characters: nothing limits guesses against the listener (generate one, e.g. openssl rand -base64 24)";
/** Marks a credential: SECRET_KEYS is read from this mark, so no message shows the value and the app never writes it out. */
const secret = <T extends z.ZodType>(schema: T) => schema.meta({ secret: true });
const noRepeats = (what: string) => (values: string[]) =>
  new Set(values).size !== values.length ? `it lists a ${what} twice; list each once` : undefined;
const atMost = (max: number, why: string) => (values: string[]) => (values.length > max ? `it lists ${values.length}; ${why}` : undefined);

/**
 * Every key an operator may set in terraform.tfvars. Keys read by the app are applied at synth;
 * keys marked PLAN_TIME_KEYS are only checked here when present and otherwise reach Terraform as variables.
 */
export const settingsSchema = z
  .object({
    // --- Deployment identity
    project_name: checked(
      str("lower-case letters, digits and hyphens, 2-20 characters, starting with a letter", /^[a-z][a-z0-9-]{1,19}$/),
      nameSeparatorError,
      securityGroupPrefixError,
    ).default("prefect-ecs"),
    environment: checked(
      str("lower-case letters, digits and hyphens, 1-12 characters, starting with a letter", /^[a-z][a-z0-9-]{0,11}$/),
      nameSeparatorError,
      (env) => (env === "state" ? '"state" names the state bootstrap stack (<project_name>-state); choose another environment name' : undefined),
    ).default("dev"),
    aws_region: str('an AWS region code such as "us-east-1"', REGION).default("us-east-1"),
    tags: checked(
      z.record(z.string(), z.string({ error: 'tag values are strings, in quotes (e.g. { Team = "data" })' }), {
        error: 'expected a map of strings, e.g. { Team = "data" }',
      }),
      tagsError,
    ).default({}),

    // --- Network
    availability_zones: list(z.string().regex(AZ, { error: 'AZ names such as "us-east-1a"' }), 'AZ names such as "us-east-1a"').optional(),
    az_count: int(2, 6, " (AZs)").default(2),
    vpc_cidr: z.string({ error: 'expected a string such as "10.0.0.0/16"' }).default("10.0.0.0/16"),
    // How private tasks reach the internet (a new VPC only); see README "Internet egress" for the trade-offs.
    internet_egress: oneOf(["nat_gateway", "nat_instance", "public_subnets"] as const).default("nat_gateway"),
    nat_gateway_mode: oneOf(["single", "per_az"] as const).default("single"),
    // The NAT instance's image is arm64 (Amazon Linux 2023), so only Graviton types boot it.
    // Graviton families and sizes EC2 offers (the NAT image is arm64): t4g, and the m/c/r 6g-8g families.
    nat_instance_type: str(
      'an ARM (Graviton) EC2 instance type: t4g.nano to t4g.2xlarge, or m/c/r 6g, 6gd, 6gn, 7g, 7gd, 7gn, 8g from medium to 16xlarge (e.g. "t4g.nano", "c7gn.medium")',
      /^(t4g\.(nano|micro|small|medium|large|xlarge|2xlarge)|[mcr](6g|6gd|7g|7gd|8g)\.(medium|large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge)|c(6gn|7gn)\.(medium|large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge))$/,
    ).default("t4g.nano"),
    nat_instance_ami_id: str('an AMI id such as "ami-0123456789abcdef0" (Amazon Linux 2023, arm64)', AMI_ID).optional(),
    vpc_interface_endpoints: bool().default(false),
    existing_vpc_id: str('a VPC id such as "vpc-0123456789abcdef0"', /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/).optional(),
    existing_private_subnet_ids: checked(
      list(
        z.string().regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, { error: 'subnet ids such as "subnet-0123456789abcdef0"' }),
        'subnet ids such as "subnet-0123456789abcdef0"',
      ),
      noRepeats("subnet"),
      atMost(MAX_SERVICE_SUBNETS, `an ECS service's network configuration takes at most ${MAX_SERVICE_SUBNETS} subnets`),
    ).optional(),

    // --- Prefect
    prefect_account_id: checked(str("a Prefect Cloud account id (UUID)", UUID), placeholderIdError).optional(),
    prefect_workspace_id: checked(str("a Prefect Cloud workspace id (UUID)", UUID), placeholderIdError).optional(),
    prefect_api_url: checked(str('an http(s) URL ending in /api, e.g. "https://prefect.example.com/api"'), apiUrlError).optional(),
    prefect_api_allow_plain_http: bool().default(false),
    // A heredoc or a copied line brings a newline: refused, not trimmed, since Terraform reads the same raw value.
    prefect_api_key: secret(checked(str("a non-empty Prefect API key"), edgeWhitespaceError).optional()),
    prefect_api_key_version: int(1, 1_000_000).default(1),
    prefect_api_auth_string: secret(checked(str('a non-empty auth string such as "admin:pass"'), edgeWhitespaceError).optional()),
    self_hosted_auth: oneOf(["none", "auth_string"] as const).default("none"),
    existing_api_key_secret_arn: str(
      "a full Secrets Manager secret ARN (ending in the 6-character suffix), optionally followed by :<json-key>",
      SECRET_ARN,
    ).optional(),
    existing_api_key_secret_kms_key_arn: str(
      'a KMS key ARN such as "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    ).optional(),
    secret_recovery_window_days: z
      .number({ error: "expected 0 (delete at once) or a whole number from 7 to 30" })
      .refine((v) => v === 0 || (Number.isInteger(v) && v >= 7 && v <= 30), { error: "use 0 (delete at once) or a whole number from 7 to 30" })
      .default(7),
    work_pool_name: checked(
      // No '.': the worker names task definition families prefect_<pool>_<deployment id>, and ECS families allow only [A-Za-z0-9_-].
      str(
        "letters, digits, '-' and '_', 1-63 characters, starting with a letter or digit (the pool name becomes part of ECS task definition family names)",
        /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
      ),
      reservedPoolNameError,
    ).optional(),

    // --- Work pool and flow runs
    manage_work_pool: bool().default(true),
    work_queues: list(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: "queue names: letters, digits, '-', '_' and '.', 1-63 characters" }),
      'queue names such as "default"',
    ).default([]),
    flow_run_cpu: numberIn(FARGATE_CPU_VALUES, "a Fargate CPU size:").default(1024),
    flow_run_memory: int(512, 122880, " MiB").default(2048),
    flow_run_image: checked(
      str('an image reference such as "123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:1.0"'),
      imageReferenceError,
    ).optional(),
    // No default: the flows repository is IMMUTABLE by default, so a fixed tag such as "latest" could be pushed only
    // once. Unset, the pool defaults to the pinned Prefect image and each deployment names its commit-tagged image.
    flow_run_image_tag: str("an image tag: letters, digits, '_', '.', '-'; up to 128 characters", /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).optional(),
    flow_run_cpu_architecture: oneOf(["X86_64", "ARM64"] as const).default("X86_64"),
    flow_run_spot: bool().default(false),
    // Unset: "fargate_spot" with flow_run_spot = true, else "fargate". "ec2": warm instances (the keys below).
    flow_run_capacity: oneOf(["fargate", "fargate_spot", "ec2"] as const).optional(),
    flow_run_instance_type: checked(str(`an EC2 instance type: ${INSTANCE_TYPES_ALLOWED}`), (type) =>
      instanceShape(type) ? undefined : `use an EC2 instance type: ${INSTANCE_TYPES_ALLOWED}`,
    ).optional(),
    flow_run_instances_min: int(0, 100, " instances").default(1),
    flow_run_instances_max: int(1, 100, " instances").default(4),
    flow_run_target_capacity: int(1, 100, " %").default(100),
    flow_run_warm_pool_size: int(0, 100, " instances").default(0),
    flow_run_instance_volume_gb: int(30, 16384, " GiB").default(30),
    flow_run_ami_id: str('an AMI id such as "ami-0123456789abcdef0" (ECS-optimized Amazon Linux 2023)', AMI_ID).optional(),
    flow_run_policy_arns: checked(
      list(
        z.string().regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[A-Za-z0-9+=,.@_/-]+$/, {
          error: 'IAM policy ARNs such as "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"',
        }),
        "IAM policy ARNs",
      ),
      noRepeats("policy"),
      atMost(
        MAX_MANAGED_POLICIES_PER_ROLE,
        `IAM attaches at most ${MAX_MANAGED_POLICIES_PER_ROLE} managed policies to a role by default; combine them into one customer-managed policy`,
      ),
    ).default([]),
    flow_run_efs: bool().default(false),
    flow_run_efs_mount_path: str('an absolute container path such as "/mnt/efs"', /^\/[A-Za-z0-9_./-]*$/).default("/mnt/efs"),

    // --- Worker
    worker_image: checked(str('an image reference such as "prefecthq/prefect-aws:0.7.11-python3.12-prefect3.8.3"'), imageReferenceError).default(
      DEFAULT_WORKER_IMAGE,
    ),
    worker_cpu: numberIn(FARGATE_CPU_VALUES, "a Fargate CPU size:").default(512),
    worker_memory: int(512, 122880, " MiB").default(1024),
    worker_cpu_architecture: oneOf(["X86_64", "ARM64"] as const).default("X86_64"),
    worker_desired_count: int(0, 10, " tasks").default(1),
    worker_capacity: oneOf(["fargate", "fargate_spot"] as const).default("fargate"),
    worker_min_count: int(0, 10, " tasks").optional(),
    worker_max_count: int(1, 20, " tasks").optional(),
    worker_cpu_target: int(10, 95, " %").default(70),
    worker_memory_target: int(10, 95, " %").default(80),
    ecs_event_observer: bool().default(true),
    worker_read_only_root_filesystem: bool().default(true),
    enable_ecs_exec: bool().default(false),
    log_retention_days: numberIn(LOG_RETENTION_DAYS, "one of CloudWatch's retention periods:").default(30),

    // --- Registry and cluster
    ecr_image_tag_mutability: oneOf(["IMMUTABLE", "MUTABLE"] as const).default("IMMUTABLE"),
    ecr_keep_image_count: int(1, 1000, " images").default(30),
    ecr_untagged_expire_days: int(1, 365, " days").default(7),
    flow_image_keep_count: int(1, 1000, " images").default(30),
    ecr_force_delete: bool().default(false),
    ecr_pull_through_cache: oneOf(["none", "docker_hub", "ecr_public"] as const).default("none"),
    docker_hub_credential_secret_arn: str(
      "a full Secrets Manager secret ARN (ending in the 6-character suffix, no :<json-key>) whose name starts with ecr-pullthroughcache/ (ECR requires it)",
      WHOLE_SECRET_ARN,
    ).optional(),
    // Unset: on exactly when alarms are (the alarms read its task-count metric); billed per metric otherwise unused.
    container_insights: bool().optional(),

    // --- In-stack Prefect server (opt-in): server on Fargate, RDS PostgreSQL, Cloud Map name; see README "Self-hosted server"
    prefect_server: bool().default(false),
    prefect_server_cpu: numberIn(FARGATE_CPU_VALUES, "a Fargate CPU size:").default(512),
    prefect_server_memory: int(512, 122880, " MiB").default(2048),
    prefect_server_cpu_architecture: oneOf(["X86_64", "ARM64"] as const).default("X86_64"),
    // ECS Exec on the server task is how operators port-forward to the UI (IAM still decides who may).
    prefect_server_ecs_exec: bool().default(true),
    // Burstable and Graviton general-purpose classes RDS for PostgreSQL offers (db.t4g.micro is the smallest).
    // Opt-in internet-facing HTTPS listener (an ALB) for the UI and API; needs self_hosted_auth = "auth_string".
    prefect_server_public_certificate_arn: str(
      'an ACM certificate ARN such as "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"',
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    ).optional(),
    prefect_server_public_cidrs: checked(
      list(
        z.string().regex(/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/([0-9]|[12]\d|3[0-2])$/, {
          error: 'IPv4 CIDR blocks such as "203.0.113.0/24"',
        }),
        'IPv4 CIDR blocks such as "203.0.113.0/24"',
      ),
      noRepeats("CIDR block"),
      (cidrs) => (cidrs.length === 0 ? "it lists none; list at least one, or leave it unset" : undefined),
      // A security group takes 60 inbound rules by default.
      atMost(50, "a security group takes at most 60 inbound rules by default; use a wider block or a prefix list"),
      cidrListError,
    ).optional(),
    prefect_server_db_instance_class: str(
      'an RDS instance class for PostgreSQL: db.t4g or db.t3 from micro to 2xlarge, or db.m/r 6g, 7g, 6i, 7i from large to 16xlarge (e.g. "db.t4g.micro")',
      /^(db\.(t4g|t3)\.(micro|small|medium|large|xlarge|2xlarge)|db\.[mr](6g|7g|6i|7i)\.(large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge))$/,
    ).default("db.t4g.micro"),
    // Prefect needs PostgreSQL 14.9+; RDS's gp3 for PostgreSQL takes 20-65536 GiB.
    prefect_server_db_engine_version: oneOf(["15", "16", "17"] as const).default("16"),
    prefect_server_db_storage_gb: int(20, 65536, " GiB").default(20),
    prefect_server_db_max_storage_gb: int(20, 65536, " GiB").default(100),
    prefect_server_db_backup_retention_days: int(0, 35, " days (0 turns automated backups off)").default(7),
    prefect_server_db_deletion_protection: bool().default(true),
    prefect_server_db_final_snapshot: bool().default(true),
    // A manual snapshot id, an automated one ("rds:" prefix), or an ARN (region and partition checked against aws_region).
    prefect_server_db_restore_snapshot: str(
      'an RDS DB snapshot identifier: letters, digits and single hyphens, starting with a letter and not ending with a hyphen (e.g. "prefect-ecs-dev-prefect-final", or "rds:prefect-ecs-dev-prefect-2026-11-23-05-10" for an automated one), or a snapshot ARN',
      // RDS DBSnapshotIdentifier: 1-255 letters, digits and hyphens, starting with a letter, no two hyphens in a row, no hyphen at the end.
      /^((rds:)?(?=[a-zA-Z0-9-]{1,255}$)[a-zA-Z](-?[a-zA-Z0-9])*|arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:(rds:)?(?=[a-zA-Z0-9-]{1,255}$)[a-zA-Z](-?[a-zA-Z0-9])*)$/,
    ).optional(),
    // RDS: 8-128 printable ASCII characters except /, ', ", @ and space.
    prefect_server_db_password: secret(
      str("8-128 printable ASCII characters except /, ', \", @ and space", /^[\x21-\x7e]{8,128}$/)
        .refine((v) => !/[/'"@]/.test(v), { error: "8-128 printable ASCII characters except /, ', \", @ and space" })
        .optional(),
    ),
    prefect_server_db_password_version: int(1, 1_000_000).default(1),

    // --- Alarms and budget (opt-in: an email address and/or an existing SNS topic)
    // A conservative address form: no quotes, %, {, }, commas or spaces (Terraform template syntax, SNS's refusals).
    alarm_email: checked(
      str(
        'an email address such as "ops@example.com": letters, digits and . _ + - before the @, a DNS name after it',
        /^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/,
      ),
      (email) => (email.length > 254 ? `it is ${email.length} characters; an email address has at most 254` : undefined),
    ).optional(),
    // CloudWatch alarms and EventBridge notify standard topics only, in the stack's own region (checked against aws_region).
    alarm_sns_topic_arn: str(
      'a standard SNS topic ARN such as "arn:aws:sns:us-east-1:123456789012:ops-alerts" (FIFO topics cannot receive alarms)',
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
    ).optional(),
    alarm_worker_down_minutes: int(1, 60, " minutes").default(5),
    alarm_queue_age_minutes: int(5, 1440, " minutes").default(15),
    monthly_budget_usd: z
      .number({ error: "expected a number of US dollars, such as 50" })
      .min(1, { error: "use at least 1 US dollar, such as 50" })
      .max(1_000_000, { error: "use at most 1000000 US dollars" })
      .optional(),
    service_discovery_namespace: checked(
      str('a private DNS name such as "prefect.internal"', /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/),
      awsReservedZoneError,
    ).optional(),

    // --- State
    state_bucket: checked(str("an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'"), s3BucketNameError).optional(),
    state_lock_table: str("a DynamoDB table name: 3-255 letters, digits, '_', '-' and '.'", /^[A-Za-z0-9_.-]{3,255}$/).optional(),
    state_region: str('an AWS region code such as "us-east-1"', REGION).optional(),
    state_locking: oneOf(["dynamodb", "s3_lockfile"] as const).default("dynamodb"),
  })
  .strict();

export type SettingsInput = z.input<typeof settingsSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;
export type SettingKey = keyof ParsedSettings;

/** Values Terraform receives at plan time (TF_VAR_* or terraform.tfvars); the app never writes them out. */
export const PLAN_TIME_KEYS = [
  "prefect_account_id",
  "prefect_workspace_id",
  "prefect_api_key",
  "prefect_api_auth_string",
  "prefect_server_db_password",
] as const;

export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

/** Settings whose values are credentials (marked secret() above): no message ever shows them, whatever their type. */
export const SECRET_KEYS: readonly SettingKey[] = SETTING_KEYS.filter((key) => settingsSchema.shape[key].meta()?.secret === true);
