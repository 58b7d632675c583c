import { allowedContextKeysForRequest, runSimulation, typeForContextKey, type SimulationIdentityPolicy } from "@cloud-copilot/iam-simulate";
import { MANAGED_POLICIES } from "./iam-aws-policies";
import type { TerraformJson } from "./synth";

/** The account every simulated stack is deployed to. */
export const ACCOUNT = "123456789012";
export const PARTITION = "aws";

/** Ids AWS generates (no resource name determines them): any well-formed value stands in. */
const GENERATED = {
  efsFileSystemId: "fs-0123456789abcdef0",
  efsAccessPointId: "fsap-0123456789abcdef0",
  secretSuffix: "a1B2c3",
  networkInterfaceId: "eni-0123456789abcdef0",
  allocationId: "eipalloc-0123456789abcdef0",
};

type Config = Record<string, any>;

/**
 * Turns the Terraform interpolations of a synthesized stack (`${aws_iam_role.x.arn}`,
 * `${local.iam_ecs_arn_prefix}`, …) into the values AWS would produce in account 123456789012 of the
 * stack's region: ARNs are built from the resource names in the JSON. Anything it does not know
 * throws, so a new kind of reference in a policy cannot slip past the simulation unresolved.
 */
export class FakeAwsValues {
  readonly region: string;

  constructor(private readonly json: TerraformJson) {
    this.region = json.provider.aws[0].region;
  }

  /** Replaces every `${…}` in a string. */
  resolve(text: string): string {
    return text.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => this.evaluate(expression.trim()));
  }

  /** Resolves every string inside a JSON value (a policy document, a task definition, …). */
  resolveDeep<T>(value: T): T {
    if (typeof value === "string") return this.resolve(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.resolveDeep(v)) as T;
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolveDeep(v)])) as T;
    return value;
  }

  /** A policy document (JSON text with interpolations) as an object with concrete ARNs. */
  policy(text: string): any {
    return this.resolveDeep(JSON.parse(text));
  }

  /** One Terraform expression: a reference, or the `element(split(…), n)` the IAM construct uses. */
  evaluate(expression: string): string {
    const split = /^element\(split\("((?:[^"\\]|\\.)*)",\s*([\w.]+)\),\s*(\d+)\)$/.exec(expression);
    if (split) return this.evaluate(split[2]).split(JSON.parse(`"${split[1]}"`))[Number(split[3])];
    const parts = expression.split(".");
    if (expression === "data.aws_partition.partition.partition") return PARTITION;
    if (parts[0] === "local" && parts.length === 2) {
      const local = (this.json as any).locals?.[parts[1]];
      if (typeof local !== "string") throw new Error(`no local "${parts[1]}" in the synthesized stack`);
      return this.resolve(local);
    }
    if (parts.length !== 3) throw new Error(`no fake value for the Terraform expression \${${expression}}`);
    const [type, id, attribute] = parts;
    const config = this.json.resource[type]?.[id];
    if (!config) throw new Error(`\${${expression}} names a resource the stack does not have`);
    // Generated ids need nothing from the configuration (whose references may lead to resources with no fake value).
    const generated = ["aws_network_interface", "aws_eip"].includes(type);
    const value = this.attribute(type, generated ? config : this.resolveDeep(config), attribute);
    if (value === undefined) throw new Error(`no fake value for \${${expression}}`);
    return value;
  }

  private attribute(type: string, config: Config, attribute: string): string | undefined {
    const { region } = this;
    const arn = (service: string, resource: string, inRegion = region) => `arn:${PARTITION}:${service}:${inRegion}:${ACCOUNT}:${resource}`;
    const named = (attributes: Record<string, (name: string) => string>) => {
      if (!(attribute in attributes)) return undefined;
      if (typeof config.name !== "string") throw new Error(`${type} has no literal name to build its ${attribute} from`);
      return attributes[attribute](config.name);
    };
    switch (type) {
      case "aws_iam_role":
        return named({ name: (n) => n, id: (n) => n, arn: (n) => `arn:${PARTITION}:iam::${ACCOUNT}:role${config.path ?? "/"}${n}` });
      case "aws_ecs_cluster":
        return named({ name: (n) => n, arn: (n) => arn("ecs", `cluster/${n}`) });
      case "aws_cloudwatch_log_group":
        // The AWS provider (v4+) reports log group ARNs without the trailing ":*".
        return named({ name: (n) => n, arn: (n) => arn("logs", `log-group:${n}`) });
      case "aws_sqs_queue":
        return named({ name: (n) => n, arn: (n) => arn("sqs", n), url: (n) => `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${n}` });
      case "aws_secretsmanager_secret":
        // Secrets Manager appends "-" and six random characters to the name.
        return named({
          name: (n) => n,
          arn: (n) => arn("secretsmanager", `secret:${n}-${GENERATED.secretSuffix}`),
          id: (n) => arn("secretsmanager", `secret:${n}-${GENERATED.secretSuffix}`),
        });
      case "aws_ecr_repository":
        return named({
          name: (n) => n,
          arn: (n) => arn("ecr", `repository/${n}`),
          repository_url: (n) => `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${n}`,
        });
      case "aws_cloudwatch_event_rule":
        return named({ name: (n) => n, arn: (n) => arn("events", `rule/${n}`) });
      case "aws_efs_file_system":
        return { id: GENERATED.efsFileSystemId, arn: arn("elasticfilesystem", `file-system/${GENERATED.efsFileSystemId}`) }[attribute];
      case "aws_network_interface":
        return { id: GENERATED.networkInterfaceId, arn: arn("ec2", `network-interface/${GENERATED.networkInterfaceId}`) }[attribute];
      case "aws_eip":
        return { allocation_id: GENERATED.allocationId, arn: arn("ec2", `elastic-ip/${GENERATED.allocationId}`) }[attribute];
      case "aws_efs_access_point":
        return { id: GENERATED.efsAccessPointId, arn: arn("elasticfilesystem", `access-point/${GENERATED.efsAccessPointId}`) }[attribute];
      default:
        return undefined;
    }
  }
}

/** A role of the stack with every policy attached to it, ready for the simulator. */
export interface RoleUnderTest {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The principal of requests made with the role: an ECS task's session. */
  readonly sessionArn: string;
  readonly policies: SimulationIdentityPolicy[];
}

/** Inline policies (by `role = …id`) and managed attachments (by `role = …name`) of one aws_iam_role. */
export function roleUnderTest(json: TerraformJson, fake: FakeAwsValues, logicalId: string): RoleUnderTest {
  const ref = (attribute: string) => `\${aws_iam_role.${logicalId}.${attribute}}`;
  const inline = Object.entries(json.resource.aws_iam_role_policy ?? {})
    .filter(([, p]) => p.role === ref("id") || p.role === ref("name"))
    .map(([id, p]) => ({ name: id, policy: fake.policy(p.policy) }));
  const managed = Object.entries(json.resource.aws_iam_role_policy_attachment ?? {})
    .filter(([, a]) => a.role === ref("name") || a.role === ref("id"))
    .map(([id, a]) => ({ name: id, policy: managedPolicy(fake.resolve(a.policy_arn)) }));
  const name = fake.evaluate(`aws_iam_role.${logicalId}.name`);
  return {
    logicalId,
    name,
    arn: fake.evaluate(`aws_iam_role.${logicalId}.arn`),
    sessionArn: `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${name}/0123456789abcdef0123456789abcdef`,
    policies: [...inline, ...managed],
  };
}

function managedPolicy(arn: string): unknown {
  const match = /^arn:[\w-]+:iam::aws:policy\/(.+)$/.exec(arn);
  const document = match && MANAGED_POLICIES[match[1]];
  if (!document) throw new Error(`no fixture for the managed policy ${arn}: add its document to iam-aws-policies.ts`);
  return document;
}

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

export interface Outcome {
  /** The decision, or "error: <message>" when the simulator refused the request or a policy. */
  readonly decision: Decision | `error: ${string}`;
  /** Context keys the request set that do not apply to the action (a mistyped or misplaced key). */
  readonly ignoredContextKeys: string[];
  readonly errors?: unknown;
}

/** Runs one request through the simulator: identity policies of a principal, plus a resource policy. */
export async function simulate(
  principal: string,
  request: Request,
  identityPolicies: SimulationIdentityPolicy[],
  resourcePolicy?: unknown,
): Promise<Outcome> {
  const response = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    { simulationMode: "Strict" },
  );
  if (response.resultType === "error") return { decision: `error: ${response.errors.message}`, ignoredContextKeys: [], errors: response.errors };
  const results = response.resultType === "single" ? [response.result] : response.results;
  return {
    decision: response.overallResult as Decision,
    ignoredContextKeys: [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))],
  };
}

const list = (value: unknown): string[] => (value === undefined ? [] : ([value].flat() as string[]));

/** `kms:encryptioncontext:${encryptioncontextkey}` (as the service reference lists keys) as a case-insensitive pattern. */
function keyPattern(key: string): RegExp {
  const literal = key.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${literal.join(".+")}$`, "i");
}

/** A value that satisfies one condition, so a statement can be exercised as written. */
function satisfying(operator: string, value: string): string {
  return /Like$/.test(operator) ? value.replace(/\*/g, "x").replace(/\?/g, "x") : value;
}

/**
 * What the simulator finds wrong with one policy document: its structure (iam-policy), unknown
 * actions, resource ARNs no resource type of the action matches, actions that take only "*",
 * unknown condition keys, and keys that do not apply to the statement's actions. For an identity
 * policy, each Allow statement must also grant its own actions on its own resources.
 */
export async function policyProblems(
  document: any,
  kind: "identity" | "resource",
  defaultPrincipal: string,
  options: {
    /** The resource's own policy, when the service also needs it to allow (a KMS key policy). */
    resourcePolicyOf?: (resource: string) => unknown;
    /** The resource a resource policy without `Resource` belongs to (a role, for its trust policy). */
    attachedTo?: string;
  } = {},
): Promise<string[]> {
  const problems: string[] = [];
  // The document as a whole, whatever its statements name: sts:GetCallerIdentity needs no resource,
  // so an error here is the policy's own (structure, effect, operators, …).
  const whole = await simulate(
    defaultPrincipal,
    { action: "sts:GetCallerIdentity", resource: "*" },
    kind === "identity" ? [{ name: "under-test", policy: document }] : [],
    kind === "resource" ? document : undefined,
  );
  if (whole.decision.startsWith("error")) return [`${whole.decision} ${JSON.stringify(whole.errors)}`];
  const statements: any[] = [document.Statement].flat();
  for (const [index, statement] of statements.entries()) {
    const label = statement.Sid ?? `statement ${index}`;
    const context: Record<string, string | string[]> = {};
    for (const [operator, entries] of Object.entries<Record<string, unknown>>(statement.Condition ?? {})) {
      for (const [key, value] of Object.entries(entries)) {
        try {
          await typeForContextKey(key);
        } catch {
          problems.push(`${label}: unknown condition key ${key}`);
        }
        context[key] = satisfying(operator, list(value)[0]);
      }
    }
    const principals = kind === "resource" ? list(statement.Principal?.Service ?? statement.Principal?.AWS ?? statement.Principal) : [];
    const principal = principals.find((p) => p !== "*") ?? defaultPrincipal;
    for (const action of list(statement.Action)) {
      // A resource policy may guard every action ("Deny *"); only named actions can be checked one by one.
      if (action.includes("*")) {
        if (kind === "identity") problems.push(`${label}: wildcard action ${action}`);
        continue;
      }
      for (const resource of statement.Resource === undefined && options.attachedTo ? [options.attachedTo] : list(statement.Resource)) {
        const policies = kind === "identity" ? [{ name: "under-test", policy: document }] : [];
        const outcome = await simulate(
          principal,
          { action, resource, context },
          policies,
          kind === "resource" ? document : options.resourcePolicyOf?.(resource),
        );
        if (outcome.decision.startsWith("error")) {
          problems.push(`${label}: ${action} on ${resource}: ${outcome.decision} ${JSON.stringify(outcome.errors)}`);
          continue;
        }
        const [service, name] = action.split(":");
        // A wildcard resource can stand for several resource types; the simulation then reports, per
        // type it ran, the keys it dropped as not applicable.
        const applicable = await allowedContextKeysForRequest(service, name, resource, false, undefined).then(
          (keys) => keys.map(keyPattern),
          () => undefined,
        );
        const inapplicable = applicable
          ? Object.keys(context).filter((key) => !applicable.some((pattern) => pattern.test(key)))
          : outcome.ignoredContextKeys;
        for (const key of inapplicable) problems.push(`${label}: condition key ${key} does not apply to ${action} on ${resource}`);
        if (kind === "identity" && (statement.Effect ?? "Allow") === "Allow" && outcome.decision !== "Allowed") {
          problems.push(`${label}: does not grant ${action} on ${resource} (${outcome.decision})`);
        }
      }
    }
  }
  return problems;
}
