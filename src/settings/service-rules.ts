import { ADDRESS_TAG, STACK_TAG } from "../naming";
import { Netmask } from "netmask";

/**
 * What AWS and Prefect accept, checked at synth so a bad value never reaches `cdktf deploy`. Each check
 * returns a sentence saying what is allowed (the caller prefixes "<key> = <value> is not valid: "), or
 * undefined. Sources are cited beside each rule; tests cite them again.
 */

// --- Prefect

/**
 * Prefect's server refuses to create, update or delete a work pool whose name starts with "prefect" in
 * any case (HTTP 403, "reserved for internal use"): PrefectHQ/prefect src/prefect/server/api/workers.py.
 */
export function reservedPoolNameError(name: string): string | undefined {
  return name.toLowerCase().startsWith("prefect")
    ? 'Prefect reserves work pool names starting with "prefect" (any case) and refuses to create or delete them (HTTP 403); choose a name such as "ecs-dev"'
    : undefined;
}

/** The pool name when work_pool_name is not set: environment first, so it never inherits a "prefect…" project name. */
export const defaultPoolName = (projectName: string, environment: string) => `${environment}-${projectName}`;

// --- Tags (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions)

/** Letters, digits and spaces in any language, and _ . : / = + - @ (AWS's common tag character set). */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** AWS allows 50 user tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;
/**
 * Tags the stack sets itself: on every resource (provider default_tags, and the stack and address tags of
 * src/stacks/address-tags.ts) or on some (Name, Tier, Purpose).
 */
export const STACK_TAG_KEYS = ["Project", "Environment", "ManagedBy", "Name", "Tier", "Purpose", STACK_TAG, ADDRESS_TAG] as const;
/** The most tags of the stack's own that any one resource carries (3 default tags, stack and address, plus Name and Tier on subnets). */
export const MAX_STACK_TAGS_PER_RESOURCE = 7;

export function tagsError(tags: Record<string, string>): string | undefined {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > 128) problems.push(`key ${JSON.stringify(key)} has ${key.length} characters; tag keys have 1 to 128`);
    if (value.length > 256) problems.push(`the value of ${JSON.stringify(key)} has ${value.length} characters; tag values have at most 256`);
    if (!TAG_CHARACTERS.test(key)) problems.push(`key ${JSON.stringify(key)} has a character AWS refuses in tags`);
    if (!TAG_CHARACTERS.test(value)) problems.push(`the value of ${JSON.stringify(key)} has a character AWS refuses in tags`);
    if (key.toLowerCase().startsWith("aws:")) problems.push(`key ${JSON.stringify(key)} starts with "aws:", which AWS reserves (in any case)`);
    const own = STACK_TAG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (own) problems.push(`key ${JSON.stringify(key)} is the stack's own ${own} tag (compared ignoring case, as IAM and some other services do)`);
  }
  const lower = Object.keys(tags).map((key) => key.toLowerCase());
  const twins = Object.keys(tags).filter((key, i) => lower.indexOf(key.toLowerCase()) !== i);
  if (twins.length)
    problems.push(
      `${twins.map((k) => JSON.stringify(k)).join(", ")} repeat another key in another case, which IAM refuses (tag keys are case-insensitive there)`,
    );
  const room = MAX_TAGS_PER_RESOURCE - MAX_STACK_TAGS_PER_RESOURCE;
  if (Object.keys(tags).length > room) {
    problems.push(
      `${Object.keys(tags).length} tags plus the stack's own ${MAX_STACK_TAGS_PER_RESOURCE} exceed AWS's ${MAX_TAGS_PER_RESOURCE} per resource; use at most ${room}`,
    );
  }
  if (!problems.length) return undefined;
  return `${problems.join("; ")}. Tags allow letters, digits, spaces and _ . : / = + - @ (keys 1-128, values up to 256 characters)`;
}

// --- Names derived from project_name and environment

/** ECR repository names (`<project>-<env>/worker`): https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html */
export const ECR_REPOSITORY_NAME = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** project_name and environment become part of ECR repository names, so hyphens must separate characters. */
export function nameSeparatorError(value: string): string | undefined {
  return value.includes("--") || value.endsWith("-")
    ? "no two hyphens in a row and no hyphen at the end: ECR repository names (<project_name>-<environment>/worker) refuse them"
    : undefined;
}

/** Security group names (`<project>-<env>-worker`) cannot start with "sg-": https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html */
export function securityGroupPrefixError(projectName: string): string | undefined {
  return projectName.startsWith("sg-") ? 'security group names (<project_name>-<environment>-worker) cannot start with "sg-"' : undefined;
}

// --- S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)

const S3_RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const S3_RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

export function s3BucketNameError(name: string): string | undefined {
  const rules = "S3 bucket names have 3-63 lower-case letters, digits, '.' and '-', start and end with a letter or digit";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) return rules;
  if (name.includes("..")) return `${rules}, and have no two periods in a row`;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return `${rules}, and are not formatted as an IP address`;
  const prefix = S3_RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `S3 reserves bucket names starting with "${prefix}"`;
  const suffix = S3_RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `S3 reserves bucket names ending with "${suffix}"`;
  return undefined;
}

// --- Container images (Docker's reference grammar, github.com/distribution/reference/blob/main/reference.go)

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
/** A first path element is a registry only if it has a '.' or ':' or is "localhost" (docker's splitDockerDomain). */
const DOMAIN = `(?:localhost(?::\\d+)?|${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})+(?::\\d+)?|${DOMAIN_COMPONENT}:\\d+)`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
/** ECS accepts at most 255 characters in a container definition's image, not counting an `@sha256:` digest. */
export const MAX_IMAGE_LENGTH = 255;

export function imageReferenceError(image: string): string | undefined {
  const named = image.split("@")[0];
  if (named.length > MAX_IMAGE_LENGTH)
    return `ECS accepts image references of at most ${MAX_IMAGE_LENGTH} characters before a digest (this one has ${named.length})`;
  if (!IMAGE_REFERENCE.test(image)) {
    return 'use an image reference Docker accepts: [registry/]repository[:tag][@sha256:digest], with a lower-case repository path (e.g. "prefecthq/prefect-aws:0.7.11-python3.12-prefect3.8.3")';
  }
  return undefined;
}

// --- VPC CIDR

/**
 * Ranges a VPC should not use: AWS's own advice (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html:
 * 172.17.0.0/16 is used by some AWS services; 198.19.0.0/16 is in the association restrictions table), and the
 * special-purpose blocks of RFC 6890 that are not host addresses anywhere.
 */
export const UNUSABLE_VPC_RANGES: readonly { readonly cidr: string; readonly why: string }[] = [
  { cidr: "0.0.0.0/8", why: 'is "this network" (RFC 6890), not host addresses' },
  { cidr: "127.0.0.0/8", why: "is the loopback range (RFC 6890)" },
  { cidr: "169.254.0.0/16", why: "is link-local (RFC 6890): the instance and task metadata endpoints live there" },
  { cidr: "224.0.0.0/4", why: "is multicast (RFC 6890)" },
  { cidr: "240.0.0.0/4", why: "is reserved (RFC 6890)" },
  { cidr: "172.17.0.0/16", why: "is used by some AWS services, and AWS advises against it for VPCs" },
  { cidr: "198.19.0.0/16", why: "is restricted by AWS for VPC CIDR blocks" },
];

export function reservedCidrError(cidr: string): string | undefined {
  let block: Netmask;
  try {
    block = new Netmask(cidr);
  } catch {
    return undefined; // reported by the CIDR syntax check
  }
  const overlaps = (other: Netmask) => other.contains(block.base) || block.contains(other.base);
  const hit = UNUSABLE_VPC_RANGES.find((range) => overlaps(new Netmask(range.cidr)));
  return hit ? `it overlaps ${hit.cidr}, which ${hit.why}; use a private range such as 10.0.0.0/16` : undefined;
}

// --- EFS mount path

/** Directories a mount would hide: the OS's own, and Prefect's working directory in its images. */
export const PROTECTED_CONTAINER_PATHS = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/opt/prefect",
] as const;

export function mountPathError(path: string): string | undefined {
  const segments = path.split("/").slice(1);
  if (path === "/" || segments.some((s) => s === "" || s === "." || s === "..")) {
    return 'use a normalized absolute path below / with no empty, "." or ".." segments, such as "/mnt/efs"';
  }
  const hidden = PROTECTED_CONTAINER_PATHS.find((p) => path === p || path.startsWith(`${p}/`) || p.startsWith(`${path}/`));
  return hidden
    ? `a mount there would hide or replace ${hidden}, which the flow container needs; use a dedicated path such as "/mnt/efs"`
    : undefined;
}

// --- Prefect API URL

/**
 * A URL the worker and the pool command can use: http(s), a valid port, a path ending in /api, no query
 * or fragment, and no user info (a password there would reach the task definition and plan output).
 * Never echoes a password: callers show `redactUrl(url)`.
 */
export function apiUrlError(url: string): string | undefined {
  const allowed = 'use an http(s) URL ending in /api, such as "https://prefect.example.com/api"';
  // Quotes, braces and '$' would also be read as Terraform template syntax in cdk.tf.json.
  if (/[\s"'`${}\\<>^|]/.test(url)) return `it has characters a URL cannot hold unencoded (spaces, quotes, $, {, }, \\, <, >, ^, |); ${allowed}`;
  const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d*)(?:[/?#]|$)/i.exec(url)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return `the port must be from 1 to 65535; ${allowed}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `it is not a URL; ${allowed}`;
  }
  if (parsed.username || parsed.password) {
    return 'it holds a user name or password, which would be stored in plain text; remove them and set self_hosted_auth = "auth_string" with prefect_api_auth_string (TF_VAR_prefect_api_auth_string)';
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return allowed;
  const host = parsed.hostname.toLowerCase();
  if (host.startsWith("["))
    return `IPv6 addresses cannot be reached: the VPC and the tasks' egress rules are IPv4 only; use a DNS name or an IPv4 address`;
  if (isLoopbackHost(host) || host.endsWith(".localhost") || host === "0.0.0.0") {
    return "the worker runs in Fargate, where this address is the worker's own task, not your server; use the server's private address or DNS name";
  }
  if (host === "api.prefect.cloud" || host.endsWith(".prefect.cloud")) {
    return "this is Prefect Cloud: leave prefect_api_url unset and give prefect_account_id and prefect_workspace_id (and the API key)";
  }
  if (parsed.search || parsed.hash || url.includes("?") || url.includes("#")) return `a query or fragment cannot be part of the API URL; ${allowed}`;
  if (!parsed.pathname.endsWith("/api")) return allowed;
  return undefined;
}

/**
 * The URL as messages may show it: everything between the scheme and the last "@" (user, password) masked, and
 * a query or fragment (often a token) masked after its "?" or "#".
 */
export function redactUrl(url: string): string {
  const query = url.search(/[?#]/);
  const withoutQuery = query < 0 ? url : `${url.slice(0, query + 1)}***`;
  const at = withoutQuery.lastIndexOf("@");
  if (at < 0) return withoutQuery;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(withoutQuery)?.[0] ?? "";
  return `${scheme}***${withoutQuery.slice(at)}`;
}

/** C0 and C1 control characters and DEL: refused in settings, and replaced wherever untrusted text is printed. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** The same, for replacing every one (String.replace with a global pattern). */
export const ALL_CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTERS.source, "g");

/** A name or IPv4 address of this machine itself: localhost or 127.0.0.0/8 (the caller lower-cases it). */
export const isLoopbackHost = (host: string): boolean => host === "localhost" || /^127\./.test(host);

const PRIVATE_IPV4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map((c) => new Netmask(c));
const PRIVATE_SUFFIXES = [".internal", ".local", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp", ".private"];

/**
 * Whether plain HTTP stays inside private networks: a private IPv4 address, a single-label name, or a name under
 * a private-use suffix. Public-looking names are not trusted even if a private zone serves them in the VPC: the
 * pool command runs on the operator's machine, which resolves public DNS.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return PRIVATE_IPV4.some((block) => block.contains(host));
  if (host.startsWith("[")) return false;
  if (!host.includes(".")) return true;
  return PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

// --- Lists

/** ECS awsvpc network configuration: at most 16 subnets (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html). */
export const MAX_SERVICE_SUBNETS = 16;
/** IAM's default quota of managed policies attached to one role (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). */
export const MAX_MANAGED_POLICIES_PER_ROLE = 10;
/** Managed policies the stack itself attaches to the flow-run task role. */
export const STACK_POLICIES_ON_FLOW_RUN_TASK_ROLE = 0;

/** Each CIDR block must be a network address (`203.0.113.0/24`, not `203.0.113.7/24`); AWS refuses host bits. */
export function cidrListError(cidrs: string[]): string | undefined {
  for (const cidr of cidrs) {
    let block: Netmask;
    try {
      // netmask reads "010" as octal; the schema's pattern already allows only plain decimal octets.
      block = new Netmask(cidr);
    } catch {
      return `"${cidr}" is not an IPv4 CIDR block`;
    }
    if (block.toString() !== cidr) return `"${cidr}" is not a network address (did you mean "${block.toString()}"?)`;
  }
  return undefined;
}

/**
 * A private hosted zone answers for every name under it inside the VPC: one named after AWS's own service or
 * instance domains would hide ECR, Secrets Manager, CloudWatch Logs, RDS or instance names from the tasks.
 */
export function awsReservedZoneError(zone: string): string | undefined {
  const reserved = ["amazonaws.com", "amazonaws.com.cn", "ec2.internal", "compute.internal", "aws"];
  const hit = reserved.find((name) => zone === name || zone.endsWith(`.${name}`));
  if (hit)
    return `it would shadow AWS's own ${hit} names inside the VPC (ECR, Secrets Manager, Logs, RDS endpoints or instance host names); choose a name of your own, such as "prefect.internal"`;
  // A private zone answers for its whole subtree inside the VPC: one that equals or contains a public name the
  // tasks call (Prefect Cloud, Docker Hub's registry for Prefect's images) would take those names away.
  const shadowed = PUBLIC_NAMES_THE_TASKS_CALL.find((name) => name === zone || name.endsWith(`.${zone}`));
  return shadowed
    ? `it would shadow ${shadowed}, which the worker and flow runs call, inside the VPC; choose a name of your own, such as "prefect.internal"`
    : undefined;
}

/** Public host names the tasks reach: Prefect Cloud's API and Docker Hub's registry, auth and blob hosts. */
const PUBLIC_NAMES_THE_TASKS_CALL = ["api.prefect.cloud", "registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"];
