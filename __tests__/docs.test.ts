import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { PREFECT_AWS_VERSION, PREFECT_VERSION } from "../src/versions";
import { currentOperationsDoc, currentSettingsReference } from "../scripts/settings-reference";
import { PLAN_TIME_KEYS, SECRET_KEYS, SETTING_KEYS, settingsSchema } from "../src/settings";
import { settingsReference, UNSET_MEANS } from "../src/settings/reference";

/**
 * The README and docs/ as GitHub shows them: read with micromark and its GFM extension (the CommonMark/GFM
 * reference parser GitHub's renderer follows), links taken from the rendered HTML, anchors by GitHub's slug rule.
 */
const ROOT = join(__dirname, "..");
const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
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

/** GitHub's heading anchors (github-slugger): lower case, punctuation and symbols dropped, spaces to '-', repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, , inner] of render(markdown).matchAll(/<h([1-6])[^>]*>([\s\S]*?)<\/h\1>/g)) {
    const base = decode(inner)
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count ? `${base}-${count}` : base);
  }
  return anchors;
}

/** Every link and image target of a page, as GitHub would follow it. */
const targetsOf = (markdown: string) =>
  [...render(markdown).matchAll(/<(?:a|img)\s[^>]*?(?:href|src)="([^"]*)"/g)].map(([, target]) => decode(target));

/**
 * The relative links among `pages` (path → Markdown) that do not resolve: a file or directory that does not
 * exist (in `pages` or on disk under `root`), a path leaving the repository, or an #anchor no heading of the
 * Markdown file it points into produces. Links with a scheme (https:, mailto:) are not followed.
 */
function brokenLinks(pages: Map<string, string>, root = ROOT): string[] {
  const broken: string[] = [];
  const anchors = new Map<string, Set<string>>();
  const anchorsIn = (path: string, text: string) => anchors.get(path) ?? anchors.set(path, anchorsOf(text)).get(path)!;
  for (const [page, markdown] of pages) {
    for (const target of targetsOf(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
      const [pathPart, anchor] = target.split("#", 2);
      const path = pathPart === "" ? page : normalize(join(dirname(page), decodeURIComponent(pathPart))).replace(/\/$/, "");
      if (relative(".", path).startsWith("..")) {
        broken.push(`${page}: ${target} leaves the repository`);
        continue;
      }
      const text =
        pages.get(path) ?? (existsSync(join(root, path)) ? (path.endsWith(".md") ? readFileSync(join(root, path), "utf8") : "") : undefined);
      if (text === undefined) broken.push(`${page}: ${target} (no ${path})`);
      else if (anchor !== undefined && path.endsWith(".md") && !anchorsIn(path, text).has(decodeURIComponent(anchor)))
        broken.push(`${page}: ${target} (no heading in ${path} makes #${anchor})`);
    }
  }
  return broken;
}

/** Each `npm run <script>` a text names (with or without --silent). */
const npmScriptsNamed = (text: string) =>
  [...text.matchAll(/\bnpm\s+run\s+(?:--silent\s+)?([A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+)*)/g)].map(([, name]) => name);
const SCRIPTS = Object.keys(JSON.parse(read("package.json")).scripts);

describe("README.md and docs/", () => {
  const pages = new Map(PAGES.map((page) => [page, read(page)]));

  it("GIVEN every relative link and #anchor in README.md and docs/*.md THEN each resolves to a file and a heading GitHub makes", () => {
    expect(PAGES.length).toBeGreaterThan(10);
    expect(brokenLinks(pages)).toEqual([]);
  });

  it("GIVEN a link to a missing page, a missing heading, a repeated heading's number and a path out of the repository THEN each is reported", () => {
    const fixture = new Map([
      ["README.md", "[a](docs/missing.md) [b](docs/page.md#nowhere) [c](docs/page.md#setup-2) [d](../outside.md) [ok](docs/page.md#setup-1)"],
      ["docs/page.md", "# Page\n\n## Setup\n\n## Setup\n\n[back](../README.md) [self](#page)\n"],
    ]);
    expect(brokenLinks(fixture, "/nonexistent")).toEqual([
      "README.md: docs/missing.md (no docs/missing.md)",
      "README.md: docs/page.md#nowhere (no heading in docs/page.md makes #nowhere)",
      "README.md: docs/page.md#setup-2 (no heading in docs/page.md makes #setup-2)",
      "README.md: ../outside.md leaves the repository",
    ]);
  });

  it("GIVEN headings with code, punctuation and parentheses THEN their anchors follow GitHub's slug rule", () => {
    expect([...anchorsOf("## Pipelines (`.github/workflows/`)\n\n## Rules beyond each key's format\n\n## Upgrades, backup and restore\n")]).toEqual([
      "pipelines-githubworkflows",
      "rules-beyond-each-keys-format",
      "upgrades-backup-and-restore",
    ]);
  });

  it("GIVEN every `npm run <script>` README.md and docs/*.md name THEN each is a script in package.json", () => {
    const named = PAGES.flatMap((page) => npmScriptsNamed(pages.get(page)!).map((name) => ({ page, name })));
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter(({ name }) => !SCRIPTS.includes(name))).toEqual([]);
    expect(npmScriptsNamed("run `npm run\nstatus`, npm run test:terraform: plans, then npm run --silent no-such-script")).toEqual([
      "status",
      "test:terraform",
      "no-such-script",
    ]);
  });

  it("GIVEN every Prefect version README.md, docs/*.md and terraform.tfvars.example name THEN each is src/versions.ts's", () => {
    const versionsIn = (text: string) => [
      ...[...text.matchAll(/prefect==(\d+\.\d+\.\d+)/g)].map(([, v]) => ({ pin: "prefect", v, want: PREFECT_VERSION })),
      ...[...text.matchAll(/prefect-aws==(\d+\.\d+\.\d+)/g)].map(([, v]) => ({ pin: "prefect-aws", v, want: PREFECT_AWS_VERSION })),
      ...[...text.matchAll(/prefecthq\/prefect:(\d+\.\d+\.\d+)-python/g)].map(([, v]) => ({ pin: "prefect image", v, want: PREFECT_VERSION })),
      ...[...text.matchAll(/prefect-aws:(\d+\.\d+\.\d+)-python[\d.]+-prefect(\d+\.\d+\.\d+)/g)].flatMap(([, aws, v]) => [
        { pin: "worker image's prefect-aws", v: aws, want: PREFECT_AWS_VERSION },
        { pin: "worker image's prefect", v, want: PREFECT_VERSION },
      ]),
    ];
    const found = [...PAGES, "terraform.tfvars.example"].flatMap((page) => versionsIn(read(page)).map((pin) => ({ page, ...pin })));
    expect(found.length).toBeGreaterThan(8);
    expect(found.filter(({ v, want }) => v !== want)).toEqual([]);
    expect(versionsIn('pip install "prefect==3.6.28"').map(({ v }) => v)).toEqual(["3.6.28"]);
  });

  it("GIVEN the README THEN it stays a guide a newcomer reads in minutes: at most 250 lines", () => {
    const lines = pages.get("README.md")!.split("\n");
    if (lines.at(-1) === "") lines.pop();
    expect(lines.length).toBeLessThanOrEqual(250);
  });
});

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

  it("GIVEN the recovery catalog THEN docs/operations.md's table of look-ups is exactly what npm run docs:settings writes", () => {
    expect(read("docs/operations.md"), "the recovery table is out of date: run npm run docs:settings").toBe(currentOperationsDoc());
    expect(read("docs/operations.md")).toContain("| `aws_nat_gateway` | its address tag |");
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
