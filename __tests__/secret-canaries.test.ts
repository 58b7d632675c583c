import { Testing } from "cdktf";
import { afterEach, describe, expect, it } from "vitest";
import { scratchProject } from "./support/project";
import { parseSettings, SECRET_KEYS, SETTING_KEYS, SettingsError } from "../src/settings";
import { loadDeployments } from "../src/settings/environments";
import { PrefectEcsStack } from "../src/stack";
import { StateStack } from "../src/state-stack";
import { BASE_VALUES, expectNoCanary, SECRET_CANARIES, settingsProblems, VARIANTS } from "./support/synth";

/**
 * Every secret setting, given to the app as a canary the way an operator can give it (terraform.tfvars, an
 * environment's file, TF_VAR_<key>), must reach Terraform only as its sensitive variable: never as a value in
 * cdk.tf.json, never in a message. The real plan is checked in the real-Terraform tier (terraform/terraform-plan.test.ts).
 */

/** The settings under which the stack uses each secret (so a leak would have somewhere to go). */
const USED_WITH: Record<string, Record<string, unknown>> = {
  prefect_api_key: {},
  prefect_api_auth_string: VARIANTS.self_hosted,
  prefect_server_db_password: VARIANTS.prefect_server,
};

/** A setting that sets the secret where the stack does not use it: each is refused by a cross-key rule. */
const MISPLACED: Record<string, Record<string, unknown>> = {
  prefect_api_key: { prefect_server: true },
  prefect_api_auth_string: {},
  prefect_server_db_password: {},
};

/** terraform.tfvars text for plain values (strings, numbers, bools, lists of strings): JSON literals are HCL. */
const tfvars = (values: Record<string, unknown>) =>
  Object.entries(values)
    .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
    .join("\n") + "\n";

const project = (files: Record<string, string>) => scratchProject(files, "prefect-ecs-canary-");

/** Loads the project as `cdktf synth` does and synthesizes its one stack. */
async function synthProject(dir: string) {
  const [deployment] = await loadDeployments(dir);
  const text = Testing.synth(new PrefectEcsStack(Testing.app(), deployment), true);
  return { deployment, text };
}

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
});

describe("the canary list", () => {
  it("has a canary and a using configuration for every setting the schema marks secret", () => {
    expect(SECRET_KEYS.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(SECRET_CANARIES).sort()).toEqual([...SECRET_KEYS].sort());
    expect(Object.keys(USED_WITH).sort()).toEqual([...SECRET_KEYS].sort());
    expect(Object.keys(MISPLACED).sort()).toEqual([...SECRET_KEYS].sort());
  });

  it("leaves no setting named like a credential unmarked, unless it refuses a credential as its value (an ARN, a version)", () => {
    const credentialLike = SETTING_KEYS.filter((key) => /password|api_key|auth_string|token|credential|secret/.test(key));
    expect(credentialLike.length).toBeGreaterThan(SECRET_KEYS.length);
    for (const key of credentialLike.filter((key) => !SECRET_KEYS.includes(key))) {
      expect(settingsProblems({ [key]: "hunter2-plain-credential" }), key).toContain(`${key} = "hunter2-plain-credential" is not valid`);
    }
  });
});

describe("a secret the settings accept but the stack does not use", () => {
  it("GIVEN prefect_api_key beside an existing secret and an unmanaged pool THEN the key is optional, and cdk.tf.json does not hold it", async () => {
    const values = { ...BASE_VALUES, ...VARIANTS.existing_secret, manage_work_pool: false, prefect_api_key: SECRET_CANARIES.prefect_api_key };
    const { deployment, text } = await synthProject(project({ "terraform.tfvars": tfvars(values) }));
    expect(deployment.settings.prefect_api_key).toBe(SECRET_CANARIES.prefect_api_key);
    expect(JSON.parse(text).variable.prefect_api_key).toMatchObject({ nullable: true, default: null });
    expectNoCanary(text, "cdk.tf.json");
  });
});

describe.each([...SECRET_KEYS])("the secret %s", (key) => {
  const canary = SECRET_CANARIES[key];
  const used = { ...BASE_VALUES, ...USED_WITH[key] };

  it("is a valid value for its setting, so the app accepts it and a leak would have a value to write", () => {
    expect(settingsProblems({ ...used, [key]: canary })).toBe("");
  });

  it("GIVEN it in terraform.tfvars WHEN synthesized THEN the app read it, and cdk.tf.json holds only the variable", async () => {
    const { deployment, text } = await synthProject(project({ "terraform.tfvars": tfvars({ ...used, [key]: canary }) }));
    expect(deployment.settings[key]).toBe(canary);
    expect(text).toContain(`var.${key}`);
    expect(JSON.parse(text).variable[key]).toMatchObject({ sensitive: true, ephemeral: true });
    expectNoCanary(text, "cdk.tf.json");
  });

  it("GIVEN it in an environment's file WHEN synthesized THEN cdk.tf.json holds only the variable", async () => {
    const dir = project({ "terraform.tfvars": tfvars(used), "environments/prod.tfvars": tfvars({ [key]: canary }) });
    const { deployment, text } = await synthProject(dir);
    expect(deployment.fileValues[key]).toBe(canary);
    expect(text).toContain(`var.${key}`);
    expectNoCanary(text, "cdk.tf.json");
  });

  it("GIVEN it in terraform.tfvars with remote state THEN the state bootstrap stack (where no variable is required) does not hold it either", async () => {
    const dir = project({ "terraform.tfvars": tfvars({ ...used, state_bucket: "acme-prefect-ecs-state", [key]: canary }) });
    const [deployment] = await loadDeployments(dir);
    const text = Testing.synth(new StateStack(Testing.app(), deployment), true);
    expect(JSON.parse(text).variable[key]).toMatchObject({ nullable: true });
    expectNoCanary(text, "the state stack's cdk.tf.json");
  });

  it("GIVEN it as TF_VAR_ WHEN synthesized THEN cdk.tf.json holds only the variable", async () => {
    process.env[`TF_VAR_${key}`] = canary;
    const { text } = await synthProject(project({ "terraform.tfvars": tfvars(used) }));
    expect(text).toContain(`var.${key}`);
    expectNoCanary(text, "cdk.tf.json");
  });

  it.each([
    ["a list", (c: string) => ({ ...used, [key]: [c] })],
    ["a map", (c: string) => ({ ...used, [key]: { v: c } })],
    ["beside another refused setting", (c: string) => ({ ...used, [key]: c, worker_cpu: 300 })],
    ["where the stack does not use it", (c: string) => ({ ...MISPLACED[key], [key]: c })],
  ])("GIVEN it as %s THEN the settings are refused, and the message never shows it", (_, values) => {
    const refused = (() => {
      try {
        parseSettings(values(canary));
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(SettingsError);
    expect((refused as SettingsError).problems.join("\n")).toMatch(new RegExp(`${key}|worker_cpu`));
    expectNoCanary((refused as Error).message, "the message");
  });
});
