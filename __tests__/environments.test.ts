import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { cdktfArgs } from "../scripts/cdktf-env";
import { loadDeployments } from "../src/settings/environments";
import { PrefectEcsStack } from "../src/stack";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-envs-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const SHARED = 'availability_zones = ["us-east-1a", "us-east-1b"]\nworker_cpu = 256\nworker_memory = 512\nstate_bucket = "acme-prefect-ecs-state"\n';
const DEV = 'worker_capacity = "fargate_spot"\n';
const PROD = 'nat_gateway_mode = "per_az"\nworker_cpu = 1024\nworker_memory = 2048\nworker_min_count = 1\nworker_max_count = 3\n';

describe("several environments", () => {
  it("GIVEN only terraform.tfvars THEN there is one deployment", async () => {
    const deployments = await loadDeployments(project({ "terraform.tfvars": SHARED }));
    expect(deployments.map((d) => [d.settings.environment, d.varFile])).toEqual([["dev", undefined]]);
  });

  it("GIVEN environments/*.tfvars THEN one deployment each, named by its file, layered over terraform.tfvars", async () => {
    const deployments = await loadDeployments(project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV, "environments/prod.tfvars": PROD }));
    expect(deployments.map((d) => d.settings.environment)).toEqual(["dev", "prod"]);
    const [dev, prod] = deployments;
    expect([dev.settings.worker_cpu, dev.settings.worker_capacity, dev.settings.nat_gateway_mode]).toEqual([256, "fargate_spot", "single"]);
    expect([prod.settings.worker_cpu, prod.settings.nat_gateway_mode, prod.settings.worker_autoscaling]).toEqual([1024, "per_az", true]);
    // Terraform sees the two files merged; the environment's name is the app's, from the file name.
    expect(prod.fileValues).toMatchObject({ worker_cpu: 1024, state_bucket: "acme-prefect-ecs-state" });
    expect(prod.fileValues.environment).toBeUndefined();
    expect(prod.varFile).toBe(join("environments", "prod.tfvars"));
  });

  it("GIVEN an environment key that contradicts the file name THEN it is refused, naming the file", async () => {
    const dir = project({ "terraform.tfvars": 'environment = "dev"\n', "environments/prod.tfvars": "" });
    await expect(loadDeployments(dir)).rejects.toThrow(/environment = "dev" \(from terraform.tfvars\) does not match the file name/);
  });

  it("GIVEN environments with different state buckets THEN it is refused", async () => {
    const dir = project({ "environments/a.tfvars": 'state_bucket = "one-bucket"\n', "environments/b.tfvars": 'state_bucket = "two-bucket"\n' });
    await expect(loadDeployments(dir)).rejects.toThrow(/state_bucket differ between environments/);
  });

  it("gives each environment its own state key and work pool, and no resource name in common", async () => {
    const deployments = await loadDeployments(project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV, "environments/prod.tfvars": PROD }));
    const app = Testing.app();
    const stacks = deployments.map((d) => JSON.parse(Testing.synth(new PrefectEcsStack(app, d))));
    expect(stacks.map((s) => s.terraform.backend.s3.key)).toEqual(["prefect-ecs/dev/terraform.tfstate", "prefect-ecs/prod/terraform.tfstate"]);
    expect(deployments.map((d) => d.settings.work_pool_name)).toEqual(["prefect-ecs-dev", "prefect-ecs-prod"]);
    const NAME_ATTRIBUTES = ["name", "bucket", "family", "filename"];
    // Inline role policy names are scoped to their role, so only account-wide names count.
    const ROLE_SCOPED = new Set(["aws_iam_role_policy"]);
    const names = stacks.map(
      (s) =>
        new Set(
          Object.entries<Record<string, any>>(s.resource)
            .filter(([type]) => !ROLE_SCOPED.has(type))
            .flatMap(([, byId]) => Object.values(byId))
            .flatMap((resource) => NAME_ATTRIBUTES.map((a) => resource[a]).filter((v) => typeof v === "string" && !v.includes("${"))),
        ),
    );
    expect(names[0].size).toBeGreaterThan(15);
    // local_file paths are relative to each stack's own directory, so they may repeat.
    const shared = [...names[0]].filter((n) => names[1].has(n) && n !== "work-pool-base-job-template.json");
    expect(shared).toEqual([]);
  });
});

describe("npm run deploy | diff | destroy -- <environment>", () => {
  const load = () => loadDeployments(project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV, "environments/prod.tfvars": PROD }));

  it("targets one environment's stack with its settings file", async () => {
    expect(cdktfArgs(await load(), "deploy", ["prod", "--auto-approve"])).toEqual([
      "deploy",
      "prefect-ecs-prod",
      "--var-file",
      join("environments", "prod.tfvars"),
      "--auto-approve",
    ]);
  });

  it("names the state stack as `state`", async () => {
    expect(cdktfArgs(await load(), "diff", ["state"])).toEqual(["diff", "prefect-ecs-state"]);
  });

  it("asks for an environment when there are several, and lists them", async () => {
    const deployments = await load();
    expect(() => cdktfArgs(deployments, "destroy", [])).toThrow("name an environment: npm run destroy -- <environment>, one of dev, prod");
    expect(() => cdktfArgs(deployments, "deploy", ["qa"])).toThrow('no environment "qa"; the environments are dev, prod');
  });

  it("needs no name for a single deployment", async () => {
    const single = await loadDeployments(project({ "terraform.tfvars": SHARED }));
    expect(cdktfArgs(single, "diff", [])).toEqual(["diff", "prefect-ecs-dev"]);
  });
});
