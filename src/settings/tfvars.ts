import { existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { SettingsError } from "./index";

/** A settings file is a few kilobytes; anything near this size is not one. */
export const MAX_TFVARS_BYTES = 1024 * 1024;

/**
 * Reads a .tfvars file with HashiCorp's own HCL parser (@cdktf/hcl2json, the Go hcl library compiled to
 * WebAssembly), so the app reads exactly what Terraform will read. A missing file means "all defaults".
 */
export async function readTfvars(path: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) {
    // existsSync follows links: a link to nothing would otherwise read as "no file, all defaults".
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new SettingsError(path, ["is a link to a file that does not exist"]);
    return {};
  }
  // A FIFO, a device or a huge file would hang or exhaust the read; refuse before opening it.
  const stat = statSync(path);
  if (!stat.isFile())
    throw new SettingsError(path, ["is not a regular file (a settings file must be a plain text file, not a device, pipe or folder)"]);
  if (stat.size > MAX_TFVARS_BYTES) {
    throw new SettingsError(path, [`is ${stat.size} bytes; a settings file is at most ${MAX_TFVARS_BYTES} bytes`]);
  }
  const name = basename(path);
  // Loaded only when there is a file to read: the parser starts its WebAssembly (HashiCorp's Go HCL library) as
  // soon as it is imported, about 0.1 s and tens of MB that a synth without settings files does not need. Outside
  // the try below: a parser that cannot load is not the file's fault.
  const { parse } = await import("@cdktf/hcl2json");
  let parsed: Record<string, unknown>;
  try {
    parsed = await parse(name, readFileSync(path, "utf8"));
  } catch (error) {
    throw new SettingsError(path, [`is not valid HCL: ${describeHclError(String(error), name)}`]);
  }
  const expressions = Object.entries(parsed).filter(([, value]) => holdsTemplate(value));
  if (expressions.length) {
    throw new SettingsError(
      path,
      expressions.map(
        ([key]) => `${key} uses an expression, interpolation or directive; .tfvars values must be literal strings, numbers, bools, lists or maps`,
      ),
    );
  }
  return unescapeTemplates(parsed) as Record<string, unknown>;
}

/**
 * hcl2json returns strings as template source: `${…}` / `%{…}` are expressions and directives, while `$${` and
 * `%%{` are HCL's escapes for a literal `${` and `%{`.
 */
const UNESCAPED = /(^|[^$])\$\{|(^|[^%])%\{/;
const holdsTemplate = (value: unknown): boolean =>
  typeof value === "string" ? UNESCAPED.test(value) : value !== null && typeof value === "object" && Object.values(value).some(holdsTemplate);

/** The values Terraform will see: HCL's escapes resolved. */
function unescapeTemplates(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/\$\$\{/g, () => "${").replace(/%%\{/g, () => "%{");
  if (Array.isArray(value)) return value.map(unescapeTemplates);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescapeTemplates(v)]));
  return value;
}

/** Turns "parse config: [terraform.tfvars:3,5-4,1: Invalid expression; ...]" into "line 3, column 5: Invalid expression; ...". */
export function describeHclError(raw: string, fileName: string): string {
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+),(\\d+)(?:-[\\d,]+)?: ([^\\]]+)`).exec(raw);
  return match ? `line ${match[1]}, column ${match[2]}: ${match[3].trim()}` : raw.replace(/^Error: /, "");
}
