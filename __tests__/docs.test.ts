import { readFileSync } from "node:fs";
import { join } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { currentSettingsReference } from "../scripts/settings-reference";
import { PLAN_TIME_KEYS, SECRET_KEYS, SETTING_KEYS, settingsSchema } from "../src/settings";
import { settingsReference, UNSET_MEANS } from "../src/settings/reference";

/** The docs as GitHub shows them: read with micromark and its GFM extension (the reference parser GitHub's renderer follows). */
const ROOT = join(__dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

const render = (markdown: string) => micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
const decode = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .trim();

describe("the settings reference (docs/settings.md)", () => {
  /** The reference's tables as rows of cell texts, keyed by the setting each row documents. */
  const rowsOf = (markdown: string) =>
    new Map(
      [...render(markdown).matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
        .map(([, row]) => [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) => cell))
        .filter((cells) => cells.length > 0)
        .map((cells) => [/^<code>([a-z0-9_]+)<\/code>/.exec(cells[0])?.[1] ?? "", cells] as const),
    );
  const schemaSource = read("src/settings/schema.ts");
  const example = read("terraform.tfvars.example");

  it("GIVEN the schema and terraform.tfvars.example THEN docs/settings.md is exactly what npm run docs:settings writes", () => {
    expect(read("docs/settings.md"), "docs/settings.md is out of date: run npm run docs:settings").toBe(currentSettingsReference());
  });

  it("GIVEN every settings key THEN it has exactly one row of five cells, with the schema's default", () => {
    const markdown = settingsReference(schemaSource, example);
    const rows = rowsOf(markdown);
    expect([...rows.keys()].sort()).toEqual([...SETTING_KEYS].sort());
    expect(markdown.match(/^\| `[a-z0-9_]+`/gm)).toHaveLength(SETTING_KEYS.length);
    for (const [key, cells] of rows) {
      expect(cells, key).toHaveLength(5);
      // What the schema fills in for an unset key; these defaults (strings, numbers, booleans, [], {}) read the same in JSON and HCL.
      const fallback = settingsSchema.shape[key as keyof typeof settingsSchema.shape].safeParse(undefined).data;
      if (fallback !== undefined) expect(decode(cells[2]), key).toBe(JSON.stringify(fallback));
    }
  });

  it("GIVEN the secret and plan-time keys THEN exactly those rows carry the marks", () => {
    const rows = rowsOf(settingsReference(schemaSource, example));
    for (const [key, [cell]] of rows) {
      const marks = decode(cell.replace(/<code>[\s\S]*?<\/code>/, ""));
      expect(marks.includes("secret"), `${key} secret mark`).toBe((SECRET_KEYS as readonly string[]).includes(key));
      expect(marks.includes("plan time"), `${key} plan-time mark`).toBe((PLAN_TIME_KEYS as readonly string[]).includes(key));
    }
  });

  it("GIVEN a description holding pipes, emphasis, HTML, a link and backticks THEN it renders as one cell that reads as written", () => {
    const hostile = "a | b *not emphasis* <b>bold?</b> [link](https://example.com) 1 < 2 & `code | pipe` _x_ ~y~ # end";
    const changed = example.replace(/^# vpc_cidr = "10\.0\.0\.0\/16" .*$/m, `# vpc_cidr = "10.0.0.0/16"   # ${hostile}`);
    expect(changed).not.toBe(example);
    const cells = rowsOf(settingsReference(schemaSource, changed)).get("vpc_cidr")!;
    expect(cells).toHaveLength(5);
    expect(cells[4]).not.toMatch(/<(em|b|a|strong|del)\b/);
    expect(cells[4]).toContain("<code>code | pipe</code>");
    const asWritten = hostile.charAt(0).toUpperCase() + hostile.slice(1);
    expect(decode(cells[4])).toBe(asWritten.replace("`code | pipe`", "code | pipe"));
  });

  it("GIVEN the keys the schema leaves without a default THEN only those say what unset means", () => {
    const withDefault = SETTING_KEYS.filter((key) => settingsSchema.shape[key].safeParse(undefined).data !== undefined);
    expect(Object.keys(UNSET_MEANS).filter((key) => withDefault.includes(key as (typeof SETTING_KEYS)[number]))).toEqual([]);
  });
});
