import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseSettings, SettingsError } from "../src/settings";
import { EFS_POSIX_USER } from "../src/storage/efs";
import { FLOW_BASE_IMAGE } from "../src/flows/images";
import { cachedImage } from "../src/storage/pull-through-cache";
import { DEFAULT_WORKER_IMAGE, PREFECT_AWS_VERSION, PREFECT_VERSION, PYTHON_VERSION } from "../src/versions";
import { resources, synth } from "./support/synth";

const ROOT = join(__dirname, "..");
const FLOWS = join(ROOT, "flows");
const read = (path: string) => readFileSync(path, "utf8");

/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = (text: string) =>
  text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });

describe("flows/Dockerfile", () => {
  const steps = instructions(read(join(FLOWS, "Dockerfile")));

  it("GIVEN src/versions.ts WHEN the base image is read THEN it is the plain Prefect image at the worker's Prefect and Python versions", () => {
    const from = steps.filter((s) => s.keyword === "FROM");
    expect(from).toHaveLength(1);
    expect(from[0].args).toBe(`prefecthq/prefect:${PREFECT_VERSION}-python${PYTHON_VERSION}`);
    expect(from[0].args).toBe(FLOW_BASE_IMAGE);
  });

  it("GIVEN the Dockerfile THEN no image or tag is 'latest' or unpinned", () => {
    const text = read(join(FLOWS, "Dockerfile"));
    expect(text).not.toMatch(/:latest\b/);
    for (const from of steps.filter((s) => s.keyword === "FROM")) expect(from.args).toMatch(/^[^\s:]+:\d+\.\d+\.\d+-python\d+\.\d+$/);
  });

  it("GIVEN the image THEN it runs as the EFS access point's non-root user, set after every RUN", () => {
    const users = steps.filter((s) => s.keyword === "USER");
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)!;
    expect(last.args).toBe(`${EFS_POSIX_USER.uid}:${EFS_POSIX_USER.gid}`);
    expect(last.args).not.toMatch(/^(root|0)(:|$)/);
    expect(steps.findLastIndex((s) => s.keyword === "RUN")).toBeLessThan(steps.lastIndexOf(last));
  });

  it("GIVEN the dependencies THEN they are installed at build time from requirements.txt, which leaves Prefect to the base image", () => {
    expect(steps.some((s) => s.keyword === "RUN" && /pip install .*--requirement requirements\.txt/.test(s.args))).toBe(true);
    expect(read(join(FLOWS, "requirements.txt"))).not.toMatch(/^\s*prefect\b/m);
  });
});

describe("flows/prefect.yaml", () => {
  const project = parse(read(join(FLOWS, "prefect.yaml")));

  it("GIVEN the project THEN its Prefect version is the worker's", () => {
    expect(project["prefect-version"]).toBe(PREFECT_VERSION);
  });

  it("GIVEN one deployment THEN its pool, image and EFS path come from the variables flow-deploy sets from the stack's outputs", () => {
    expect(project.deployments).toHaveLength(1);
    const [deployment] = project.deployments;
    expect(deployment.name).toBe("platform-check");
    expect(deployment.work_pool.name).toBe("{{ $PREFECT_ECS_WORK_POOL }}");
    expect(deployment.work_pool.job_variables.image).toBe("{{ $PREFECT_ECS_FLOW_IMAGE }}");
    expect(deployment.work_pool.job_variables.env).toEqual({
      FLOW_IMAGE: "{{ $PREFECT_ECS_FLOW_IMAGE }}",
      EFS_MOUNT_PATH: "{{ $PREFECT_ECS_EFS_MOUNT_PATH }}",
    });
    expect(JSON.stringify(project)).not.toMatch(/latest|dkr\.ecr|\d{12}/);
  });

  it("GIVEN the entrypoint THEN it names a flow function in a file of flows/, and the code is where the Dockerfile puts it", () => {
    const [file, fn] = project.deployments[0].entrypoint.split(":");
    expect(read(join(FLOWS, file))).toMatch(new RegExp(`@flow\\([^)]*\\)\\ndef ${fn}\\(`));
    const workdir = instructions(read(join(FLOWS, "Dockerfile"))).find((s) => s.keyword === "WORKDIR")!.args;
    expect(project.pull).toEqual([{ "prefect.deployments.steps.set_working_directory": { directory: workdir } }]);
    expect(project.build).toBeNull();
    expect(project.push).toBeNull();
  });
});

describe("flows/platform_check.py", () => {
  it("GIVEN the flow WHEN compiled with python3 -m py_compile THEN it is valid Python", () => {
    const copy = mkdtempSync(join(tmpdir(), "flows-compile-"));
    cpSync(join(FLOWS, "platform_check.py"), join(copy, "platform_check.py"));
    const result = spawnSync("python3", ["-m", "py_compile", join(copy, "platform_check.py")], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
  });

  it("GIVEN a syntax error WHEN compiled THEN py_compile fails (so the check above means something)", () => {
    const copy = mkdtempSync(join(tmpdir(), "flows-compile-"));
    const broken = join(copy, "broken.py");
    writeFileSync(broken, read(join(FLOWS, "platform_check.py")).replace("def platform_check():", "def platform_check(:"));
    expect(spawnSync("python3", ["-m", "py_compile", broken]).status).not.toBe(0);
  });

  it("GIVEN the flow THEN it reports its image and task from ECS task metadata and checks EFS at the mount path it is given", () => {
    const code = read(join(FLOWS, "platform_check.py"));
    expect(code).toContain("ECS_CONTAINER_METADATA_URI_V4");
    expect(code).toContain('os.environ.get("EFS_MOUNT_PATH"');
    expect(code).toMatch(/write_text[\s\S]*read_text/);
  });
});

describe("flows workflow", () => {
  const path = join(ROOT, ".github", "workflows", "flows.yml");
  const wf = parse(read(path));
  const job = wf.jobs.flows;
  const steps: any[] = job.steps;
  const uses = (action: string) => steps.find((s) => s.uses?.startsWith(`${action}@`));

  it("GIVEN the workflow WHEN checked by action-validator THEN it passes", () => {
    const result = spawnSync(join(ROOT, "node_modules", ".bin", "action-validator"), [path], { encoding: "utf8" });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it("GIVEN its triggers THEN it runs on main's flows/ changes, after a successful deploy, or by dispatch", () => {
    expect(wf.on.push).toEqual({ branches: ["main"], paths: ["flows/**"] });
    expect(wf.on.workflow_run).toEqual({ workflows: ["deploy"], types: ["completed"], branches: ["main"] });
    expect(wf.on).toHaveProperty("workflow_dispatch");
    expect(job.if).toBe("github.event_name != 'workflow_run' || github.event.workflow_run.conclusion == 'success'");
  });

  it("GIVEN its permissions THEN none by default, and the job reads code and gets an OIDC token only", () => {
    expect(wf.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(uses("aws-actions/configure-aws-credentials").with).toEqual({
      "role-to-assume": "${{ vars.AWS_FLOWS_ROLE_ARN }}",
      "aws-region": "${{ vars.AWS_REGION }}",
    });
    expect(JSON.stringify(wf)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
  });

  it("GIVEN the Prefect CLI THEN it is pinned to src/versions.ts with its Python, and the key is only in the environment", () => {
    expect(steps.find((s) => s.name === "Install the Prefect CLI").run).toBe(
      `pip install "prefect==${PREFECT_VERSION}" "prefect-aws==${PREFECT_AWS_VERSION}"`,
    );
    expect(uses("actions/setup-python").with["python-version"]).toBe(PYTHON_VERSION);
    expect(job.env.PREFECT_API_KEY).toBe("${{ secrets.PREFECT_API_KEY }}");
    for (const step of steps) expect(JSON.stringify(step)).not.toContain("secrets.");
  });

  it("GIVEN the steps THEN Buildx is set up before the image is built, and the image it prints is the one registered", () => {
    const index = (pred: (s: any) => boolean) => steps.findIndex(pred);
    const buildx = index((s) => s.uses?.startsWith("docker/setup-buildx-action@"));
    const build = index((s) => s.run?.includes("npm run --silent flow-image"));
    const register = index((s) => s.run?.includes("npm run --silent flow-deploy"));
    expect(buildx).toBeGreaterThanOrEqual(0);
    expect(buildx).toBeLessThan(build);
    expect(build).toBeLessThan(register);
    expect(steps[register].env.IMAGE).toBe(`\${{ steps.${steps[build].id}.outputs.image }}`);
    expect(steps[register].run).toContain('--image "$IMAGE"');
    // Pinned by commit, as every workflow is (workflows.test.ts checks the SHA against .github/action-pins.json).
    for (const [, ref] of read(path).matchAll(/uses:\s*([^\s]+)/g)) if (!ref.startsWith("./")) expect(ref).toMatch(/@[0-9a-f]{40}$/);
    expect(job["timeout-minutes"]).toBeGreaterThan(0);
  });
});

describe("flow-run settings in the stack", () => {
  const templateOf = (json: any) => JSON.parse(json.locals.base_job_template);

  it("GIVEN no flow_run_cpu_architecture WHEN synthesized THEN flow-run tasks run X86_64 and the stack outputs it for flow-image", () => {
    const { json } = synth();
    expect(templateOf(json).job_configuration.task_definition.runtimePlatform).toEqual({ operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
    expect(json.output.flow_run_cpu_architecture.value).toBe("X86_64");
  });

  it("GIVEN flow_run_cpu_architecture = ARM64 WHEN synthesized THEN the template's runtime platform is ARM64", () => {
    const { json } = synth({ flow_run_cpu_architecture: "ARM64" });
    expect(templateOf(json).job_configuration.task_definition.runtimePlatform.cpuArchitecture).toBe("ARM64");
    expect(json.output.flow_run_cpu_architecture.value).toBe("ARM64");
  });

  it("GIVEN no image settings WHEN synthesized THEN the pool defaults to the pinned Prefect image, not a tag of the empty IMMUTABLE repository", () => {
    const image = templateOf(synth().json).variables.properties.image.default;
    expect(image).toBe(FLOW_BASE_IMAGE);
  });

  it("GIVEN flow_run_image_tag WHEN synthesized THEN the pool defaults to the flows repository at that tag", () => {
    const image = templateOf(synth({ flow_run_image_tag: "sha-0123456789ab" }).json).variables.properties.image.default;
    expect(image).toBe("${aws_ecr_repository.registry_flows_repository.repository_url}:sha-0123456789ab");
  });

  it("GIVEN flow_run_image_tag = latest with IMMUTABLE tags THEN the settings are refused with why", () => {
    expect(() => parseSettings({ flow_run_image_tag: "latest" })).toThrow(SettingsError);
    expect(() => parseSettings({ flow_run_image_tag: "latest" })).toThrow(/can be pushed only once to the IMMUTABLE flows repository/);
    expect(() => parseSettings({ flow_run_image_tag: "latest", ecr_image_tag_mutability: "MUTABLE" })).not.toThrow();
  });

  it("GIVEN flow_image_keep_count WHEN synthesized THEN the flows repository expires untagged images by age and only commit-tagged images by count", () => {
    const { json } = synth({ flow_image_keep_count: 40, ecr_keep_image_count: 12 });
    const flows = JSON.parse(resources(json, "aws_ecr_lifecycle_policy").registry_flows_lifecycle_policy.policy);
    expect(flows.rules.map((r: any) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      { tagStatus: "tagged", tagPrefixList: ["sha-"], countType: "imageCountMoreThan", countNumber: 40 },
    ]);
    expect(flows.rules.every((r: any) => r.selection.tagStatus !== "any")).toBe(true);
    const worker = JSON.parse(resources(json, "aws_ecr_lifecycle_policy").registry_worker_lifecycle_policy.policy);
    expect(worker.rules[1].selection).toEqual({ tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 });
  });

  it("GIVEN flow_run_efs WHEN synthesized THEN the stack outputs the mount path for flow-deploy; without it, an empty one", () => {
    expect(synth({ flow_run_efs: true, flow_run_efs_mount_path: "/data" }).json.output.flow_run_efs_mount_path.value).toBe("/data");
    expect(synth().json.output.flow_run_efs_mount_path.value).toBe("");
  });
});

describe("ECR pull-through cache", () => {
  const HUB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbC123";
  const REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

  it("GIVEN Docker Hub, ECR Public and other references WHEN rewritten THEN only the cached registry's images change", () => {
    expect(cachedImage("prefecthq/prefect-aws:0.7.7-python3.12", "docker_hub", REGISTRY)).toBe(
      `${REGISTRY}/docker-hub/prefecthq/prefect-aws:0.7.7-python3.12`,
    );
    expect(cachedImage("python:3.12", "docker_hub", REGISTRY)).toBe(`${REGISTRY}/docker-hub/library/python:3.12`);
    expect(cachedImage("docker.io/prefecthq/prefect:3.6.28-python3.12", "docker_hub", REGISTRY)).toBe(
      `${REGISTRY}/docker-hub/prefecthq/prefect:3.6.28-python3.12`,
    );
    expect(cachedImage("ghcr.io/acme/flows:1", "docker_hub", REGISTRY)).toBe("ghcr.io/acme/flows:1");
    expect(cachedImage("public.ecr.aws/acme/flows:1", "ecr_public", REGISTRY)).toBe(`${REGISTRY}/ecr-public/acme/flows:1`);
    expect(cachedImage("prefecthq/prefect:3.6.28-python3.12", "ecr_public", REGISTRY)).toBe("prefecthq/prefect:3.6.28-python3.12");
  });

  it("GIVEN the default (none) WHEN synthesized THEN there is no cache rule and the worker pulls its image from Docker Hub", () => {
    const { json } = synth();
    expect(json.resource.aws_ecr_pull_through_cache_rule).toBeUndefined();
    const container = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0];
    expect(container.image).toBe(DEFAULT_WORKER_IMAGE);
  });

  it("GIVEN docker_hub with a credential WHEN synthesized THEN a rule exists, the worker and default flow images come through it, and both execution roles may fill it", () => {
    const { json } = synth({ ecr_pull_through_cache: "docker_hub", docker_hub_credential_secret_arn: HUB_SECRET });
    const rule = resources(json, "aws_ecr_pull_through_cache_rule").pull_through_cache_rule;
    expect(rule).toMatchObject({ ecr_repository_prefix: "docker-hub", upstream_registry_url: "registry-1.docker.io", credential_arn: HUB_SECRET });
    const host = "${data.aws_caller_identity.pull_through_cache_account.account_id}.dkr.ecr.us-east-1.amazonaws.com";
    const container = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0];
    expect(container.image).toBe(`${host}/docker-hub/${DEFAULT_WORKER_IMAGE}`);
    expect(JSON.parse((json as any).locals.base_job_template).variables.properties.image.default).toBe(`${host}/docker-hub/${FLOW_BASE_IMAGE}`);
    const policies = Object.values(resources(json, "aws_iam_role_policy")).filter((p: any) => p.name === "pull-through-cache");
    expect(policies.map((p: any) => p.role).sort()).toEqual([
      "${aws_iam_role.iam_flow_run_execution_role.name}",
      "${aws_iam_role.iam_worker_execution_role.name}",
    ]);
    expect(JSON.parse(policies[0].policy).Statement[0]).toMatchObject({
      Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
      Resource:
        "arn:${data.aws_partition.partition.partition}:ecr:us-east-1:${data.aws_caller_identity.pull_through_cache_account.account_id}:repository/docker-hub/*",
    });
  });

  it.each([
    [{ ecr_pull_through_cache: "docker_hub" }, /needs docker_hub_credential_secret_arn/],
    [{ docker_hub_credential_secret_arn: HUB_SECRET }, /ecr_pull_through_cache is not "docker_hub"/],
    [
      { ecr_pull_through_cache: "docker_hub", docker_hub_credential_secret_arn: HUB_SECRET.replace("ecr-pullthroughcache/", "other/") },
      /outside ecr-pullthroughcache\//,
    ],
    [
      { ecr_pull_through_cache: "docker_hub", docker_hub_credential_secret_arn: HUB_SECRET.replace("us-east-1", "eu-west-1") },
      /in region "eu-west-1"/,
    ],
  ])("GIVEN %j THEN the settings are refused with why", (values, message) => {
    expect(() => parseSettings(values)).toThrow(message);
  });
});
