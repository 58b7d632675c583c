import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { scratchProject } from "./support/project";
import { cdktfArgs } from "../scripts/cdktf-env";
import { loadDeployments } from "../src/settings/environments";
import { MAX_TFVARS_BYTES } from "../src/settings/tfvars";
import { PrefectEcsStack } from "../src/stack";

const project = (files: Record<string, string>) => scratchProject(files, "prefect-ecs-envs-");

const SHARED = 'availability_zones = ["us-east-1a", "us-east-1b"]\nworker_cpu = 256\nworker_memory = 512\nstate_bucket = "acme-prefect-ecs-state"\n';
const DEV = 'worker_capacity = "fargate_spot"\n';
const PROD = 'nat_gateway_mode = "per_az"\nworker_cpu = 1024\nworker_memory = 2048\nworker_min_count = 1\nworker_max_count = 3\n';

describe("several environments", () => {
  it("GIVEN only terraform.tfvars THEN there is one deployment", async () => {
    const deployments = await loadDeployments(project({ "terraform.tfvars": SHARED }));
    expect(deployments.map((d) => [d.settings.environment, d.varFile])).toEqual([["dev", undefined]]);
  });

  it("GIVEN environments/*.tfvars THEN one deployment each, named by its file, layered over terraform.tfvars", async () => {
    const deployments = await loadDeployments(
      project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV, "environments/prod.tfvars": PROD }),
    );
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
    const deployments = await loadDeployments(
      project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV, "environments/prod.tfvars": PROD }),
    );
    const app = Testing.app();
    const stacks = deployments.map((d) => JSON.parse(Testing.synth(new PrefectEcsStack(app, d))));
    expect(stacks.map((s) => s.terraform.backend.s3.key)).toEqual(["prefect-ecs/dev/terraform.tfstate", "prefect-ecs/prod/terraform.tfstate"]);
    expect(deployments.map((d) => d.settings.work_pool_name)).toEqual(["dev-prefect-ecs", "prod-prefect-ecs"]);
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

describe("settings files the app would not read, and files that are not settings", () => {
  const rejection = async (files: Record<string, string>) => {
    const error = await loadDeployments(project(files)).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!error) throw new Error("expected the files to be refused");
    return error.message;
  };

  it.each(["terraform.tfvars.json", "extra.auto.tfvars", "extra.auto.tfvars.json"])(
    "GIVEN %s at the project root (Terraform loads it by itself) WHEN loading THEN it is refused with where the values belong",
    async (name) => {
      expect(await rejection({ "terraform.tfvars": SHARED, [name]: name.endsWith(".json") ? "{}" : "" })).toMatch(
        new RegExp(`${name.replace(/\./g, "\\.")} would be read by Terraform but not by this app; move its values to terraform.tfvars`),
      );
    },
  );

  it("GIVEN environments/state.tfvars WHEN loading THEN it is refused: `state` names the state bootstrap stack", async () => {
    expect(await rejection({ "terraform.tfvars": SHARED, "environments/state.tfvars": "" })).toMatch(/"state" names the state bootstrap stack/);
  });

  it("GIVEN two environments that resolve to one stack name WHEN loading THEN both files are named, not a construct error", async () => {
    const message = await rejection({
      "terraform.tfvars": SHARED,
      "environments/b-c.tfvars": 'project_name = "aa"\n',
      "environments/c.tfvars": 'project_name = "aa-b"\n',
    });
    expect(message).toMatch(
      /environments\/c\.tfvars gives the stack name "aa-b-c" \(<project_name>-<environment>\), as does environments\/b-c\.tfvars/,
    );
  });

  const VPC = 'existing_vpc_id = "vpc-0123456789abcdef0"\nexisting_private_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]\n';
  const SERVER = "prefect_server = true\n";

  it("GIVEN two environments in one existing VPC naming the same namespace THEN both files are named: Cloud Map allows one per VPC", async () => {
    const message = await rejection({
      "terraform.tfvars": VPC,
      "environments/dev.tfvars": `${SERVER}service_discovery_namespace = "prefect.internal"\n`,
      "environments/prod.tfvars": `${SERVER}service_discovery_namespace = "prefect.internal"\n`,
    });
    expect(message).toContain(
      "environments/prod.tfvars and environments/dev.tfvars both create the private DNS namespace prefect.internal in vpc-0123456789abcdef0, where Cloud Map allows one; give each environment its own",
    );
  });

  it("GIVEN two in-stack servers in one existing VPC with default namespaces THEN each has its own, and both load", async () => {
    const deployments = await loadDeployments(
      project({ "terraform.tfvars": VPC, "environments/dev.tfvars": SERVER, "environments/prod.tfvars": SERVER }),
    );
    expect(deployments).toHaveLength(2);
  });

  it("GIVEN two environments naming the same work pool on the same Prefect workspace (or one only TF_VAR_ knows) THEN they are refused", async () => {
    const pool = 'work_pool_name = "shared-pool"\n';
    const message = await rejection({ "terraform.tfvars": SHARED, "environments/dev.tfvars": pool, "environments/prod.tfvars": pool });
    expect(message).toContain("environments/prod.tfvars and environments/dev.tfvars both use the work pool shared-pool on Prefect Cloud");
    const workspace = 'prefect_workspace_id = "1b5c1a2e-1111-4222-8333-944455556666"\n';
    expect(await rejection({ "terraform.tfvars": SHARED + workspace, "environments/dev.tfvars": pool, "environments/prod.tfvars": pool })).toContain(
      "both use the work pool shared-pool on workspace 1b5c1a2e-1111-4222-8333-944455556666",
    );
  });

  it("GIVEN the same pool name in two different workspaces THEN both load", async () => {
    const pool = 'work_pool_name = "shared-pool"\n';
    const deployments = await loadDeployments(
      project({
        "terraform.tfvars": SHARED,
        "environments/dev.tfvars": `${pool}prefect_workspace_id = "1b5c1a2e-1111-4222-8333-944455556666"\n`,
        "environments/prod.tfvars": `${pool}prefect_workspace_id = "2b5c1a2e-1111-4222-8333-944455556666"\n`,
      }),
    );
    expect(deployments.map((d) => d.settings.work_pool_name)).toEqual(["shared-pool", "shared-pool"]);
  });

  it("GIVEN environments/prod.tfvars.json WHEN loading THEN it is refused instead of silently ignored", async () => {
    expect(await rejection({ "terraform.tfvars": SHARED, "environments/prod.tfvars.json": "{}" })).toMatch(
      /prod\.tfvars\.json is not read; write environments as HCL files/,
    );
  });

  it("GIVEN an environment file that is a FIFO WHEN loading THEN it is refused without opening it (opening would wait on the pipe)", async () => {
    const dir = project({ "terraform.tfvars": SHARED, "environments/dev.tfvars": DEV });
    const fifo = join(dir, "environments", "prod.tfvars");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // Nothing ever writes to the pipe: a read would block until the test timed out.
    await expect(loadDeployments(dir)).rejects.toThrow(/prod\.tfvars has a problem:\n {2}- is not a regular file/);
  });

  it("GIVEN an environment file that links to /dev/zero WHEN loading THEN it is refused without reading it", async () => {
    const dir = project({ "terraform.tfvars": SHARED });
    mkdirSync(join(dir, "environments"));
    symlinkSync("/dev/zero", join(dir, "environments", "zero.tfvars"));
    await expect(loadDeployments(dir)).rejects.toThrow(/zero\.tfvars has a problem:\n {2}- is not a regular file/);
  });

  it("GIVEN a settings file over 1 MiB WHEN loading THEN it is refused by size", async () => {
    const dir = project({ "terraform.tfvars": `# ${"x".repeat(MAX_TFVARS_BYTES)}\n` });
    await expect(loadDeployments(dir)).rejects.toThrow(
      /terraform\.tfvars has a problem:\n {2}- is \d+ bytes; a settings file is at most 1048576 bytes/,
    );
  });
});
