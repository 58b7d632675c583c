import { existsSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { SettingsError } from "./index";

/** A settings file is a few kilobytes; anything near this size is not one. */
export const MAX_TFVARS_BYTES = 1024 * 1024;

/**
 * Reads a .tfvars file with HashiCorp's own HCL parser (@cdktf/hcl2json, the Go hcl library compiled to
 * WebAssembly), so the app reads exactly what Terraform will read. A missing file means "all defaults".
 */
export async function readTfvars(path: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) return {};
  // A FIFO, a device or a huge file would hang or exhaust the read; refuse before opening it.
  const stat = statSync(path);
  if (!stat.isFile()) throw new SettingsError(path, ["is not a regular file (a settings file must be a plain text file, not a device, pipe or folder)"]);
  if (stat.size > MAX_TFVARS_BYTES) {
    throw new SettingsError(path, [`is ${stat.size} bytes; a settings file is at most ${MAX_TFVARS_BYTES} bytes`]);
  }
  const name = basename(path);
  let parsed: Record<string, unknown>;
  try {
    parsed = await parse(name, readFileSync(path, "utf8"));
  } catch (error) {
    throw new SettingsError(path, [`is not valid HCL: ${describeHclError(String(error), name)}`]);
  }
  const expressions = Object.entries(parsed).filter(([, value]) => JSON.stringify(value).includes("${"));
  if (expressions.length) {
    throw new SettingsError(
      path,
      expressions.map(([key]) => `${key} uses an expression or interpolation; .tfvars values must be literal strings, numbers, bools, lists or maps`),
    );
  }
  return parsed;
}

/** Turns "parse config: [terraform.tfvars:3,5-4,1: Invalid expression; ...]" into "line 3, column 5: Invalid expression; ...". */
export function describeHclError(raw: string, fileName: string): string {
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+),(\\d+)(?:-[\\d,]+)?: ([^\\]]+)`).exec(raw);
  return match ? `line ${match[1]}, column ${match[2]}: ${match[3].trim()}` : raw.replace(/^Error: /, "");
}
