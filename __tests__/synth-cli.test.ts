import { spawnSync } from "node:child_process";
import { copyProject } from "./support/project";
import { PREFECT_AWS_VERSION } from "../src/versions";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
/** The command cdktf runs to synthesize, from cdktf.json (paths in it are relative to the project). */
const APP: string[] = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8"))
  .app.split(" ")
  .map((part: string) => (part.includes("/") ? join(ROOT, part) : part));
const CANARY = "pnu_CANARY_d0e8c1b7_never_in_output";

/** Runs the app with the command `cdktf synth` uses, in a fresh directory with this tfvars. */
function runApp(tfvars: string | undefined, environments: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-synth-"));
  if (tfvars !== undefined) writeFileSync(join(dir, "terraform.tfvars"), tfvars);
  if (Object.keys(environments).length) mkdirSync(join(dir, "environments"));
  for (const [name, text] of Object.entries(environments)) writeFileSync(join(dir, "environments", `${name}.tfvars`), text);
  const env = { ...process.env, CDKTF_OUTDIR: undefined } as NodeJS.ProcessEnv;
  const result = spawnSync(APP[0], APP.slice(1), { cwd: dir, env, encoding: "utf8" });
  return { dir, ...result };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("synthesizing from terraform.tfvars", () => {
  it("GIVEN no terraform.tfvars WHEN synthesized THEN the stack is written with a note on moving state to S3", () => {
    const run = runApp(undefined);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(run.dir, "cdktf.out", "stacks", "prefect-ecs-dev", "cdk.tf.json"))).toBe(true);
    // cdktf prints a stack's warning annotations; they live in the manifest.
    const manifest = JSON.parse(readFileSync(join(run.dir, "cdktf.out", "manifest.json"), "utf8"));
    const messages = manifest.stacks["prefect-ecs-dev"].annotations.map((a: { message: string }) => a.message);
    expect(messages.join("\n")).toMatch(/local file terraform.prefect-ecs-dev.tfstate.*--migrate-state/);
  });

  it("GIVEN state_bucket WHEN synthesized THEN the state bootstrap stack is synthesized beside the worker stack", () => {
    const run = runApp('state_bucket = "acme-prefect-ecs-state"\n');
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(run.dir, "cdktf.out", "stacks")).sort()).toEqual(["prefect-ecs-dev", "prefect-ecs-state"]);
  });

  it("GIVEN environments/dev.tfvars and prod.tfvars WHEN synthesized THEN one stack per environment", () => {
    const run = runApp('availability_zones = ["us-east-1a", "us-east-1b"]\n', {
      dev: 'worker_capacity = "fargate_spot"\n',
      prod: 'nat_gateway_mode = "per_az"\n',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(run.dir, "cdktf.out", "stacks")).sort()).toEqual(["prefect-ecs-dev", "prefect-ecs-prod"]);
  });

  it("GIVEN a canary API key in terraform.tfvars WHEN synthesized THEN it appears nowhere under cdktf.out or in the output", () => {
    const run = runApp(
      [
        'availability_zones = ["us-east-1a", "us-east-1b"]',
        'prefect_account_id = "0b5c1a2e-1111-4222-8333-944455556666"',
        'prefect_workspace_id = "1b5c1a2e-1111-4222-8333-944455556666"',
        `prefect_api_key = "${CANARY}"`,
      ].join("\n"),
    );
    expect(run.status, run.stderr).toBe(0);
    const files = filesUnder(join(run.dir, "cdktf.out"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => readFileSync(file, "utf8").includes(CANARY))).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
  });

  it("GIVEN a bad value WHEN synthesized THEN it stops with the key, value and allowed values, and writes nothing", () => {
    const run = runApp("worker_cpu = 300\n");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("worker_cpu = 300 is not valid: use a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384");
    expect(existsSync(join(run.dir, "cdktf.out"))).toBe(false);
  });

  it("GIVEN credentials in wrongly typed or refused settings WHEN synthesis fails THEN no output shows them", () => {
    const run = runApp(
      [
        `prefect_api_key = ["${CANARY}"]`,
        `prefect_api_auth_string = { v = "${CANARY}-auth" }`,
        `prefect_api_url = "https://admin:${CANARY}-url@prefect.example.com/api"`,
        "",
      ].join("\n"),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("prefect_api_key = (hidden) is not valid");
    expect(run.stderr).toContain('prefect_api_url = "https://***@prefect.example.com/api" is not valid');
    expect(run.stdout + run.stderr).not.toContain(CANARY);
    expect(existsSync(join(run.dir, "cdktf.out"))).toBe(false);
  });

  it("GIVEN malformed HCL WHEN synthesized THEN the line is reported", () => {
    const run = runApp('environment = "dev"\nnat_gateway_mode = [\n');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/terraform.tfvars has a problem:\n {2}- is not valid HCL: line \d+, column \d+/);
  });
});

describe("npm run template", () => {
  it("GIVEN a synthesized, undeployed stack WHEN run THEN it prints a template Prefect's server accepts, with a note", async () => {
    const { templateProblems } = await import("../src/work-pool/template");
    const run = runApp('availability_zones = ["us-east-1a", "us-east-1b"]\n');
    expect(run.status, run.stderr).toBe(0);
    const printed = spawnSync(TSX, [join(ROOT, "scripts", "print-template.ts")], { cwd: run.dir, encoding: "utf8" });
    expect(printed.status, printed.stderr).toBe(0);
    const template = JSON.parse(printed.stdout);
    expect(templateProblems(template)).toEqual([]);
    expect(template.variables.properties.cluster.default).toBe("${aws_ecs_cluster.cluster_cluster.arn}");
    expect(printed.stderr).toMatch(/not deployed here .* after `npx cdktf deploy`/);
  });
});

describe("npm run synth and the Node.js check", () => {
  it("GIVEN malformed HCL WHEN npm run synth runs THEN the problem is printed once, and cdktf never starts", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-synth-hcl-"));
    writeFileSync(join(dir, "terraform.tfvars"), 'environment = "dev"\nnat_gateway_mode = [\n');
    const run = spawnSync(TSX, [join(ROOT, "scripts", "cdktf-env.ts"), "synth"], { cwd: dir, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr.match(/is not valid HCL/g)).toHaveLength(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      "terraform.tfvars has a problem:",
      expect.stringMatching(/^ {2}- is not valid HCL: line 3, column 1: /),
    ]);
    expect(existsSync(join(dir, "cdktf.out"))).toBe(false);
  });

  it("GIVEN Node.js 18 THEN the check stops with one line naming Node.js 20, the LTS to install and .nvmrc; on this Node it passes", () => {
    const check = join(ROOT, "scripts", "check-node.cjs");
    const old = spawnSync(
      process.execPath,
      [
        "-e",
        `Object.defineProperty(process.versions, "node", { value: "18.19.0" }); Object.defineProperty(process, "version", { value: "v18.19.0" }); require(${JSON.stringify(check)})`,
      ],
      { encoding: "utf8" },
    );
    expect(old.status).toBe(1);
    expect(old.stderr.trim()).toBe(
      "prefect-ecs needs Node.js 20 or newer; this is v18.19.0. Install Node.js 24, the current LTS (with nvm: nvm install, then nvm use; .nvmrc says 24).",
    );
    expect(spawnSync(process.execPath, [check], { encoding: "utf8" }).status).toBe(0);
    // .nvmrc names the version the workflows run (setup-node); engines the oldest the suite is run on.
    expect(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim()).toBe("24");
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.node).toBe(">=20");
  });
});

describe("the app's bundle cache (scripts/app.cjs)", () => {
  it("GIVEN a source file changes between two synths THEN the second synth runs the changed code, not the cached bundle", () => {
    const project = copyProject(ROOT, "prefect-ecs-bundle-");
    const synthAt = () => {
      const result = spawnSync(process.execPath, [join(project, "scripts", "app.cjs")], {
        cwd: project,
        env: { ...process.env, CDKTF_OUTDIR: join(project, "cdktf.out") },
        encoding: "utf8",
      });
      expect(result.status, result.stderr).toBe(0);
      return readFileSync(join(project, "cdktf.out", "stacks", "prefect-ecs-dev", "cdk.tf.json"), "utf8");
    };
    expect(synthAt()).toContain(`prefect-aws:${PREFECT_AWS_VERSION}-python`);
    const versions = join(project, "src", "versions.ts");
    writeFileSync(
      versions,
      readFileSync(versions, "utf8").replace(`PREFECT_AWS_VERSION = "${PREFECT_AWS_VERSION}"`, 'PREFECT_AWS_VERSION = "9.9.9"'),
    );
    expect(synthAt()).toContain("prefect-aws:9.9.9-python");
  });
});
