/**
 * Turns `terraform show -json` output into Markdown a reviewer can trust at a glance: what is destroyed
 * or replaced first (and why), moves, imports and removals from state, then every change grouped by
 * action and type, output changes, and cost. Follows Terraform's JSON output format (format_version 1.x).
 * Everything taken from the plan is escaped for GitHub Flavored Markdown, and the whole summary stays
 * within a size budget that fits a pull-request comment.
 */
import { codeSpan } from "../markdown";
import { ALL_CONTROL_CHARACTERS } from "../settings/service-rules";

export type Action = "create" | "update" | "replace" | "delete" | "forget" | "read" | "no-op";

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
  previous_address?: string;
  module_address?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  change: OutputChange & { replace_paths?: (string | number)[][]; importing?: { id?: string; identity?: unknown } };
  action_reason?: string;
}

export interface PlanJson {
  format_version?: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, OutputChange>;
}

export interface SummaryOptions {
  /** The commit the plan was made from, shown so a reader knows which push it describes. */
  readonly commit?: string;
  /** The workflow run that made the plan (its logs and the plan artifact). */
  readonly runUrl?: string;
  /** Upper bound on the summary's size in UTF-8 bytes. @default SUMMARY_BUDGET */
  readonly maxBytes?: number;
  /** Level of the title heading; sections are one level below. @default 2 */
  readonly headingLevel?: number;
}

/** GitHub refuses an issue or pull-request comment longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** The summary's default budget: the comment's limit less room for the marker the workflow adds. */
export const SUMMARY_BUDGET = 60_000;

export function actionOf(actions: string[]): Action {
  const key = [...actions].sort().join(",");
  // create+forget: a replacement whose old object is left in AWS (lifecycle destroy = false).
  if (key === "create,delete" || key === "create,forget") return "replace";
  if (key === "create" || key === "update" || key === "delete" || key === "read" || key === "forget") return key;
  return "no-op";
}

const ACTION_ORDER = ["delete", "replace", "forget", "update", "create", "import"] as const;
type Row = (typeof ACTION_ORDER)[number];
const ACTION_LABEL: Record<Action | Row, string> = {
  delete: "destroy",
  replace: "replace",
  forget: "forget",
  update: "change",
  create: "add",
  import: "import",
  read: "read",
  "no-op": "no-op",
};

export interface ChangeCounts {
  create: number;
  update: number;
  replace: number;
  delete: number;
  forget: number;
  import: number;
  move: number;
}

/** Counts of managed-resource changes, as in Terraform's "Plan:" line, plus moves. */
export function countChanges(plan: PlanJson): ChangeCounts {
  const counts: ChangeCounts = { create: 0, update: 0, replace: 0, delete: 0, forget: 0, import: 0, move: 0 };
  for (const change of managed(plan)) {
    const action = actionOf(change.change.actions);
    if (action !== "no-op" && action !== "read") counts[action]++;
    if (change.change.importing) counts.import++;
    if (isMove(change)) counts.move++;
  }
  return counts;
}

const managed = (plan: PlanJson) => (plan.resource_changes ?? []).filter((c) => c.mode === "managed");
const isMove = (change: ResourceChange) => change.previous_address !== undefined && change.previous_address !== change.address;

/** A path like ["network_configuration", 0, "subnets"] as "network_configuration[0].subnets". */
export function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");
}

export const UNKNOWN = "(known after apply)";
export const SENSITIVE = "(sensitive)";

/**
 * A value with Terraform's unknown and sensitive markers laid over it, at any depth: an unknown list
 * element or map key reads "(known after apply)" (Terraform's JSON has null, or no key at all, there),
 * a sensitive one "(sensitive)".
 */
export function renderValue(value: unknown, unknown?: unknown, sensitive?: unknown): string {
  if (sensitive === true) return SENSITIVE;
  if (unknown === true) return UNKNOWN;
  const at = (container: unknown, key: string | number) =>
    container !== null && typeof container === "object" ? (container as Record<string | number, unknown>)[key] : undefined;
  if (Array.isArray(value) || Array.isArray(unknown)) {
    const length = Math.max(Array.isArray(value) ? value.length : 0, Array.isArray(unknown) ? unknown.length : 0);
    return `[${Array.from({ length }, (_, i) => renderValue(at(value, i), at(unknown, i), at(sensitive, i))).join(", ")}]`;
  }
  const isObject = (v: unknown) => v !== null && typeof v === "object";
  if (isObject(value) || isObject(unknown)) {
    const keys = new Set([
      ...Object.keys(isObject(value) ? (value as object) : {}),
      ...Object.entries(isObject(unknown) ? (unknown as object) : {})
        .filter(([, u]) => u !== false)
        .map(([k]) => k),
    ]);
    return `{${[...keys]
      .sort()
      .map((key) => `${JSON.stringify(key)}: ${renderValue(at(value, key), at(unknown, key), at(sensitive, key))}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const MAX_VALUE_LENGTH = 80;

/** An output or attribute value for display: sensitive and unknown values are never shown. */
export function displayValue(change: OutputChange): string {
  if (change.after_sensitive === true || (change.after_sensitive === undefined && change.before_sensitive === true)) return SENSITIVE;
  if (change.after_unknown === true) return UNKNOWN;
  if (change.actions.includes("delete") && !change.actions.includes("create")) return "(removed)";
  const text = renderValue(change.after, change.after_unknown, change.after_sensitive);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/**
 * Text from a plan as Markdown prose or a table cell that renders as the text itself: control characters and line
 * breaks become spaces (no forged line or row), and every character with inline Markdown or HTML meaning
 * (links, emphasis, code, tags, entities, strikethrough, cell separators) is backslash-escaped.
 */
export function markdownText(text: string): string {
  return text.replace(ALL_CONTROL_CHARACTERS, " ").replace(/[\\`*_[\]<>|~&!]/g, (c) => `\\${c}`);
}

const REPLACE_REASON: Record<string, string> = {
  replace_because_tainted: "tainted",
  replace_by_request: "replacement requested (-replace)",
  replace_by_triggers: "replace_triggered_by",
};
const DELETE_REASON: Record<string, string> = {
  delete_because_no_resource_config: "no longer in the configuration",
  delete_because_no_module: "its module is no longer in the configuration",
  delete_because_wrong_repetition: "count or for_each changed",
  delete_because_count_index: "count no longer includes it",
  delete_because_each_key: "for_each no longer includes it",
  delete_because_no_move_target: "moved to an address that does not exist",
};

/** The address without the resource type, which the table already shows (`network_vpc` for `aws_vpc.network_vpc`). */
function readableAddress(change: ResourceChange): string {
  const prefix = change.module_address ? `${change.module_address}.` : "";
  return change.address.slice(prefix.length).replace(`${change.type}.`, prefix);
}

interface Sections {
  readonly changes: ResourceChange[];
  readonly dangerous: ResourceChange[];
  readonly moves: ResourceChange[];
  readonly imports: ResourceChange[];
  readonly forgets: ResourceChange[];
  readonly rows: { action: Row; type: string; changes: ResourceChange[] }[];
  readonly outputs: [string, OutputChange][];
}

function sectionsOf(plan: PlanJson): Sections {
  const all = managed(plan);
  const changes = all.filter((c) => !["no-op", "read"].includes(actionOf(c.change.actions)));
  const groups = new Map<string, { action: Row; type: string; changes: ResourceChange[] }>();
  for (const change of all) {
    const action = actionOf(change.change.actions);
    const row: Row | undefined = action === "no-op" ? (change.change.importing ? "import" : undefined) : action === "read" ? undefined : action;
    if (!row) continue;
    const key = `${row}\u0000${change.type}`;
    if (!groups.has(key)) groups.set(key, { action: row, type: change.type, changes: [] });
    groups.get(key)!.changes.push(change);
  }
  const rows = [...groups.values()].sort((a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) || a.type.localeCompare(b.type));
  return {
    changes,
    dangerous: changes.filter((c) => ["delete", "replace"].includes(actionOf(c.change.actions))),
    moves: all.filter(isMove),
    imports: all.filter((c) => c.change.importing),
    forgets: changes.filter((c) => actionOf(c.change.actions) === "forget"),
    rows,
    outputs: Object.entries(plan.output_changes ?? {})
      .filter(([, o]) => actionOf(o.actions) !== "no-op")
      .sort(([a], [b]) => a.localeCompare(b)),
  };
}

/**
 * How much detail a rendering keeps: 0 everything; 1 long lists collapsed (addresses cut short, long
 * destroy and state lists counted by type); 2 counts by type only.
 */
type Detail = 0 | 1 | 2;
const LIST_LIMIT = 25;
const ADDRESS_LIMIT = 8;

function dangerLine(change: ResourceChange): string {
  const action = actionOf(change.change.actions);
  let why = "";
  if (action === "replace") {
    const forcedBy = (change.change.replace_paths ?? []).map((p) => codeSpan(formatPath(p)));
    const reason = change.action_reason ? REPLACE_REASON[change.action_reason] : undefined;
    why = forcedBy.length ? ` — forced by ${forcedBy.join(", ")}` : reason ? ` — ${reason}` : "";
  } else if (change.action_reason && DELETE_REASON[change.action_reason]) {
    why = ` — ${DELETE_REASON[change.action_reason]}`;
  }
  return `- ⚠️ **${ACTION_LABEL[action]}** ${codeSpan(change.address)}${why}`;
}

/** Lines for a list, cut to `limit` entries with a count of the rest. */
function limited<T>(items: T[], line: (item: T) => string, limit: number, rest: (n: number) => string): string[] {
  const shown = items.slice(0, limit).map(line);
  return items.length > limit ? [...shown, rest(items.length - limit)] : shown;
}

/** Entries grouped by action and type, as "- **destroy** 3 × `aws_subnet`". */
function groupedLines(items: ResourceChange[], label: (c: ResourceChange) => string, prefix: string): string[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(`${label(item)}\u0000${item.type}`, (counts.get(`${label(item)}\u0000${item.type}`) ?? 0) + 1);
  return [...counts.entries()].map(([key, n]) => {
    const [action, type] = key.split("\u0000");
    return `- ${prefix}**${action}** ${n} × ${codeSpan(type)}`;
  });
}

function render(plan: PlanJson, sections: Sections, costSection: string | undefined, options: SummaryOptions, detail: Detail): string {
  const level = options.headingLevel ?? 2;
  const h = (depth: number, text: string) => `${"#".repeat(level + depth)} ${text}`;
  const counts = countChanges(plan);
  const lines: string[] = [h(0, "Terraform plan"), ""];
  const context = [
    options.commit ? `Commit ${codeSpan(options.commit.slice(0, 12))}` : "",
    options.runUrl ? `[workflow run](<${options.runUrl.replace(/[<>\s]/g, encodeURIComponent)}>)` : "",
  ].filter(Boolean);
  if (context.length) lines.push(context.join(" · "), "");

  const extras = [
    counts.import ? `${counts.import} to import` : "",
    counts.forget ? `${counts.forget} to forget` : "",
    counts.move ? `${counts.move} moved` : "",
  ].filter(Boolean);
  if (sections.changes.length === 0 && extras.length === 0 && sections.outputs.length === 0) {
    lines.push("**No changes.** The infrastructure matches the configuration.", "");
  } else {
    const base = `${counts.create} to add, ${counts.update} to change, ${counts.replace} to replace, ${counts.delete} to destroy`;
    lines.push(`**Plan:** ${[base, ...extras].join(", ")}.`, "");
  }

  if (sections.dangerous.length) {
    lines.push(h(1, "⚠️ Destroys and replacements"), "");
    // Never cut short: past the limit, every destroy and replacement is still counted, by type.
    if (detail === 0 || sections.dangerous.length <= LIST_LIMIT) lines.push(...sections.dangerous.map(dangerLine));
    else lines.push(...groupedLines(sections.dangerous, (c) => ACTION_LABEL[actionOf(c.change.actions)], "⚠️ "));
    lines.push("");
  }

  const stateOnly = [...sections.moves, ...sections.imports, ...sections.forgets];
  if (stateOnly.length) {
    lines.push(h(1, "Moves, imports and removals from state"), "");
    const stateLine = (c: ResourceChange) => {
      if (actionOf(c.change.actions) === "forget") return `- **forget** ${codeSpan(c.address)} — removed from state only; the object stays in AWS`;
      if (c.change.importing)
        return `- **import** ${codeSpan(c.address)}${c.change.importing.id ? ` from id ${codeSpan(c.change.importing.id)}` : ""}`;
      return `- **moved** ${codeSpan(c.previous_address!)} → ${codeSpan(c.address)}`;
    };
    const kind = (c: ResourceChange) => (actionOf(c.change.actions) === "forget" ? "forget" : c.change.importing ? "import" : "moved");
    if (detail === 0 || stateOnly.length <= LIST_LIMIT) lines.push(...stateOnly.map(stateLine));
    else lines.push(...groupedLines(stateOnly, kind, ""));
    lines.push("");
  }

  if (sections.rows.length) {
    lines.push(h(1, "Resource changes"), "");
    if (detail < 2) {
      lines.push("| action | resource type | count | addresses |", "|---|---|---:|---|");
      for (const row of sections.rows) {
        const addresses = row.changes.map((c) => codeSpan(readableAddress(c), true));
        const shown =
          detail === 0 || addresses.length <= ADDRESS_LIMIT
            ? addresses
            : [...addresses.slice(0, ADDRESS_LIMIT), `… and ${addresses.length - ADDRESS_LIMIT} more`];
        lines.push(`| ${ACTION_LABEL[row.action]} | ${codeSpan(row.type, true)} | ${row.changes.length} | ${shown.join(", ")} |`);
      }
    } else {
      lines.push("| action | resource type | count |", "|---|---|---:|");
      for (const row of sections.rows) lines.push(`| ${ACTION_LABEL[row.action]} | ${codeSpan(row.type, true)} | ${row.changes.length} |`);
    }
    lines.push("");
  }

  if (sections.outputs.length) {
    lines.push(h(1, "Output changes"), "");
    if (detail < 2) {
      lines.push("| output | action | value |", "|---|---|---|");
      const outputLine = ([name, change]: [string, OutputChange]) => {
        const value = displayValue(change);
        const cell = [UNKNOWN, SENSITIVE, "(removed)"].includes(value) ? value : codeSpan(value, true);
        return `| ${codeSpan(name, true)} | ${ACTION_LABEL[actionOf(change.actions)]} | ${cell} |`;
      };
      lines.push(...limited(sections.outputs, outputLine, detail === 0 ? Infinity : LIST_LIMIT, (n) => `| … and ${n} more | | |`));
    } else {
      lines.push(`${sections.outputs.length} outputs change (see the workflow run).`);
    }
    lines.push("");
  }

  if (costSection) lines.push(costSection.replace(/^### /gm, `${"#".repeat(level + 1)} `), "");
  if (detail > 0) lines.push(`_This plan is large: the summary is shortened to fit a comment; the workflow run has the whole plan._`, "");
  return `${lines.join("\n").trimEnd()}\n`;
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

export function summarizePlan(plan: PlanJson, costSection?: string, options: SummaryOptions = {}): string {
  const budget = options.maxBytes ?? SUMMARY_BUDGET;
  const sections = sectionsOf(plan);
  for (const detail of [0, 1, 2] as Detail[]) {
    const text = render(plan, sections, costSection, options, detail);
    if (bytes(text) <= budget) return text;
  }
  // Last resort: cut at a line boundary, and say so.
  const note = "\n… (cut to fit a comment; the workflow run has the whole plan)\n";
  let text = render(plan, sections, costSection, options, 2);
  while (text && bytes(text) + bytes(note) > budget) text = text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1);
  return `${text.trimEnd()}${note}`;
}
