import { gzipSync } from "node:zlib";
import { DefaultTokenResolver, StringConcat, TerraformElement, TerraformLocal, TerraformResource, Tokenization, type TerraformStack } from "cdktf";
import type { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";

/**
 * ECS refuses a task definition larger than 64 KiB: the "Task definition size limit" of Amazon ECS service quotas
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html; not adjustable; it was 32 KiB
 * until ECS raised it in September 2022), enforced by RegisterTaskDefinition. Terraform would only learn it at
 * apply, after the stack's other resources exist.
 */
export const MAX_TASK_DEFINITION_BYTES = 64 * 1024;

/**
 * The size a task definition will have once Terraform renders it, computed at synth from its arguments as
 * cdk.tf.json holds them. Literal text counts as it is (UTF-8 bytes). Every `${…}` Terraform resolves later counts
 * at an upper bound of what it can render (below), never at the length of the expression. The request is
 * measured as the JSON of its arguments: the container definitions as written plus family, cpu, memory, roles and
 * volumes (the provider sends the same fields, in the API's camelCase names).
 */
export function renderedTaskDefinitionBytes(stack: TerraformStack, taskDefinition: EcsTaskDefinition, region: string): number {
  const config = resolvedConfig(stack, taskDefinition);
  const { container_definitions: containerDefinitions, ...rest } = config as { container_definitions: string } & Record<string, unknown>;
  const others = Object.fromEntries(Object.entries(rest).filter(([key]) => REQUEST_FIELDS.includes(key)));
  const context = new RenderContext(stack, region);
  return context.renderedBytes(containerDefinitions) + context.renderedBytes(JSON.stringify(others));
}

/** The size of one piece of resolved text (e.g. one `${…}` expression) once Terraform renders it. */
export function renderedTextBytes(stack: TerraformStack, text: string, region: string): number {
  return new RenderContext(stack, region).renderedBytes(String(resolve(stack, text)));
}

/** The task definition's own arguments that reach RegisterTaskDefinition besides the container definitions. */
const REQUEST_FIELDS = [
  "family",
  "cpu",
  "memory",
  "network_mode",
  "requires_compatibilities",
  "runtime_platform",
  "execution_role_arn",
  "task_role_arn",
  "volume",
];

// Upper bounds of values AWS assigns at apply.
/** The longest partition name in an ARN ("aws-us-gov"; "aws", "aws-cn" and the ISO partitions are shorter). */
const PARTITION = 10;
/** An AWS account id: 12 digits. */
const ACCOUNT = 12;
/** EC2-style resource ids: a prefix and 17 hexadecimal digits (vpc-, subnet-, sg-, fs-, fsap-). */
const LONG_ID = 17;
/** The longest AWS DNS suffix (China's regions). */
const DNS_SUFFIX = "amazonaws.com.cn".length;
/** An RDS endpoint: <identifier>.<12-character id of the account and region>.<region>.rds.<suffix>. */
const RDS_ENDPOINT_ID = 12;
/** Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN. */
const SECRET_SUFFIX = 7;
/** A UUID, as the Prefect Cloud ids' variable validation requires. */
const UUID = 36;

type Config = Record<string, unknown>;

/** Tokens as cdk.tf.json will hold them: `${aws_x.y.attribute}` and the like. */
const resolve = (stack: TerraformStack, value: unknown): unknown =>
  Tokenization.resolve(value, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });

/** Bounds of resource attributes the stack's task definitions and base job template refer to, by `type.attribute`. */
const RESOURCE_BOUNDS: Readonly<Record<string, (config: Config, region: string) => number>> = {
  "aws_cloudwatch_log_group.name": (c) => literal(c, "name"),
  "aws_sqs_queue.name": (c) => literal(c, "name"),
  "aws_ecs_capacity_provider.name": (c) => literal(c, "name"),
  "aws_secretsmanager_secret.arn": (c, region) =>
    `arn::secretsmanager:${region}::secret:`.length + PARTITION + ACCOUNT + literal(c, "name") + SECRET_SUFFIX,
  "aws_iam_role.arn": (c) => `arn::iam:::role`.length + PARTITION + ACCOUNT + (c.path === undefined ? 1 : literal(c, "path")) + literal(c, "name"),
  "aws_ecs_cluster.arn": (c, region) => `arn::ecs:${region}::cluster/`.length + PARTITION + ACCOUNT + literal(c, "name"),
  "aws_db_instance.address": (c, region) => literal(c, "identifier") + `..${region}.rds.`.length + RDS_ENDPOINT_ID + DNS_SUFFIX,
  "aws_ecr_repository.repository_url": (c, region) => ACCOUNT + `.dkr.ecr.${region}./`.length + DNS_SUFFIX + literal(c, "name"),
  "aws_vpc.id": () => "vpc-".length + LONG_ID,
  "aws_subnet.id": () => "subnet-".length + LONG_ID,
  "aws_security_group.id": () => "sg-".length + LONG_ID,
  "aws_efs_file_system.id": () => "fs-".length + LONG_ID,
  "aws_efs_access_point.id": () => "fsap-".length + LONG_ID,
};

/** Bounds of variables and data sources, by their reference with the data source's name as "*". */
const OTHER_BOUNDS: Readonly<Record<string, number>> = {
  "var.prefect_account_id": UUID,
  "var.prefect_workspace_id": UUID,
  "data.aws_caller_identity.*.account_id": ACCOUNT,
  "data.aws_partition.*.partition": PARTITION,
};

/**
 * Terraform's base64gzip runs Go's compress/gzip; Node's zlib at the same default level produced output within
 * 0.2 % of it on the stack's templates and on random text (measured with Terraform 1.11), either way. The estimate
 * adds 1 % and 64 bytes to Node's size to stay above Go's.
 */
export const gzipMargin = (bytes: number) => Math.ceil(bytes / 100) + 64;

function literal(config: Config, key: string): number {
  const value = config[key];
  if (typeof value !== "string" || value.includes("${"))
    throw new Error(`task definition size: ${key} = ${JSON.stringify(value)} is not a literal, so its rendered length has no bound here`);
  return Buffer.byteLength(value);
}

function resolvedConfig(stack: TerraformStack, resource: TerraformResource): Config {
  const synthesized = resolve(stack, resource.toTerraform()) as { resource: Record<string, Record<string, Config>> };
  return Object.values(synthesized.resource[resource.terraformResourceType])[0];
}

/** Renders `${…}` expressions at their bounds; one per estimate, so lookups are done once. */
class RenderContext {
  private elements?: Map<string, TerraformElement>;

  constructor(
    private readonly stack: TerraformStack,
    private readonly region: string,
  ) {}

  /** UTF-8 bytes of the text once Terraform renders it. */
  renderedBytes(text: string): number {
    let bytes = 0;
    let last = 0;
    // "$${" is HCL's escape for a literal "${"; an expression holds no braces of its own here.
    for (const match of text.matchAll(/(\$?)\$\{([^{}]*)\}/g)) {
      bytes += Buffer.byteLength(text.slice(last, match.index));
      bytes += match[1] ? Buffer.byteLength(match[0]) - 1 : this.bound(match[2]);
      last = match.index + match[0].length;
    }
    return bytes + Buffer.byteLength(text.slice(last));
  }

  /** The longest value an expression can render as. */
  private bound(expression: string): number {
    const gzip = /^base64gzip\(local\.([A-Za-z0-9_-]+)\)$/.exec(expression);
    if (gzip) return this.base64GzipBytes(gzip[1]);
    const other = OTHER_BOUNDS[expression.replace(/^(data\.[a-z0-9_]+)\.[A-Za-z0-9_-]+\./, "$1.*.")];
    if (other !== undefined) return other;
    const reference = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(expression);
    const rule = reference && RESOURCE_BOUNDS[`${reference[1]}.${reference[3]}`];
    const element = reference && this.element(`${reference[1]}.${reference[2]}`);
    if (!rule || !(element instanceof TerraformResource))
      throw new Error(`task definition size: no upper bound for \${${expression}}; add one to src/compute/task-definition-size.ts`);
    return rule(resolvedConfig(this.stack, element), this.region);
  }

  /**
   * base64gzip of a local: its text with every expression replaced by that many random letters and digits (which
   * compress worst), gzipped as Terraform would, plus gzipMargin, then base64 (4 characters per 3 bytes).
   */
  private base64GzipBytes(local: string): number {
    const element = this.element(`local.${local}`);
    if (!(element instanceof TerraformLocal)) throw new Error(`task definition size: local.${local} is not in the stack`);
    const text = String(Object.values((resolve(this.stack, element.toTerraform()) as { locals: Record<string, unknown> }).locals)[0]);
    let seed = 1;
    const random = (length: number) =>
      Array.from({ length }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(seed >>> 16) % 62];
      }).join("");
    const rendered = text.replace(/(\$?)\$\{([^{}]*)\}/g, (whole, escaped: string, expression: string) =>
      escaped ? whole.slice(1) : random(this.bound(expression)),
    );
    const gzipped = gzipSync(Buffer.from(rendered)).length;
    return 4 * Math.ceil((gzipped + gzipMargin(gzipped)) / 3);
  }

  private element(address: string): TerraformElement | undefined {
    this.elements ??= new Map(
      this.stack.node
        .findAll()
        .filter((c): c is TerraformElement => c instanceof TerraformResource || c instanceof TerraformLocal)
        .map((e) => [e instanceof TerraformResource ? `${e.terraformResourceType}.${e.friendlyUniqueId}` : `local.${e.friendlyUniqueId}`, e]),
    );
    return this.elements.get(address);
  }
}

/** A setting that adds to a task definition, and how many bytes it adds. */
export interface SizeContributor {
  /** The setting and what of it counts, e.g. "work_queues (1000 queues, written twice: …)". */
  readonly setting: string;
  readonly bytes: number;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * The refusal when a task definition would exceed ECS's limit: its computed size, the limit, and the settings the
 * operator wrote that make it big (largest first), or undefined when it fits.
 */
export function taskDefinitionSizeError(what: string, bytes: number, contributors: readonly SizeContributor[], fix: string): string | undefined {
  if (bytes <= MAX_TASK_DEFINITION_BYTES) return undefined;
  const named = [...contributors].filter((c) => c.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  const because = named.length
    ? `what makes it big: ${named.map((c) => `${c.setting}: ${c.bytes} bytes (${kib(c.bytes)})`).join("; ")}`
    : "no setting you wrote adds much to it";
  return (
    `${what} would be about ${bytes} bytes (${kib(bytes)}) once Terraform renders it, above ECS's limit of ${MAX_TASK_DEFINITION_BYTES} bytes ` +
    `(64 KiB, RegisterTaskDefinition); ${because}. ${fix}`
  );
}
