/**
 * The settings reference (docs/settings.md), generated: each key's type, default and allowed values are read
 * from the zod schema itself, its section from the schema's `// --- Heading` comments, and its description
 * from the comments beside it in terraform.tfvars.example. Pure: the caller passes both source texts in.
 */
import type { z } from "zod";
import { codeSpan } from "../markdown";
import { PREFECT_IMAGE } from "../versions";
import { PLAN_TIME_KEYS, SECRET_KEYS, type SettingKey, SETTING_KEYS, settingsSchema } from "./index";

/** What an unset key means, for the keys the schema gives no default (index.ts or Terraform resolves them). */
export const UNSET_MEANS: Partial<Record<SettingKey, string>> = {
  availability_zones: "looked up at plan: `az_count` AZs of `aws_region`",
  nat_instance_ami_id: "the latest Amazon Linux 2023 arm64 image, looked up at plan",
  prefect_api_url: "Prefect Cloud",
  work_pool_name: "`<environment>-<project_name>`",
  flow_run_image: `the flows repository at \`flow_run_image_tag\`, else \`${PREFECT_IMAGE}\``,
  flow_run_image_tag: `none: the pool defaults to \`${PREFECT_IMAGE}\` and each deployment names its own \`sha-<commit>\` image`,
  flow_run_capacity: '`"fargate_spot"` with `flow_run_spot = true`, else `"fargate"`',
  flow_run_instance_type: '`"m7i.large"`, or `"m7g.large"` with `flow_run_cpu_architecture = "ARM64"`',
  flow_run_ami_id: "the current ECS-optimized Amazon Linux 2023 image of `flow_run_cpu_architecture`, looked up at plan",
  worker_min_count: "`worker_desired_count`",
  worker_max_count: "`worker_min_count` (no autoscaling)",
  container_insights: "on exactly when alarms are (`alarm_email` or `alarm_sns_topic_arn` set)",
  prefect_server_public_cidrs: 'none: required with the listener; `["0.0.0.0/0"]` opens it to everyone, on purpose',
  prefect_server_db_password: "none (required with `prefect_server`)",
  service_discovery_namespace: "none (the in-stack server gets `<name_prefix>.internal`)",
  state_bucket: "none: local state",
  state_lock_table: "`<project_name>-terraform-locks`",
  state_region: "`aws_region`",
};

/** Where the reference's one link for rules beyond a key's own format points. */
export const MORE_RULES_LINK = "configuration.md#rules-beyond-each-keys-format";

// ---------------------------------------------------------------- Markdown

/** Plain text for a GFM table cell: every character Markdown would act on is escaped, and pipes never split the cell. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .replace(/[\\`*_[\]<>|~&#!]/g, (c) => `\\${c}`)
    .replace(/^([-+=])/, "\\$1")
    .replace(/\b(https?):\/\//g, "$1:\\/\\/")
    .replace(/\bwww\./g, "www\\.");
}

/** The docs page for each README section the sources still name ("see README "Self-hosted server"", "README: Operating it"). */
export const DOCS_FOR_README_SECTION: Readonly<Record<string, string>> = {
  "Internet egress": "architecture.md#internet-egress",
  "Self-hosted server": "self-hosted-server.md",
  "Operating it": "operations.md",
};

/**
 * Free text for a table cell or paragraph: `backticked` parts become code spans that show exactly what is
 * between the backticks, the rest is escaped, and a mention of a README section or of a docs/ page becomes a link
 * to that page (relative to docs/, where the reference lives).
 */
export function markdownText(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part) => (/^`[^`]+`$/.test(part) ? codeSpan(part.slice(1, -1), true) : escapeMarkdown(part)))
    .join("")
    .replace(/(?<!`)README(?:[:,] | )"?([A-Z][A-Za-z -]*[a-z])"?/g, (mention, section: string) =>
      DOCS_FOR_README_SECTION[section] ? `[${section}](${DOCS_FOR_README_SECTION[section]})` : mention,
    )
    .replace(/(?<![\w/`])docs\/([a-z-]+\.md)\b/g, "[docs/$1]($1)");
}

// ---------------------------------------------------------------- the schema

/** The parts of a zod 4 schema's or check's `def` the reference reads. */
interface Def {
  readonly type: string;
  readonly defaultValue?: unknown;
  readonly innerType?: unknown;
  readonly element?: unknown;
  readonly valueType?: unknown;
  readonly error?: unknown;
  readonly checks?: readonly unknown[];
  readonly check?: string;
}
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** An error option as zod 4 keeps it: a string, or a function of the issue returning one. */
function messageOf(error: unknown): string | undefined {
  const message = typeof error === "function" ? error({}) : error;
  return typeof message === "string" ? message : (message as { message?: string } | undefined)?.message;
}

interface KeyFacts {
  type: string;
  default?: unknown;
  optional: boolean;
  /** Messages the schema gives for wrong values, in order. */
  messages: string[];
  /** A check with no fixed message: a service rule that phrases its own sentence (see service-rules.ts). */
  hasRules: boolean;
}

function factsOf(schema: z.ZodType): KeyFacts {
  const facts: KeyFacts = { type: "", optional: false, messages: [], hasRules: false };
  const visit = (def: Def, element = false): string => {
    if (def.type === "default") {
      facts.default = typeof def.defaultValue === "function" ? def.defaultValue() : def.defaultValue;
      return visit(defOf(def.innerType));
    }
    if (def.type === "optional") {
      facts.optional = true;
      return visit(defOf(def.innerType));
    }
    const own = messageOf(def.error);
    if (own) facts.messages.push(own);
    for (const check of def.checks ?? []) {
      const message = messageOf(defOf(check).error);
      if (message) facts.messages.push(message);
      else if (defOf(check).check === "custom") facts.hasRules = true;
    }
    switch (def.type) {
      case "string":
      case "enum":
        return "string";
      case "number":
        return "number";
      case "boolean":
        return "bool";
      case "array":
        return `list(${visit(defOf(def.element), true)})`;
      case "record":
        return `map(${visit(defOf(def.valueType), true)})`;
      default:
        throw new Error(`settings reference: no Terraform type for a zod ${def.type}${element ? " element" : ""}`);
    }
  };
  facts.type = visit(defOf(schema));
  return facts;
}

/** The schema's messages as one phrase of what is allowed: "use …" and "expected a string: …" say the same thing twice. */
function allowedOf(messages: string[]): string {
  const phrases = messages.map((m) =>
    m
      .replace(/^expected (a string|a number|a list of strings): /, "")
      .replace(/^(use|expected) /, "")
      .trim(),
  );
  const distinct = phrases.filter((p, i) => phrases.indexOf(p) === i);
  return distinct.filter((p) => !distinct.some((other) => other !== p && other.includes(p))).join("; ");
}

/** A default as it would be written in terraform.tfvars. */
function hcl(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(hcl).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length ? `{ ${entries.map(([k, v]) => `${k} = ${hcl(v)}`).join(", ")} }` : "{}";
  }
  return String(value);
}

/** The `// --- Heading` comments of settingsSchema's source, with the keys under each, in source order. */
export function sectionsOf(schemaSource: string): { heading: string; note?: string; keys: SettingKey[] }[] {
  const start = schemaSource.indexOf("export const settingsSchema");
  const end = schemaSource.indexOf(".strict()", start);
  if (start < 0 || end < 0) throw new Error("settings reference: settingsSchema's object not found in the schema source");
  const sections: { heading: string; note?: string; keys: SettingKey[] }[] = [];
  for (const line of schemaSource.slice(start, end).split("\n")) {
    const heading = /^\s*\/\/ --- (.+)$/.exec(line);
    if (heading) {
      sections.push(splitHeading(heading[1].trim()));
      continue;
    }
    const key = /^ {4}([a-z][a-z0-9_]*):/.exec(line)?.[1];
    if (key && (SETTING_KEYS as string[]).includes(key)) {
      if (!sections.length) throw new Error(`settings reference: ${key} comes before the first // --- heading`);
      sections[sections.length - 1].keys.push(key as SettingKey);
    }
  }
  return sections;
}

/** "In-stack server (opt-in): what it runs" → heading "In-stack server (opt-in)", note "What it runs" (a colon inside parentheses stays). */
function splitHeading(text: string): { heading: string; note?: string; keys: SettingKey[] } {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === ":" && depth === 0) {
      const note = text.slice(i + 1).trim();
      return { heading: text.slice(0, i).trim(), note: note.charAt(0).toUpperCase() + note.slice(1), keys: [] };
    }
  }
  return { heading: text, keys: [] };
}

// ---------------------------------------------------------------- terraform.tfvars.example

interface ExampleEntry {
  /** The value written in the example (commented out or not). */
  value: string;
  description: string;
}

/** Splits `value   # comment` at the first # outside a quoted string. */
function splitComment(text: string): [string, string] {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"' && text[i - 1] !== "\\") quoted = !quoted;
    else if (text[i] === "#" && !quoted) return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
  }
  return [text.trim(), ""];
}

const sentence = (text: string) => {
  const t = text.trim();
  return t && t.charAt(0).toUpperCase() + t.slice(1);
};

/**
 * Each key's example line in terraform.tfvars.example and what its comments say: the comment lines directly
 * above it (not a `# ---` ruler), the comment after its value, and the `#   # …` lines that continue that comment.
 */
export function exampleEntries(example: string): Map<SettingKey, ExampleEntry> {
  const lines = example.split("\n");
  const entries = new Map<SettingKey, ExampleEntry>();
  const isContinuation = (line: string) => /^#\s{2,}#/.test(line);
  const assignment = (line: string) => /^#? ?([a-z][a-z0-9_]*)\s+=\s*(.*)$/.exec(line);
  lines.forEach((line, i) => {
    const match = assignment(line);
    if (!match || !(SETTING_KEYS as string[]).includes(match[1])) return;
    const [value, comment] = splitComment(match[2]);
    const above: string[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const prev = lines[j];
      if (!prev.startsWith("#") || /^# ?-{3,}/.test(prev) || isContinuation(prev) || assignment(prev)) break;
      above.unshift(prev.replace(/^#\s?/, "").trim());
    }
    const after: string[] = comment ? [comment] : [];
    for (let j = i + 1; j < lines.length && isContinuation(lines[j]); j++) after.push(lines[j].replace(/^#\s+#\s?/, "").trim());
    const parts = [above.join(" "), after.join(" ")].map(sentence).filter(Boolean);
    const description = parts.map((p, n) => (n < parts.length - 1 && !/[.:;!?]$/.test(p) ? `${p}.` : p)).join(" ");
    entries.set(match[1] as SettingKey, { value, description });
  });
  return entries;
}

// ---------------------------------------------------------------- the page

const squash = (text: string) => text.replace(/\s+/g, "");

/** One table row per key: key (with its marks), type, default, allowed values, and what the example file says of it. */
function row(key: SettingKey, example: ExampleEntry | undefined): string {
  const facts = factsOf(settingsSchema.shape[key] as z.ZodType);
  const marks = [
    (SECRET_KEYS as readonly string[]).includes(key) ? "secret" : undefined,
    (PLAN_TIME_KEYS as readonly string[]).includes(key) ? "plan time" : undefined,
  ].filter(Boolean);
  const keyCell = `${codeSpan(key, true)}${marks.length ? `<br>*${marks.join(", ")}*` : ""}`;
  const defaultCell =
    facts.default !== undefined ? codeSpan(hcl(facts.default), true) : markdownText(UNSET_MEANS[key] ?? (facts.optional ? "none" : "(required)"));
  const allowed = markdownText(allowedOf(facts.messages)) + (facts.hasRules ? ` ([more rules](${MORE_RULES_LINK}))` : "");
  let description = example?.description ? markdownText(example.description) : "";
  // The example's value is shown when it is not simply the default (never a credential's placeholder).
  const showExample =
    example !== undefined &&
    !(SECRET_KEYS as readonly string[]).includes(key) &&
    (facts.default === undefined || squash(example.value) !== squash(hcl(facts.default)));
  if (showExample) description += `${description === "" ? "" : description.endsWith(".") ? " " : ". "}Example: ${codeSpan(example.value, true)}`;
  return `| ${keyCell} | ${facts.type} | ${defaultCell} | ${allowed} | ${description} |`;
}

/** GitHub's anchor for a heading of plain text. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");

/** docs/settings.md: the whole page, from the schema's source text and terraform.tfvars.example. */
export function settingsReference(schemaSource: string, example: string): string {
  const sections = sectionsOf(schemaSource);
  const listed = sections.flatMap((s) => s.keys);
  const missing = SETTING_KEYS.filter((key) => !listed.includes(key));
  if (missing.length) throw new Error(`settings reference: ${missing.join(", ")} not found under a // --- heading in the schema source`);
  const entries = exampleEntries(example);
  const out = [
    "# Settings reference",
    "",
    "<!-- Generated by `npm run docs:settings` from src/settings/schema.ts and terraform.tfvars.example. Do not edit: a test fails when this file differs from what the generator writes. -->",
    "",
    `Every key \`terraform.tfvars\` (and \`environments/<name>.tfvars\`) may set, ${SETTING_KEYS.length} in all, grouped as in the schema. ` +
      "*type* is the Terraform type, *default* what an unset key means, *allowed* what the app accepts (its error message says the same), " +
      "and the last column what `terraform.tfvars.example` says of the key. Rules that involve a service's limits or other keys are " +
      `checked at synth too: see [Rules beyond each key's format](${MORE_RULES_LINK}). How the file is read: [Configuration](configuration.md).`,
    "",
    "Marks under a key:",
    "",
    "- *plan time*: a Terraform variable, read at plan from the file or from `TF_VAR_<key>`; the app checks it only when the file holds it.",
    "- *secret*: `sensitive` and `ephemeral` in Terraform, so never in `cdktf.out`, plans or state, and never shown in a message; pass it as `TF_VAR_<key>`.",
    "",
    "## Contents",
    "",
    ...sections.map((s) => `- [${markdownText(s.heading)}](#${slug(s.heading)})`),
  ];
  for (const section of sections) {
    out.push("", `## ${markdownText(section.heading)}`, "");
    if (section.note) out.push(markdownText(section.note), "");
    out.push("| key | type | default | allowed | what it does |", "|---|---|---|---|---|");
    for (const key of section.keys) out.push(row(key, entries.get(key)));
  }
  return `${out.join("\n")}\n`;
}
