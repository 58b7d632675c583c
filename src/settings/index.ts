import { z } from "zod";
import { namePrefix } from "../naming";
import { ORIGINS, type Origins, RULES, show, type UserValues } from "./cross-key-rules";
import { defaultFlowRunInstanceType } from "../rules/ec2-instances";
import { type ParsedSettings, SECRET_KEYS, type SettingKey, SETTING_KEYS, settingsSchema } from "./schema";
import { CONTROL_CHARACTERS, defaultPoolName, redactUrl } from "./service-rules";

export * from "./schema";
export { type Origins, prefectVersionOfImage, RULES } from "./cross-key-rules";

/** Settings after defaults and cross-key resolution: what constructs are built from. */
export interface Settings extends ParsedSettings {
  /** `<project_name>-<environment>`: prefixes every resource name so deployments never collide. */
  readonly name_prefix: string;
  readonly work_pool_name: string;
  readonly state_region: string;
  /** DynamoDB lock table when state is in S3 and locked with DynamoDB; otherwise undefined. */
  readonly state_lock_table: string | undefined;
  /** Where flow runs run: flow_run_capacity, or "fargate_spot" for flow_run_spot = true, else "fargate". */
  readonly flow_run_capacity: "fargate" | "fargate_spot" | "ec2";
  /** The EC2 capacity's instance type (used with flow_run_capacity = "ec2"). */
  readonly flow_run_instance_type: string;
  readonly worker_min_count: number;
  readonly worker_max_count: number;
  /** Application Auto Scaling is on when the worker may scale (max above min). */
  readonly worker_autoscaling: boolean;
  /** Alarms and notifications are on when there is somewhere to send them (alarm_email or alarm_sns_topic_arn). */
  readonly alarms: boolean;
  /** As set; unset, it follows `alarms`: Container Insights is paid for only when an alarm reads it. */
  readonly container_insights: boolean;
  /** "cloud" unless prefect_api_url points at a self-hosted server, or the stack runs one (prefect_server). */
  readonly prefect_target: "cloud" | "self_hosted";
}

/** One deployment: its resolved settings plus the raw values its file held (for Terraform variable checks). */
export interface Deployment {
  readonly settings: Settings;
  readonly fileValues: Readonly<Partial<Record<SettingKey, unknown>>>;
  /** Where the values came from, for messages. */
  readonly source: string;
}

export class SettingsError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

/** A setting's value as messages may show it: credentials hidden, a password in a URL masked. */
function showSetting(key: string, value: unknown): string {
  if ((SECRET_KEYS as readonly string[]).includes(key)) return value === undefined ? "(missing)" : "(hidden)";
  // A URL may carry a password; one of the wrong type is not shown at all.
  if (key === "prefect_api_url") return typeof value === "string" ? show(redactUrl(value)) : `(${Array.isArray(value) ? "a list" : typeof value})`;
  return show(value);
}

function formatIssue(issue: z.core.$ZodIssue, values: Record<string, unknown>, origins: Origins): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${key} is not a known setting; see terraform.tfvars.example for the keys (${suggest(key)})`).join("\n  - ");
  }
  const key = String(issue.path[0] ?? "(file)");
  const origin = origins[key];
  return `${key} = ${showSetting(key, values[key])}${origin ? ` (${origin})` : ""} is not valid: ${issue.message}`;
}

function suggest(unknownKey: string): string {
  const close = SETTING_KEYS.filter((k) => k.includes(unknownKey) || unknownKey.includes(k) || editDistance(k, unknownKey) <= 3);
  return close.length ? `did you mean ${close.join(" or ")}?` : "no similar key";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Applies defaults and derived values once; every rule and construct reads these. */
function resolve(parsed: ParsedSettings): Settings {
  const name_prefix = namePrefix(parsed.project_name, parsed.environment);
  const worker_min_count = parsed.worker_min_count ?? parsed.worker_desired_count;
  const worker_max_count = parsed.worker_max_count ?? worker_min_count;
  const alarms = parsed.alarm_email !== undefined || parsed.alarm_sns_topic_arn !== undefined;
  return {
    ...parsed,
    // ECS Exec's agent writes to the root filesystem, so enabling it lifts the read-only default.
    worker_read_only_root_filesystem: parsed.enable_ecs_exec ? false : parsed.worker_read_only_root_filesystem,
    az_count: parsed.availability_zones?.length ?? parsed.az_count,
    name_prefix,
    worker_min_count,
    worker_max_count,
    worker_autoscaling: worker_max_count > worker_min_count,
    alarms,
    container_insights: parsed.container_insights ?? alarms,
    work_pool_name: parsed.work_pool_name ?? defaultPoolName(parsed.project_name, parsed.environment),
    state_region: parsed.state_region ?? parsed.aws_region,
    // Remote state is always locked: with DynamoDB, the table defaults to one per project.
    state_lock_table:
      parsed.state_bucket && parsed.state_locking === "dynamodb" ? (parsed.state_lock_table ?? `${parsed.project_name}-terraform-locks`) : undefined,
    prefect_target: parsed.prefect_api_url === undefined && !parsed.prefect_server ? "cloud" : "self_hosted",
    flow_run_capacity: parsed.flow_run_capacity ?? (parsed.flow_run_spot ? "fargate_spot" : "fargate"),
    flow_run_instance_type: parsed.flow_run_instance_type ?? defaultFlowRunInstanceType(parsed.flow_run_cpu_architecture),
  };
}

/** The sentence of every rule the values break, with the rule's index (for tests over the rule table). */
export function ruleProblems(values: Record<string, unknown>, origins: Origins = {}): { rule: number; message: string }[] {
  const parsed = settingsSchema.parse(values);
  const user: UserValues = {
    ...Object.fromEntries(
      Object.keys(values)
        .filter((k) => values[k] !== undefined)
        .map((k) => [k, parsed[k as SettingKey]]),
    ),
    [ORIGINS]: origins,
  };
  const settings = resolve(parsed);
  return RULES.flatMap((rule, index) => {
    const message = rule(settings, user);
    return message === undefined ? [] : [{ rule: index, message }];
  });
}

/** Whether a value, or any string or map key inside it, matches the pattern. */
function holdsAny(value: unknown, pattern: RegExp): boolean {
  if (typeof value === "string") return pattern.test(value);
  if (Array.isArray(value)) return value.some((v) => holdsAny(v, pattern));
  if (value !== null && typeof value === "object") return Object.entries(value).some(([k, v]) => holdsAny(k, pattern) || holdsAny(v, pattern));
  return false;
}

/**
 * Validates one deployment's raw values (from terraform.tfvars or an object) and resolves defaults.
 * Throws SettingsError listing every problem, each naming the key, the bad value and what is allowed.
 */
export function parseSettings(given: Record<string, unknown>, source = "terraform.tfvars", origins: Origins = {}): Deployment {
  // Terraform treats a variable set to null as not set.
  const values = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== null && v !== undefined));
  const tokens = Object.keys(values).filter((key) => /[$#]\{TfToken\[|TfToken\[TOKEN/.test(JSON.stringify(values[key])));
  if (tokens.length)
    throw new SettingsError(
      source,
      tokens.map((key) => `${key} holds cdktf's internal token syntax (TfToken[…]); write the value itself`),
    );
  // Terraform reads "${" and "%{" in every string of cdk.tf.json as template syntax, so a value holding them
  // would be code run at plan (a file() read written into the plan). No AWS name, ARN, tag or URL needs them.
  // Control characters (ESC, newlines, C1 controls) would reach environment variables, names and terminals; the
  // message never shows the value, which could drive the terminal it is printed on.
  const open = Object.keys(values).filter((key) => !SECRET_KEYS.includes(key as SettingKey));
  const from = (key: string) => (origins[key] ? ` (${origins[key]})` : "");
  const refused = [
    ...open
      .filter((key) => holdsAny(values[key], /[$%]\{/))
      .map(
        (key) =>
          `${key}${from(key)} holds "\${" or "%{", which Terraform would run as template syntax at plan; no AWS name, ARN, tag or URL needs them`,
      ),
    ...open
      .filter((key) => holdsAny(values[key], CONTROL_CHARACTERS))
      .map(
        (key) =>
          `${key}${from(key)} holds a control character (such as a newline, a tab or ESC), which no AWS name, ARN, tag or URL may hold; retype the value`,
      ),
  ];
  if (refused.length) throw new SettingsError(source, refused);
  const result = settingsSchema.safeParse(values);
  if (!result.success) {
    throw new SettingsError(
      source,
      result.error.issues.map((issue) => formatIssue(issue, values, origins)),
    );
  }
  const problems = ruleProblems(values, origins).map((p) => p.message);
  if (problems.length) throw new SettingsError(source, problems);
  const settings = resolve(result.data);
  const fileValues = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  return { settings, fileValues, source };
}
