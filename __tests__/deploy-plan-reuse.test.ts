import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type PlanMetadata, planHasChanges, reuseDecision } from "../src/review/plan-metadata";

const ROOT = join(__dirname, "..");
const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "fixtures", "plans", name), "utf8"));

const META: PlanMetadata = {
  tree: "a".repeat(40),
  stack: "prefect-ecs-dev",
  environment: "",
  tfvarsSha256: "b".repeat(64),
  terraformVersion: "1.11.4",
};

describe("whether a deploy may apply the pull request's plan", () => {
  it("GIVEN the pull request planned exactly this tree, stack, environment, settings and Terraform THEN it is reused", () => {
    expect(reuseDecision({ ...META }, META)).toMatchObject({ reuse: true });
  });

  it.each([
    ["tree", "main moved"],
    ["stack", "stack differs"],
    ["environment", "environment differs"],
    ["tfvarsSha256", "PREFECT_ECS_TFVARS changed"],
    ["terraformVersion", "Terraform version differs"],
  ] as const)("GIVEN a different %s THEN main is planned again (%s)", (field, reason) => {
    const decision = reuseDecision({ ...META, [field]: "other" }, META);
    expect(decision.reuse).toBe(false);
    expect(decision.reason).toContain(reason);
  });

  it("GIVEN no saved plan THEN main is planned", () => {
    expect(reuseDecision(undefined, META)).toEqual({ reuse: false, reason: "no plan from a pull request was found" });
  });
});

describe("whether a plan changes anything (the apply job, and its approval, are skipped when not)", () => {
  it("GIVEN a no-op plan THEN no; GIVEN updates, replacements and destroys THEN yes", () => {
    expect(planHasChanges(fixture("no-op.json"))).toBe(false);
    expect(planHasChanges(fixture("update-replace-delete.json"))).toBe(true);
  });

  it("GIVEN only a move, an import, a forget or an output change THEN yes: each changes state", () => {
    const noop = { mode: "managed", address: "a.b", change: { actions: ["no-op"] } };
    expect(planHasChanges({ resource_changes: [{ ...noop, previous_address: "a.old" }] })).toBe(true);
    expect(planHasChanges({ resource_changes: [{ ...noop, change: { actions: ["no-op"], importing: { id: "x" } } }] })).toBe(true);
    expect(planHasChanges({ resource_changes: [{ ...noop, change: { actions: ["forget"] } }] })).toBe(true);
    expect(planHasChanges({ resource_changes: [noop], output_changes: { x: { actions: ["update"] } } })).toBe(true);
    expect(planHasChanges({ resource_changes: [{ mode: "data", change: { actions: ["read"] } }] })).toBe(false);
  });
});

describe("scripts/plan-metadata.ts in a git checkout", () => {
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  const script = join(ROOT, "scripts", "plan-metadata.ts");
  const git = (cwd: string, ...args: string[]) =>
    spawnSync("git", args, {
      cwd,
      encoding: "utf8",
      env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
    });

  function checkout(files: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-meta-"));
    git(dir, "init", "-q");
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "x");
    return dir;
  }
  const run = (cwd: string, ...args: string[]) => spawnSync(tsx, [script, ...args], { cwd, encoding: "utf8" });

  it("GIVEN a plan's metadata written on one checkout WHEN checked on a commit with the same tree THEN reuse; a changed file THEN not", () => {
    const pr = checkout({ "main.ts": "one", "terraform.tfvars": 'aws_region = "us-east-1"\n' });
    const written = run(pr, "write", "--stack", "prefect-ecs-dev");
    expect(written.status, written.stderr).toBe(0);
    const meta = JSON.parse(written.stdout);
    expect(meta.tree).toBe(git(pr, "rev-parse", "HEAD^{tree}").stdout.trim());
    const saved = join(pr, "..", `${meta.tree}.json`);
    writeFileSync(saved, written.stdout);

    // A squash merge: another commit, the same files.
    const squashed = checkout({ "main.ts": "one", "terraform.tfvars": 'aws_region = "us-east-1"\n' });
    const same = run(squashed, "check", saved, "--stack", "prefect-ecs-dev");
    expect(same.status, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toContain("Reusing the pull request's plan");

    const moved = checkout({ "main.ts": "two", "terraform.tfvars": 'aws_region = "us-east-1"\n' });
    const refused = run(moved, "check", saved, "--stack", "prefect-ecs-dev");
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("Not reusing the pull request's plan: main's files differ");

    writeFileSync(join(squashed, "terraform.tfvars"), 'aws_region = "eu-west-1"\n');
    expect(run(squashed, "check", saved, "--stack", "prefect-ecs-dev").stdout).toContain("PREFECT_ECS_TFVARS changed");
  });

  it("GIVEN a plan file WHEN asked whether it has changes THEN it prints true or false", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-meta-"));
    expect(run(dir, "has-changes", join(__dirname, "fixtures", "plans", "no-op.json")).stdout.trim()).toBe("false");
    expect(run(dir, "has-changes", join(__dirname, "fixtures", "plans", "update-replace-delete.json")).stdout.trim()).toBe("true");
  });
});
