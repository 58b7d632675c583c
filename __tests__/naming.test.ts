import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localStateFile, stackDir, stackName, stateKey, stateStackName } from "../src/naming";

const ROOT = join(__dirname, "..");

describe("names shared by stacks, scripts and CI", () => {
  it("GIVEN a deployment THEN its stack, state stack, state file, state key and synth folder follow one scheme", () => {
    const settings = { project_name: "acme", environment: "prod" };
    expect([stackName(settings), stateStackName("acme"), localStateFile("acme-prod"), stateKey("acme", "prod"), stackDir("acme-prod")]).toEqual([
      "acme-prod",
      "acme-state",
      "terraform.acme-prod.tfstate",
      "acme/prod/terraform.tfstate",
      "cdktf.out/stacks/acme-prod",
    ]);
  });

  it("GIVEN `npm run stack-name` WHEN it runs THEN it loads no AWS provider classes", () => {
    // Run the script as npm does, with a preloaded probe that lists the modules in require's cache at exit.
    const probe = join(mkdtempSync(join(tmpdir(), "prefect-ecs-probe-")), "probe.cjs");
    writeFileSync(
      probe,
      'process.on("exit", () => console.error("AWS_MODULES=" + Object.keys(require.cache).filter((k) => k.includes("provider-aws")).length));\n',
    );
    const run = spawnSync(process.execPath, ["--require", "tsx/cjs", "--require", probe, join(ROOT, "scripts", "stack-name.ts")], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    expect(run.stdout.trim()).toBe("prefect-ecs-dev");
    expect(run.stderr).toContain("AWS_MODULES=0");
  });
});
