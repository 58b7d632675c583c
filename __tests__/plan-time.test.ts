import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../src/settings";
import { loadDeployments } from "../src/settings/environments";
import { missingPlanTimeValues, settingsWarnings } from "../src/settings/plan-time";
import { scratchProject } from "./support/project";
import { expectNoCanary, SECRET_CANARIES, VARIANTS } from "./support/synth";

const ROOT = join(__dirname, "..");
const IDS = {
  TF_VAR_prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666",
  TF_VAR_prefect_workspace_id: "1b5c1a2e-1111-4222-8333-944455556666",
};
const missing = (values: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  missingPlanTimeValues(parseSettings(values), env, "terraform.tfvars");

describe("values Terraform needs at plan time, checked before it runs", () => {
  it("GIVEN a Prefect Cloud stack with nothing given THEN the ids and the key are each named, with where to give them", () => {
    expect(missing({})).toEqual([
      expect.stringMatching(
        /^prefect_account_id has no value: set prefect_account_id in terraform.tfvars or export TF_VAR_prefect_account_id \(the id after \/account\//,
      ),
      expect.stringMatching(/^prefect_workspace_id has no value: set prefect_workspace_id in terraform.tfvars or export TF_VAR_prefect_workspace_id/),
      expect.stringMatching(/^prefect_api_key has no value: export TF_VAR_prefect_api_key=<your key>/),
    ]);
  });

  it("GIVEN the values in TF_VAR_ variables, or the ids in the file, THEN nothing is missing", () => {
    expect(missing({}, { ...IDS, TF_VAR_prefect_api_key: "pnu_x" })).toEqual([]);
    expect(
      missing(
        { prefect_account_id: IDS.TF_VAR_prefect_account_id, prefect_workspace_id: IDS.TF_VAR_prefect_workspace_id },
        { TF_VAR_prefect_api_key: "k" },
      ),
    ).toEqual([]);
  });

  it("GIVEN an empty TF_VAR_prefect_api_key (an unset CI secret) THEN it says the key is empty and where it came from", () => {
    expect(missing({}, { ...IDS, TF_VAR_prefect_api_key: " " })).toEqual([
      expect.stringMatching(/^prefect_api_key is empty \(in TF_VAR_prefect_api_key\): export/),
    ]);
  });

  it("GIVEN a placeholder id in TF_VAR_ THEN it is refused like one in the file", () => {
    expect(missing({}, { ...IDS, TF_VAR_prefect_account_id: "00000000-0000-4000-8000-000000000000", TF_VAR_prefect_api_key: "k" })).toEqual([
      expect.stringMatching(
        /^prefect_account_id = "00000000-0000-4000-8000-000000000000" \(in TF_VAR_prefect_account_id\) is not valid: it is a placeholder/,
      ),
    ]);
  });

  it("GIVEN the in-stack server THEN only the database password is required; an existing secret without a managed pool needs no key", () => {
    expect(missing(VARIANTS.prefect_server)).toEqual([
      expect.stringMatching(/^prefect_server_db_password has no value: export TF_VAR_prefect_server_db_password=/),
    ]);
    expect(missing({ ...VARIANTS.existing_secret, manage_work_pool: false }, IDS)).toEqual([]);
    expect(missing(VARIANTS.self_hosted)).toEqual([expect.stringMatching(/^prefect_api_auth_string has no value/)]);
  });

  it("GIVEN an environment's file THEN the message names both files Terraform reads", async () => {
    const dir = scratchProject({ "environments/prod.tfvars": "worker_cpu = 512\n" });
    const [prod] = await loadDeployments(dir);
    expect(missingPlanTimeValues(prod, {}, "terraform.tfvars or environments/prod.tfvars")[0]).toContain(
      "set prefect_account_id in terraform.tfvars or environments/prod.tfvars",
    );
  });

  it("GIVEN npm run deploy with no Prefect values THEN it stops before cdktf with every missing value, exit 1", () => {
    const dir = scratchProject({ "terraform.tfvars": 'availability_zones = ["us-east-1a", "us-east-1b"]\n' });
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith("TF_VAR_")) delete env[key];
    const run = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "cdktf-env.ts"), "deploy"], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("prefect-ecs-dev has 3 problems:");
    expect(run.stderr).toContain("prefect_api_key has no value: export TF_VAR_prefect_api_key=<your key>");
    // cdktf never started: it would have printed its own banner or synthesized.
    expect(run.stdout).toBe("");
  });
});

describe("a credential written into a settings file", () => {
  it.each(Object.entries(SECRET_CANARIES))(
    "GIVEN %s in terraform.tfvars THEN a warning names the key, the file and TF_VAR_, never the value",
    (key, canary) => {
      const values = {
        ...(key === "prefect_api_auth_string" ? VARIANTS.self_hosted : key === "prefect_server_db_password" ? VARIANTS.prefect_server : {}),
        [key]: canary,
      };
      const warnings = settingsWarnings(parseSettings(values), "terraform.tfvars");
      expect(warnings).toEqual([expect.stringContaining(`${key} is written in terraform.tfvars`)]);
      expect(warnings[0]).toContain(`prefer export TF_VAR_${key}=`);
      expectNoCanary(warnings.join("\n"), "the warning");
    },
  );

  it("GIVEN no credential in the file THEN no warning", () => {
    expect(settingsWarnings(parseSettings({}), "terraform.tfvars")).toEqual([]);
  });
});
