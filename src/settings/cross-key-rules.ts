import { vpcCidrError } from "../rules/cidr";
import { fargateSizeError } from "../rules/fargate";
import { defaultFlowRunInstanceType, instanceShape, placementError } from "../rules/ec2-instances";
import { DEFAULT_WORKER_IMAGE, PREFECT_IMAGE, PREFECT_VERSION } from "../versions";
import type { Settings } from "./index";
import { type ParsedSettings, publicAuthStringError, type SettingKey, SETTING_KEYS } from "./schema";
import { apiUrlError, isPrivateHost, mountPathError, redactUrl, reservedCidrError, reservedPoolNameError } from "./service-rules";

/**
 * The rules across settings keys, as a table: each entry reads the resolved settings and what the user wrote,
 * and returns the sentence to show or undefined. Rules of one key are in schema.ts and service-rules.ts.
 */

/** A value as messages show it. */
export const show = (value: unknown): string =>
  value === undefined ? "(missing)" : typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);

/**
 * Where a value came from when it is not the file a message names: a key of the shared terraform.tfvars under an
 * environment's file, or the environment taken from the file's name. Messages say so beside the value.
 */
export type Origins = Readonly<Partial<Record<string, string>>>;
export const ORIGINS = Symbol("origins");

/** Values as the user wrote them (typed, before defaults): a rule blames only keys present here. */
export type UserValues = Readonly<Partial<ParsedSettings>> & { readonly [ORIGINS]?: Origins };

/**
 * A cross-key rule: given the resolved settings and what the user wrote, returns its sentence or undefined.
 * Rules see resolved values, so none has to re-derive a default, and none can print `undefined`.
 */
type Rule = (s: Settings, user: UserValues) => string | undefined;

/** Keys whose default is another key's value (resolve() below). */
const FOLLOWS: Partial<Record<SettingKey, SettingKey>> = { worker_min_count: "worker_desired_count", worker_max_count: "worker_min_count" };

/**
 * `key = value` for a key the user set (with where it came from, when that is not the file named); for a default,
 * `key (not set, so value)`, or `key (not set, so other_key's value)` when it follows a key the user set.
 */
function describe(s: Settings, user: UserValues, key: SettingKey): string {
  if (user[key] !== undefined) {
    const origin = user[ORIGINS]?.[key];
    return `${key} = ${show(s[key])}${origin ? ` (${origin})` : ""}`;
  }
  let root: SettingKey | undefined = FOLLOWS[key];
  while (root !== undefined && user[root] === undefined) root = FOLLOWS[root];
  return root === undefined ? `${key} (not set, so ${show(s[key])})` : `${key} (not set, so ${root}'s ${show(s[key])})`;
}

const NEW_VPC_KEYS: SettingKey[] = [
  "vpc_cidr",
  "internet_egress",
  "nat_gateway_mode",
  "nat_instance_type",
  "nat_instance_ami_id",
  "availability_zones",
  "az_count",
  "vpc_interface_endpoints",
];
/** Keys that belong to one internet_egress mode. */
const EGRESS_MODE_KEYS: Partial<Record<SettingKey, Settings["internet_egress"]>> = {
  nat_gateway_mode: "nat_gateway",
  nat_instance_type: "nat_instance",
  nat_instance_ami_id: "nat_instance",
};
/** Keys of the flow runs' EC2 capacity (flow_run_capacity = "ec2"). */
const EC2_CAPACITY_KEYS: SettingKey[] = [
  "flow_run_instance_type",
  "flow_run_instances_min",
  "flow_run_instances_max",
  "flow_run_target_capacity",
  "flow_run_warm_pool_size",
  "flow_run_instance_volume_gb",
  "flow_run_ami_id",
];
const CLOUD_KEYS = ["prefect_account_id", "prefect_workspace_id", "prefect_api_key", "existing_api_key_secret_arn"] as const;
/** Keys of the in-stack server (prefect_server = true). */
const SERVER_KEYS = SETTING_KEYS.filter((key) => key.startsWith("prefect_server_"));
/** The Prefect version an image reference names, when its tag says (prefecthq/prefect-aws:…-prefect3.8.3, prefecthq/prefect:3.8.3-python3.12). */
export function prefectVersionOfImage(reference: string): string | undefined {
  // A digest pins the content, not a version: the version is read from the tag before it.
  const image = reference.replace(/@sha256:[0-9a-f]+$/, "");
  const tag = image.slice(image.lastIndexOf(":") + 1);
  if (image.lastIndexOf(":") <= image.lastIndexOf("/")) return undefined;
  return /-prefect(\d+\.\d+\.\d+)$/.exec(tag)?.[1] ?? (/(^|\/)prefect:[^:]*$/.test(image) ? /^(\d+\.\d+\.\d+)-python/.exec(tag)?.[1] : undefined);
}
const regionOf = (arn: string) => arn.split(":")[3];

/** Rules that involve more than one key. Adding a rule is one entry. */
export const RULES: readonly Rule[] = [
  (s) =>
    s.existing_vpc_id !== undefined && !s.existing_private_subnet_ids?.length
      ? `existing_vpc_id = "${s.existing_vpc_id}" needs existing_private_subnet_ids: the private subnets (with a NAT route) the worker runs in`
      : undefined,
  (s) =>
    s.existing_vpc_id === undefined && s.existing_private_subnet_ids !== undefined
      ? "existing_private_subnet_ids is set but existing_vpc_id is not; set both to use an existing VPC, or neither to create one"
      : undefined,
  (s, user) => {
    const extra = NEW_VPC_KEYS.filter((key) => user[key] !== undefined);
    return s.existing_vpc_id !== undefined && extra.length
      ? `${extra.join(", ")} only ${extra.length === 1 ? "applies" : "apply"} to a new VPC, but existing_vpc_id = "${s.existing_vpc_id}" is set; remove one of them`
      : undefined;
  },
  (s, user) => {
    if (s.existing_vpc_id !== undefined) return undefined;
    const other = (Object.keys(EGRESS_MODE_KEYS) as SettingKey[]).filter(
      (key) => user[key] !== undefined && EGRESS_MODE_KEYS[key] !== s.internet_egress,
    );
    return other.length
      ? other
          .map(
            (key) =>
              `${key} only applies with internet_egress = "${EGRESS_MODE_KEYS[key]}", but ${describe(s, user, "internet_egress")}; remove ${key}`,
          )
          .join("\n  - ")
      : undefined;
  },
  // Interface endpoints keep AWS calls off a NAT; tasks with public IPs reach AWS directly, so they would only add cost.
  (s, user) =>
    s.existing_vpc_id === undefined && s.internet_egress === "public_subnets" && s.vpc_interface_endpoints
      ? `vpc_interface_endpoints = true with ${describe(s, user, "internet_egress")}: tasks with public IPs reach AWS services directly, so the endpoints would add about $7.30 per endpoint per AZ-month and remove no exposure; remove vpc_interface_endpoints or choose "nat_gateway" or "nat_instance"`
      : undefined,
  (s) =>
    s.availability_zones !== undefined && (s.availability_zones.length < 2 || s.availability_zones.length > 6)
      ? `availability_zones = ${show(s.availability_zones)} lists ${s.availability_zones.length} AZs; list 2 to 6`
      : undefined,
  (s) =>
    s.availability_zones !== undefined && new Set(s.availability_zones).size !== s.availability_zones.length
      ? `availability_zones = ${show(s.availability_zones)} lists an AZ twice; list each AZ once`
      : undefined,
  (s, user) =>
    s.availability_zones?.some((az) => !az.startsWith(s.aws_region))
      ? `availability_zones = ${show(s.availability_zones)} must all be in ${describe(s, user, "aws_region")} (e.g. "${s.aws_region}a")`
      : undefined,
  (s, user) =>
    s.availability_zones !== undefined && user.az_count !== undefined && user.az_count !== s.availability_zones.length
      ? `az_count = ${user.az_count} disagrees with availability_zones, which lists ${s.availability_zones.length}; set only one of them`
      : undefined,
  (s) => (s.existing_vpc_id === undefined ? vpcCidrError("vpc_cidr", s.vpc_cidr) : undefined),
  (s) => {
    const problem = s.existing_vpc_id === undefined && vpcCidrError("vpc_cidr", s.vpc_cidr) === undefined ? reservedCidrError(s.vpc_cidr) : undefined;
    return problem && `vpc_cidr = "${s.vpc_cidr}" is not valid: ${problem}`;
  },
  ...(
    [
      ["worker_cpu", "worker_memory"],
      ["flow_run_cpu", "flow_run_memory"],
      ["prefect_server_cpu", "prefect_server_memory"],
    ] as const
  ).map(
    ([cpu, memory]): Rule =>
      (s, user) =>
        (cpu === "prefect_server_cpu" && !s.prefect_server) || (cpu === "flow_run_cpu" && s.flow_run_capacity === "ec2")
          ? undefined
          : fargateSizeError(cpu, s[cpu], memory, s[memory], { cpu: user[cpu] !== undefined, memory: user[memory] !== undefined }),
  ),
  // --- Flow runs on EC2 capacity
  (s, user) => {
    const set = EC2_CAPACITY_KEYS.filter((key) => user[key] !== undefined);
    return set.length && s.flow_run_capacity !== "ec2"
      ? `${set.join(", ")} only ${set.length === 1 ? "applies" : "apply"} to flow runs on EC2 instances, but ${describe(s, user, "flow_run_capacity")}; set flow_run_capacity = "ec2" or remove ${set.length === 1 ? "it" : "them"}`
      : undefined;
  },
  (s, user) =>
    s.flow_run_spot && user.flow_run_capacity !== undefined && s.flow_run_capacity !== "fargate_spot"
      ? `flow_run_spot = true asks for Fargate Spot, but flow_run_capacity = "${s.flow_run_capacity}"; remove flow_run_spot (flow_run_capacity says where flow runs run)`
      : undefined,
  // ECS gives a task a public IP on Fargate only (RunTask's awsvpcConfiguration.assignPublicIp: "ENABLED is supported
  // only for Fargate"), so tasks on instances need private subnets with a NAT.
  (s, user) =>
    s.flow_run_capacity === "ec2" && s.existing_vpc_id === undefined && s.internet_egress === "public_subnets"
      ? `flow_run_capacity = "ec2" runs flow runs in private subnets (ECS gives a task a public IP on Fargate only), but ${describe(s, user, "internet_egress")} creates none; use internet_egress = "nat_instance" or "nat_gateway"`
      : undefined,
  (s, user) => {
    const shape = s.flow_run_capacity === "ec2" ? instanceShape(s.flow_run_instance_type) : undefined;
    return shape && shape.architecture !== s.flow_run_cpu_architecture
      ? `${describe(s, user, "flow_run_instance_type")} is an ${shape.architecture} type, but ${describe(s, user, "flow_run_cpu_architecture")}; pick a type of that architecture (${defaultFlowRunInstanceType(s.flow_run_cpu_architecture)}, for example)`
      : undefined;
  },
  (s, user) =>
    s.flow_run_capacity === "ec2" && s.flow_run_instances_min > s.flow_run_instances_max
      ? `${describe(s, user, "flow_run_instances_min")} is above ${describe(s, user, "flow_run_instances_max")}; the minimum cannot exceed the maximum`
      : undefined,
  (s, user) =>
    s.flow_run_capacity === "ec2" && s.flow_run_warm_pool_size > s.flow_run_instances_max
      ? `${describe(s, user, "flow_run_warm_pool_size")} is above ${describe(s, user, "flow_run_instances_max")}; the warm pool holds instances the group may start, so at most that many`
      : undefined,
  (s, user) => {
    const problem = s.flow_run_capacity === "ec2" ? placementError(s.flow_run_instance_type, s.flow_run_cpu, s.flow_run_memory) : undefined;
    return problem
      ? `${describe(s, user, "flow_run_cpu")} and ${describe(s, user, "flow_run_memory")} do not fit: ${problem}, so ECS could never place it; lower them or pick a larger flow_run_instance_type`
      : undefined;
  },
  (s) => {
    const cloud = CLOUD_KEYS.filter((key) => s[key] !== undefined);
    return s.prefect_api_url !== undefined && cloud.length
      ? `${cloud.join(", ")} ${cloud.length === 1 ? "is a Prefect Cloud setting" : "are Prefect Cloud settings"}, but prefect_api_url = "${s.prefect_api_url}" selects a self-hosted server; remove one of them`
      : undefined;
  },
  (s) =>
    s.prefect_api_url === undefined && !s.prefect_server && s.self_hosted_auth !== "none"
      ? `self_hosted_auth = "${s.self_hosted_auth}" needs prefect_api_url (a self-hosted server) or the in-stack server (set prefect_server = true); Prefect Cloud uses prefect_api_key`
      : undefined,
  // --- The in-stack server
  (s) =>
    s.prefect_server && s.prefect_api_url !== undefined
      ? `prefect_server = true runs a Prefect server in this stack, but prefect_api_url = "${redactUrl(s.prefect_api_url)}" points the worker at another one; remove one of them`
      : undefined,
  (s) => {
    const cloud = CLOUD_KEYS.filter((key) => s[key] !== undefined);
    return s.prefect_server && cloud.length
      ? `${cloud.join(", ")} ${cloud.length === 1 ? "is a Prefect Cloud setting" : "are Prefect Cloud settings"}, but prefect_server = true runs the worker against a server in this stack; remove one of them`
      : undefined;
  },
  (s, user) => {
    const set = SERVER_KEYS.filter((key) => user[key] !== undefined);
    return set.length && !s.prefect_server
      ? `${set.join(", ")} only ${set.length === 1 ? "applies" : "apply"} to the in-stack Prefect server, which is off; set prefect_server = true or remove ${set.length === 1 ? "it" : "them"}`
      : undefined;
  },
  // The database belongs in private subnets; public_subnets egress has none.
  (s, user) =>
    s.prefect_server && s.existing_vpc_id === undefined && s.internet_egress === "public_subnets"
      ? `prefect_server = true puts its database in private subnets, but ${describe(s, user, "internet_egress")} creates none; use internet_egress = "nat_instance" (the cheapest mode with private subnets) or "nat_gateway"`
      : undefined,
  (s) =>
    s.prefect_server && s.existing_private_subnet_ids !== undefined && s.existing_private_subnet_ids.length < 2
      ? `prefect_server = true needs at least two existing_private_subnet_ids in different AZs (an RDS DB subnet group spans two AZs); existing_private_subnet_ids lists ${s.existing_private_subnet_ids.length}`
      : undefined,
  // The internet-facing listener: never without the server's basic auth, only in a VPC whose public subnets the stack knows.
  (s, user) =>
    s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.self_hosted_auth !== "auth_string"
      ? `prefect_server_public_certificate_arn opens the server to the internet, which needs ${describe(s, user, "self_hosted_auth")} to be "auth_string" (the server then requires PREFECT_SERVER_API_AUTH_STRING); set self_hosted_auth = "auth_string" and prefect_api_auth_string`
      : undefined,
  // The open listener is opted into twice: who may reach it is said, not defaulted to everyone.
  (s) =>
    s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.prefect_server_public_cidrs === undefined
      ? 'prefect_server_public_certificate_arn opens the server to the internet; say who may reach it with prefect_server_public_cidrs (your offices, a VPN), or ["0.0.0.0/0"] to open it to everyone on purpose'
      : undefined,
  (s) => {
    const weak = s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.prefect_api_auth_string !== undefined;
    const problem = weak ? publicAuthStringError(s.prefect_api_auth_string!) : undefined;
    return problem ? `prefect_api_auth_string (hidden) is not valid with the internet-facing listener: ${problem}` : undefined;
  },
  (s) =>
    s.prefect_server_public_cidrs !== undefined && s.prefect_server_public_certificate_arn === undefined
      ? "prefect_server_public_cidrs only applies to the internet-facing listener; set prefect_server_public_certificate_arn too, or remove it"
      : undefined,
  (s) =>
    s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.existing_vpc_id !== undefined
      ? `prefect_server_public_certificate_arn needs public subnets for its load balancer, and existing_vpc_id = "${s.existing_vpc_id}" names only private ones; use the port forward (README, Self-hosted server) or a new VPC`
      : undefined,
  (s, user) =>
    s.prefect_server_public_certificate_arn !== undefined && regionOf(s.prefect_server_public_certificate_arn) !== s.aws_region
      ? `prefect_server_public_certificate_arn is in ${regionOf(s.prefect_server_public_certificate_arn)}, but ${describe(s, user, "aws_region")}: a load balancer uses certificates from its own region; request or import it there`
      : undefined,
  // Client and server must run one Prefect version: the worker and flow-run images are checked where their tags say.
  ...(["worker_image", "flow_run_image"] as const).map((key): Rule => (s, user) => {
    const image = s[key];
    if (!s.prefect_server || image === undefined) return undefined;
    const version = prefectVersionOfImage(image);
    if (version !== undefined && version !== PREFECT_VERSION)
      return `${describe(s, user, key)} runs Prefect ${version}, but the in-stack server runs Prefect ${PREFECT_VERSION}; client and server must run the same version (worker websockets fail across versions): use an image tagged for Prefect ${PREFECT_VERSION} or leave ${key} unset`;
    // Prefect's own images with a floating tag (latest, 3-latest, 0.7.11-python3.12) may move to another version.
    return version === undefined && /^(docker\.io\/)?prefecthq\/prefect(-aws)?:/.test(image)
      ? `${describe(s, user, key)} is a floating tag of Prefect's image: it can move to another Prefect version than the in-stack server's ${PREFECT_VERSION}; pin a tag naming the version (e.g. "${key === "worker_image" ? DEFAULT_WORKER_IMAGE : PREFECT_IMAGE}")`
      : undefined;
  }),
  (s, user) =>
    s.prefect_server && s.prefect_server_db_max_storage_gb < s.prefect_server_db_storage_gb
      ? `${describe(s, user, "prefect_server_db_max_storage_gb")} is below ${describe(s, user, "prefect_server_db_storage_gb")}; storage autoscaling grows the volume up to the maximum, so set it at least as large (equal turns autoscaling off)`
      : undefined,
  // Amazon RDS User Guide, "Managing capacity automatically with Amazon RDS storage autoscaling": the maximum
  // storage threshold must be at least 10 % more than the allocated storage.
  (s, user) =>
    s.prefect_server &&
    s.prefect_server_db_max_storage_gb > s.prefect_server_db_storage_gb &&
    s.prefect_server_db_max_storage_gb * 10 < s.prefect_server_db_storage_gb * 11
      ? `${describe(s, user, "prefect_server_db_max_storage_gb")} is less than 10 % above ${describe(s, user, "prefect_server_db_storage_gb")}, which RDS refuses for storage autoscaling; use ${Math.ceil((s.prefect_server_db_storage_gb * 11) / 10)} or more, or ${s.prefect_server_db_storage_gb} to turn autoscaling off`
      : undefined,
  (s, user) =>
    s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.name_prefix.startsWith("internal-")
      ? `${describe(s, user, "project_name")} starts the public load balancer's name with "internal-", which AWS refuses for load balancer names; choose another project_name or drop prefect_server_public_certificate_arn`
      : undefined,
  (s, user) => {
    const arn = s.prefect_server_db_restore_snapshot?.startsWith("arn:") ? s.prefect_server_db_restore_snapshot : undefined;
    return arn !== undefined && regionOf(arn) !== s.aws_region
      ? `prefect_server_db_restore_snapshot is in ${regionOf(arn)}, but ${describe(s, user, "aws_region")}: RDS restores only from snapshots in its own region; copy the snapshot there first (aws rds copy-db-snapshot)`
      : undefined;
  },
  (s) =>
    s.prefect_api_auth_string !== undefined && s.self_hosted_auth !== "auth_string"
      ? 'prefect_api_auth_string is set but self_hosted_auth is not "auth_string"; set self_hosted_auth = "auth_string" to store it'
      : undefined,
  (s) => {
    const url = s.prefect_api_url === undefined || apiUrlError(s.prefect_api_url) ? undefined : new URL(s.prefect_api_url);
    return url?.protocol === "http:" && !isPrivateHost(url.hostname) && !s.prefect_api_allow_plain_http
      ? `prefect_api_url = "${s.prefect_api_url}" sends the API key or auth string over plain HTTP to a host that is not private (${url.hostname}); ` +
          "use https://, a private address or name (10.x, 172.16-31.x, 192.168.x, a single-label or .internal/.local name), or set prefect_api_allow_plain_http = true to accept the risk"
      : undefined;
  },
  (s, user) =>
    user.prefect_api_allow_plain_http === true && s.prefect_api_url === undefined
      ? "prefect_api_allow_plain_http only applies to a self-hosted prefect_api_url; Prefect Cloud is always HTTPS"
      : undefined,
  (s, user) => {
    const partition = s.aws_region.startsWith("cn-") ? "aws-cn" : s.aws_region.includes("-gov-") ? "aws-us-gov" : "aws";
    const arns = (
      [
        "existing_api_key_secret_arn",
        "existing_api_key_secret_kms_key_arn",
        "flow_run_policy_arns",
        "alarm_sns_topic_arn",
        "prefect_server_public_certificate_arn",
      ] as const
    ).flatMap((key) => [s[key] ?? []].flat().map((arn) => ({ key, arn })));
    const foreign = arns.filter(({ arn }) => arn.startsWith("arn:") && arn.split(":")[1] !== partition);
    return foreign.length
      ? `${[...new Set(foreign.map((f) => f.key))].join(", ")} name${foreign.length === 1 ? "s an ARN" : " ARNs"} outside the partition "${partition}" of ${describe(s, user, "aws_region")}: ${foreign.map((f) => f.arn.split(":").slice(0, 2).join(":")).join(", ")}`
      : undefined;
  },
  (s) =>
    s.existing_api_key_secret_kms_key_arn !== undefined && s.existing_api_key_secret_arn === undefined
      ? "existing_api_key_secret_kms_key_arn is the key of your own secret; it needs existing_api_key_secret_arn"
      : undefined,
  (s) => {
    const [secret, key] = [s.existing_api_key_secret_arn, s.existing_api_key_secret_kms_key_arn];
    return secret !== undefined && key !== undefined && regionOf(secret) !== regionOf(key)
      ? `existing_api_key_secret_kms_key_arn is in region "${regionOf(key)}" but the secret (existing_api_key_secret_arn) is in "${regionOf(secret)}"; ` +
          "Secrets Manager encrypts a secret with a KMS key of its own region"
      : undefined;
  },
  (s, user) => {
    const problem = user.work_pool_name === undefined ? reservedPoolNameError(s.work_pool_name) : undefined;
    return (
      problem &&
      `${describe(s, user, "environment")} gives the default work pool name "${s.work_pool_name}" (<environment>-<project_name>): ${problem}; or set work_pool_name`
    );
  },
  (s) =>
    new Set(s.work_queues).size !== s.work_queues.length
      ? `work_queues = ${show(s.work_queues)} lists a queue twice; list each queue once`
      : undefined,
  (s, user) =>
    s.flow_run_image !== undefined && user.flow_run_image_tag !== undefined
      ? `flow_run_image_tag only tags the stack's flows repository, but flow_run_image = "${s.flow_run_image}" is set; remove one of them`
      : undefined,
  (s) =>
    s.flow_run_image_tag === "latest" && s.ecr_image_tag_mutability === "IMMUTABLE"
      ? 'flow_run_image_tag = "latest" can be pushed only once to the IMMUTABLE flows repository; leave it unset (deployments name their commit-tagged image, see npm run flow-image) or set another tag'
      : undefined,
  (s) =>
    s.ecr_pull_through_cache === "docker_hub" && s.docker_hub_credential_secret_arn === undefined
      ? 'ecr_pull_through_cache = "docker_hub" needs docker_hub_credential_secret_arn: ECR pulls from Docker Hub only with a user name and access token'
      : undefined,
  (s) =>
    s.docker_hub_credential_secret_arn !== undefined && s.ecr_pull_through_cache !== "docker_hub"
      ? 'docker_hub_credential_secret_arn is set but ecr_pull_through_cache is not "docker_hub"; set ecr_pull_through_cache = "docker_hub" or remove it'
      : undefined,
  (s) =>
    s.docker_hub_credential_secret_arn !== undefined && !s.docker_hub_credential_secret_arn.split(":")[6]?.startsWith("ecr-pullthroughcache/")
      ? "docker_hub_credential_secret_arn names a secret outside ecr-pullthroughcache/; ECR reads upstream credentials only from secrets named ecr-pullthroughcache/<name>"
      : undefined,
  (s, user) =>
    s.docker_hub_credential_secret_arn !== undefined && regionOf(s.docker_hub_credential_secret_arn) !== s.aws_region
      ? `docker_hub_credential_secret_arn is in region "${regionOf(s.docker_hub_credential_secret_arn)}"; the cache rule reads it in ${describe(s, user, "aws_region")}: create the secret there`
      : undefined,
  (s, user) =>
    !s.flow_run_efs && user.flow_run_efs_mount_path !== undefined
      ? "flow_run_efs_mount_path is set but flow_run_efs is not true; set flow_run_efs = true to mount EFS"
      : undefined,
  (s) => {
    const problem = s.flow_run_efs ? mountPathError(s.flow_run_efs_mount_path) : undefined;
    return problem && `flow_run_efs_mount_path = "${s.flow_run_efs_mount_path}" is not valid: ${problem}`;
  },
  // Worker counts: min <= desired <= max, with min defaulting to desired and max to min.
  (s, user) =>
    s.worker_min_count > s.worker_desired_count
      ? `${describe(s, user, "worker_min_count")} is above ${describe(s, user, "worker_desired_count")}; use min <= desired <= max`
      : undefined,
  (s, user) =>
    s.worker_min_count <= s.worker_desired_count && s.worker_max_count < s.worker_desired_count
      ? `${describe(s, user, "worker_max_count")} is below ${describe(s, user, "worker_desired_count")}; use min <= desired <= max` +
        (user.worker_max_count === undefined ? " (set worker_max_count to at least worker_desired_count)" : "")
      : undefined,
  (s, user) => {
    const set = (["worker_cpu_target", "worker_memory_target"] as const).filter((key) => user[key] !== undefined);
    return set.length && !s.worker_autoscaling
      ? `${set.join(" and ")} only ${set.length === 1 ? "applies" : "apply"} with autoscaling; set worker_max_count above worker_min_count to turn it on`
      : undefined;
  },
  (s, user) =>
    s.worker_autoscaling && s.worker_min_count < 1
      ? `${describe(s, user, "worker_min_count")} must be at least 1 with autoscaling: a service scaled to 0 has no CPU or memory metrics to scale out on`
      : undefined,
  (s, user) =>
    s.enable_ecs_exec && user.worker_read_only_root_filesystem === true
      ? "enable_ecs_exec = true needs a writable root filesystem (the SSM agent writes to it); set worker_read_only_root_filesystem = false or leave it unset"
      : undefined,
  (s, user) =>
    s.state_bucket === undefined && (user.state_lock_table !== undefined || user.state_region !== undefined)
      ? `${(["state_lock_table", "state_region"] as const).filter((key) => user[key] !== undefined).join(" and ")} need${user.state_lock_table !== undefined && user.state_region !== undefined ? "" : "s"} state_bucket (the S3 bucket holding the state)`
      : undefined,
  (s, user) => {
    const set = (["alarm_worker_down_minutes", "alarm_queue_age_minutes", "monthly_budget_usd"] as const).filter((key) => user[key] !== undefined);
    return set.length && !s.alarms
      ? `${set.join(" and ")} need${set.length === 1 ? "s" : ""} somewhere to notify: set alarm_email or alarm_sns_topic_arn`
      : undefined;
  },
  (s, user) =>
    s.alarm_sns_topic_arn !== undefined && regionOf(s.alarm_sns_topic_arn) !== s.aws_region
      ? `alarm_sns_topic_arn = "${s.alarm_sns_topic_arn}" is in ${regionOf(s.alarm_sns_topic_arn)}, but ${describe(s, user, "aws_region")}: CloudWatch alarms and EventBridge rules notify topics in their own region only`
      : undefined,
  (s, user) =>
    user.alarm_worker_down_minutes !== undefined && s.alarms && !s.worker_autoscaling && s.worker_desired_count === 0
      ? `alarm_worker_down_minutes = ${user.alarm_worker_down_minutes} has nothing to watch: ${describe(s, user, "worker_desired_count")} runs no worker task; remove one of them`
      : undefined,
  (s, user) =>
    user.alarm_queue_age_minutes !== undefined && !s.ecs_event_observer
      ? `alarm_queue_age_minutes = ${user.alarm_queue_age_minutes} watches the ECS event observer's queue, but ecs_event_observer = false; remove one of them`
      : undefined,
  (s, user) =>
    s.state_locking === "s3_lockfile" && user.state_lock_table !== undefined
      ? `state_lock_table = "${user.state_lock_table}" is not used with state_locking = "s3_lockfile" (a lock file next to the state); remove one of them`
      : undefined,
];
