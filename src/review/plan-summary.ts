/**
 * Turns `terraform show -json` output into Markdown a reviewer can trust at a glance: what is destroyed
 * or replaced first (and why), then every change grouped by action and type, output changes, and cost.
 * Follows Terraform's JSON output format (format_version 1.x).
 */

export type Action = "create" | "update" | "replace" | "delete" | "read" | "no-op";

/** One planned change of a value, as Terraform's JSON output describes it. */
export interface OutputChange {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
}

export interface ResourceChange {
  address: string;
  module_address?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  change: OutputChange & { replace_paths?: (string | number)[][] };
  action_reason?: string;
}

export interface PlanJson {
  format_version?: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, OutputChange>;
}

export function actionOf(actions: string[]): Action {
  const key = [...actions].sort().join(",");
  if (key === "create,delete") return "replace";
  if (key === "create" || key === "update" || key === "delete" || key === "read") return key;
  return "no-op";
}

const ACTION_ORDER: Action[] = ["delete", "replace", "update", "create", "read"];
const ACTION_LABEL: Record<Action, string> = {
  delete: "destroy",
  replace: "replace",
  update: "change",
  create: "add",
  read: "read",
  "no-op": "no-op",
};

/** Counts of managed-resource changes, as in Terraform's "Plan:" line. */
export function countChanges(plan: PlanJson): Record<"create" | "update" | "replace" | "delete", number> {
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed") continue;
    const action = actionOf(change.change.actions);
    if (action in counts) counts[action as keyof typeof counts]++;
  }
  return counts;
}

/** A path like ["network_configuration", 0, "subnets"] as "network_configuration[0].subnets". */
export function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");
}

/** An output or attribute value for display: sensitive and unknown values are never shown. */
export function displayValue(change: OutputChange): string {
  if (change.after_sensitive === true || (change.after_sensitive === undefined && change.before_sensitive === true)) return "(sensitive)";
  if (change.after_unknown === true) return "(known after apply)";
  if (change.actions.includes("delete") && !change.actions.includes("create")) return "(removed)";
  const text = JSON.stringify(change.after);
  return text === undefined ? "null" : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

export function summarizePlan(plan: PlanJson, costSection?: string): string {
  const changes = (plan.resource_changes ?? []).filter((c) => c.mode === "managed" && actionOf(c.change.actions) !== "no-op");
  const counts = countChanges(plan);
  const lines: string[] = ["## Terraform plan", ""];

  if (changes.length === 0 && Object.values(plan.output_changes ?? {}).every((o) => actionOf(o.actions) === "no-op")) {
    lines.push("**No changes.** The infrastructure matches the configuration.", "");
  } else {
    lines.push(`**Plan:** ${counts.create} to add, ${counts.update} to change, ${counts.replace} to replace, ${counts.delete} to destroy.`, "");
  }

  const dangerous = changes.filter((c) => ["delete", "replace"].includes(actionOf(c.change.actions)));
  if (dangerous.length) {
    lines.push("### ⚠️ Destroys and replacements", "");
    for (const change of dangerous) {
      const action = actionOf(change.change.actions);
      const forcedBy = (change.change.replace_paths ?? []).map((p) => code(formatPath(p)));
      const why = action === "replace" ? (forcedBy.length ? ` — forced by ${forcedBy.join(", ")}` : " — replacement requested") : "";
      lines.push(`- ⚠️ **${ACTION_LABEL[action]}** ${code(change.address)}${why}`);
    }
    lines.push("");
  }

  if (changes.length) {
    lines.push("### Resource changes", "", "| action | resource type | count | addresses |", "|---|---|---:|---|");
    const groups = new Map<string, ResourceChange[]>();
    for (const change of changes) {
      const key = `${actionOf(change.change.actions)}\u0000${change.type}`;
      groups.set(key, [...(groups.get(key) ?? []), change]);
    }
    const sorted = [...groups.entries()].sort(([a], [b]) => {
      const [actionA, typeA] = a.split("\u0000");
      const [actionB, typeB] = b.split("\u0000");
      return ACTION_ORDER.indexOf(actionA as Action) - ACTION_ORDER.indexOf(actionB as Action) || typeA.localeCompare(typeB);
    });
    for (const [key, group] of sorted) {
      const [action, type] = key.split("\u0000");
      const addresses = group.map((c) => code(readableAddress(c))).join(", ");
      lines.push(`| ${ACTION_LABEL[action as Action]} | ${code(type)} | ${group.length} | ${addresses} |`);
    }
    lines.push("");
  }

  const outputs = Object.entries(plan.output_changes ?? {}).filter(([, o]) => actionOf(o.actions) !== "no-op");
  if (outputs.length) {
    lines.push("### Output changes", "", "| output | action | value |", "|---|---|---|");
    for (const [name, change] of outputs.sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${code(name)} | ${ACTION_LABEL[actionOf(change.actions)]} | ${displayValue(change).replace(/\|/g, "\\|")} |`);
    }
    lines.push("");
  }

  if (costSection) lines.push(costSection, "");
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The address without the resource type, which the table already shows (`network_vpc` for `aws_vpc.network_vpc`). */
function readableAddress(change: ResourceChange): string {
  const prefix = change.module_address ? `${change.module_address}.` : "";
  return change.address.slice(prefix.length).replace(`${change.type}.`, prefix);
}
