import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProject } from "./support/project";

/**
 * Every shell block README.md and docs/ mark `<!-- recipe: offline -->` (the recipes that need no AWS, Prefect
 * or Docker) runs as written, in a copy of the project: README's first, in order, as a newcomer follows them;
 * then each docs page's blocks in a copy of that state. Two commands are left to CI itself, which runs them on a
 * clean clone: `npm ci` (the copy links this checkout's node_modules) and `npm test` (this suite).
 */
const ROOT = join(__dirname, "..");
const MARK = "<!-- recipe: offline -->";
const LEFT_TO_CI = /^(npm ci|npm test)$/;

interface Recipe {
  readonly page: string;
  readonly line: number;
  readonly script: string;
}

/** The marked fenced blocks of a page (the mark on the line before the fence). */
function recipesOf(page: string): Recipe[] {
  const lines = readFileSync(join(ROOT, page), "utf8").split("\n");
  const recipes: Recipe[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== MARK) return;
    expect(lines[i + 1], `${page}:${i + 1}: ${MARK} must sit right above a bash or sh block`).toMatch(/^```(bash|sh)$/);
    const end = lines.indexOf("```", i + 2);
    recipes.push({ page, line: i + 2, script: lines.slice(i + 2, end).join("\n") });
  });
  return recipes;
}

/** A script's commands as run: comments dropped, `a && b` split, the two CI runs itself left out. */
const commandsOf = (script: string) =>
  script
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line && !line.startsWith("#"))
    .flatMap((line) => line.split(/\s*&&\s*/));

function run(dir: string, recipe: Recipe) {
  const script = ["set -euo pipefail", ...commandsOf(recipe.script).filter((c) => !LEFT_TO_CI.test(c))].join("\n");
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: undefined };
  for (const name of Object.keys(env)) if (name.startsWith("TF_VAR_")) delete env[name];
  return spawnSync("bash", ["-c", script], { cwd: dir, env, encoding: "utf8" });
}

const DOCS = readdirSync(join(ROOT, "docs"))
  .filter((name) => name.endsWith(".md"))
  .map((name) => `docs/${name}`);
const README = recipesOf("README.md");
const BY_PAGE = DOCS.map((page) => [page, recipesOf(page)] as const).filter(([, recipes]) => recipes.length);

describe("recipes that need no AWS run as written", () => {
  it("marks the quick start, the settings file, the starter profile, the cost estimate and the template", () => {
    const commands = [...README, ...BY_PAGE.flatMap(([, r]) => r)].flatMap((r) => commandsOf(r.script));
    for (const expected of [
      "npm run synth",
      "cp terraform.tfvars.example terraform.tfvars",
      "cp examples/starter.tfvars environments/starter.tfvars",
      "npm run cost -- starter",
      "npm run --silent template > base-job-template.json",
    ])
      expect(commands).toContain(expected);
  });

  const base = copyProject(ROOT);
  it.each(README.map((r) => [`README.md:${r.line}`, r] as const))("%s", (_, recipe) => {
    const result = run(base, recipe);
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  });

  it("GIVEN the README's recipes THEN the stack is synthesized and the settings file is in place", () => {
    expect(existsSync(join(base, "cdktf.out", "stacks", "prefect-ecs-dev", "cdk.tf.json"))).toBe(true);
    expect(existsSync(join(base, "terraform.tfvars"))).toBe(true);
  });

  it.each(BY_PAGE.map(([page, recipes]) => [page, recipes] as const))("%s", (page, recipes) => {
    const dir = `${base}-${page.replace(/\W/g, "_")}`;
    cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
    for (const recipe of recipes) {
      const result = run(dir, recipe);
      expect(result.status, `${page}:${recipe.line}\n${result.stdout}\n${result.stderr}`).toBe(0);
    }
  });
});
