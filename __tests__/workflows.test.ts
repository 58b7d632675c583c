import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(__dirname, "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const VALIDATOR = join(ROOT, "node_modules", ".bin", "action-validator");
const FILES = [...readdirSync(WORKFLOWS).map((name) => join(WORKFLOWS, name)), join(ROOT, ".github", "actions", "prepare", "action.yml")];

const validate = (file: string) => spawnSync(VALIDATOR, [file], { encoding: "utf8" });
const workflow = (name: string) => parse(readFileSync(join(WORKFLOWS, name), "utf8"));
const stepsOf = (job: any): any[] => job.steps;
const uses = (job: any, action: string) => stepsOf(job).find((s) => s.uses?.startsWith(`${action}@`));

describe("GitHub Actions files", () => {
  it.each(FILES.map((file) => [file.slice(ROOT.length + 1), file]))("%s passes action-validator's schema check", (_name, file) => {
    const result = validate(file);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it("the validator rejects a broken workflow (so a pass means something)", () => {
    const broken = join(mkdtempSync(join(tmpdir(), "wf-")), "broken.yml");
    writeFileSync(broken, readFileSync(join(WORKFLOWS, "plan.yml"), "utf8").replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest"));
    expect(validate(broken).status).not.toBe(0);
  });

  it("pins every action to a major version and never uses npm ci", () => {
    for (const file of FILES) {
      const text = readFileSync(file, "utf8");
      for (const [, ref] of text.matchAll(/uses:\s*([^\s]+)/g)) if (!ref.startsWith("./")) expect(ref, file).toMatch(/@v\d+$/);
      const commands = text.split("\n").filter((line) => !line.trim().startsWith("#"));
      expect(commands.filter((line) => /npm ci\b/.test(line)), file).toEqual([]);
    }
  });
});

describe("plan workflow", () => {
  const wf = workflow("plan.yml");

  it("runs on pull requests, with no default token permissions", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({});
  });

  it("tests first: npm install and the README's npm test, with Terraform pinned and a provider mirror", () => {
    const runs = stepsOf(wf.jobs.test).map((s) => s.run ?? "");
    expect(runs).toContain("npm test");
    expect(runs.some((r) => r.includes("terraform providers mirror"))).toBe(true);
    expect(uses(wf.jobs.test, "hashicorp/setup-terraform").with.terraform_version).toBe("1.11.4");
    expect(wf.jobs.test.permissions).toEqual({ contents: "read" });
  });

  it("gets AWS credentials through OIDC from a role in a repository variable, never long-lived keys", () => {
    const aws = uses(wf.jobs.plan, "aws-actions/configure-aws-credentials");
    expect(aws.with).toEqual({ "role-to-assume": "${{ vars.AWS_PLAN_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}" });
    expect(wf.jobs.plan.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(JSON.stringify(wf)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
  });

  it("takes the credentials from secrets as TF_VAR_*", () => {
    expect(wf.jobs.plan.env.TF_VAR_prefect_api_key).toBe("${{ secrets.PREFECT_API_KEY }}");
    expect(wf.jobs.plan.env.TF_VAR_prefect_api_auth_string).toBe("${{ secrets.PREFECT_API_AUTH_STRING }}");
  });

  it("runs one plan per pull request, outside the deploy group, waiting for the state lock instead", () => {
    expect(wf.jobs.plan.concurrency).toEqual({ group: "prefect-ecs-plan-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    expect(stepsOf(wf.jobs.plan).find((s) => s.name === "Plan").run).toContain("-lock-timeout=10m");
  });

  it("plans with the real backend, summarizes into the job summary, uploads the plan, and keeps one PR comment", () => {
    const plan = stepsOf(wf.jobs.plan).find((s) => s.name === "Plan");
    expect(plan.run).toMatch(/terraform init -input=false\n/);
    expect(plan.run).toContain("-out=plan.bin");
    const summarize = stepsOf(wf.jobs.plan).find((s) => s.name === "Summarize");
    expect(summarize.run).toContain("npm run --silent plan-summary --");
    expect(summarize.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(uses(wf.jobs.plan, "actions/upload-artifact").with.path).toContain("plan.bin");
    const comment = uses(wf.jobs.plan, "actions/github-script").with.script;
    expect(comment).toContain("updateComment");
    expect(comment).toContain("<!-- prefect-ecs-plan -->");
  });
});

describe("shared preparation", () => {
  const action = parse(readFileSync(join(ROOT, ".github", "actions", "prepare", "action.yml"), "utf8"));
  const synthStep = action.runs.steps.find((s: any) => s.id === "synth");

  it("stops when the stack name cannot be found, instead of going on with an empty name", () => {
    expect(synthStep.run).toMatch(/^stack=\$\(npm run --silent stack-name -- \$ENVIRONMENT\)$/m);
  });

  it("refuses to run without remote state", () => {
    expect(synthStep.run).toContain("if (!j.terraform.backend.s3)");
    expect(synthStep.run).toContain("Set state_bucket in PREFECT_ECS_TFVARS");
  });
});

describe("deploy and destroy workflows", () => {
  const deploy = workflow("deploy.yml");
  const destroy = workflow("destroy.yml");

  it("deploys on pushes to main behind a GitHub environment, with the Prefect CLI installed", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(deploy.jobs.deploy.environment).toBe("production");
    expect(stepsOf(deploy.jobs.deploy).map((s) => s.run)).toContain("pip install prefect prefect-aws");
  });

  it("destroys only by manual dispatch after the stack name is typed", () => {
    expect(Object.keys(destroy.on)).toEqual(["workflow_dispatch"]);
    expect(destroy.on.workflow_dispatch.inputs.confirm.required).toBe(true);
    const steps = stepsOf(destroy.jobs.destroy);
    const guard = steps.findIndex((s) => s.name === "Check the typed confirmation");
    const destroyStep = steps.findIndex((s) => s.name === "Destroy");
    expect(guard).toBeGreaterThan(-1);
    expect(guard).toBeLessThan(destroyStep);
    expect(steps[guard].run).toContain('if [ "$CONFIRM" != "$STACK" ]');
    expect(destroy.jobs.destroy.env.PREFECT_API_KEY).toBe("${{ secrets.PREFECT_API_KEY }}");
  });

  it("share one concurrency group, never cancelling a run that holds the state, and wait for a plan's lock", () => {
    for (const job of [deploy.jobs.deploy, destroy.jobs.destroy]) {
      expect(job.concurrency).toEqual({ group: "prefect-ecs-state", "cancel-in-progress": false });
      expect(job.env).toMatchObject({ TF_CLI_ARGS_plan: "-lock-timeout=10m", TF_CLI_ARGS_apply: "-lock-timeout=10m" });
    }
  });

  it("give the work pool's delete command its credential, for destroy and for a replaced pool", () => {
    for (const job of [deploy.jobs.deploy, destroy.jobs.destroy]) expect(job.env.PREFECT_API_KEY).toBe("${{ secrets.PREFECT_API_KEY }}");
  });

  it("target the configured environment through npm run deploy/destroy, which adds its settings file", () => {
    expect(stepsOf(deploy.jobs.deploy).at(-1).run).toBe("npm run deploy -- $ENVIRONMENT --auto-approve --skip-synth");
    expect(stepsOf(destroy.jobs.destroy).at(-1).run).toBe("npm run destroy -- $ENVIRONMENT --auto-approve --skip-synth");
  });

  it("grants each job only what it uses", () => {
    for (const wf of [deploy, destroy]) {
      expect(wf.permissions).toEqual({});
      for (const job of Object.values<any>(wf.jobs)) expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    }
  });
});
