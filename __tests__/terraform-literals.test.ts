import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { literal } from "../src/literal";
import { SECRET_KEYS, SETTING_KEYS } from "../src/settings";
import { readTfvars } from "../src/settings/tfvars";
import { settingsProblems, synth } from "./support/synth";
import { terraform, terraformTooling } from "./support/terraform";

/**
 * Terraform reads `${` and `%{` in every JSON string as template syntax. Settings holding either are refused
 * (below); these tests give real Terraform (no providers needed, so they are quick) the other characters its
 * templates care about, `$`, `%`, `{`, `}` and `<>&` (which jsonencode escapes), and check that they stay literal.
 */
const JSON_KEY = "k$x%y}{z%";
const SETTINGS = {
  existing_api_key_secret_arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/key-AbC123:${JSON_KEY}`,
  tags: { Team: "R and D 100 percent" },
  prefect_api_url: undefined,
};

/** A root holding only the stack's variable blocks, plus outputs; returns its directory after `terraform init`. */
function variablesRoot(variables: Record<string, unknown>, outputs: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-literals-"));
  // Terraform refuses an empty block map, so only non-empty ones are written.
  const config = Object.fromEntries(Object.entries({ variable: variables, output: outputs }).filter(([, v]) => Object.keys(v).length));
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(config, null, 2));
  terraform(dir, ["init", "-input=false"]);
  return dir;
}

describe("literal values stay literal in Terraform", () => {
  beforeAll(() => terraformTooling());

  it("GIVEN text with ${…} and %{…} WHEN escaped with literal() THEN Terraform renders it unchanged, running no function", () => {
    const text = 'a ${upper("x")} b %{if true}c%{endif} 100% $5 {d}';
    const dir = variablesRoot({}, { text: { value: literal(text) } });
    terraform(dir, ["apply", "-auto-approve", "-input=false"]);
    expect(JSON.parse(terraform(dir, ["output", "-json", "text"]).stdout)).toBe(text);
  });

  it("GIVEN an existing secret whose JSON key holds $, % and braces WHEN synthesized THEN valueFrom carries it, escaped for Terraform", () => {
    const { json } = synth(SETTINGS);
    const containers = JSON.parse(json.resource.aws_ecs_task_definition.worker_task_definition.container_definitions);
    expect(containers[0].secrets[0].valueFrom).toBe(`${SETTINGS.existing_api_key_secret_arn.split(`:${JSON_KEY}`)[0]}:${literal(JSON_KEY)}::`);
  });

  it("GIVEN values with %, $, {, } and <>& WHEN Terraform gets the file the stack was synthesized from THEN the plan-time check passes; an edited value fails it", () => {
    const values = {
      ...SETTINGS,
      prefect_api_url: undefined,
      existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/key-AbC123:a%b}<c>&d%$",
      flow_run_image: "registry.example.com/flows:v1",
    };
    const { json } = synth(values);
    const dir = variablesRoot(json.variable);
    const tfvars = (arn: string) =>
      [
        `existing_api_key_secret_arn = ${JSON.stringify(arn).replace(/%\{/g, "%%{")}`,
        'flow_run_image = "registry.example.com/flows:v1"',
        'tags = { Team = "R and D 100 percent" }',
        'availability_zones = ["us-east-1a", "us-east-1b"]',
        'prefect_api_key = "pnu_x"',
        'prefect_account_id = "0b5c1a2e-1111-4222-8333-944455556666"',
        'prefect_workspace_id = "1b5c1a2e-1111-4222-8333-944455556666"',
        "",
      ].join("\n");
    writeFileSync(join(dir, "same.tfvars"), tfvars(values.existing_api_key_secret_arn));
    const same = terraform(dir, ["plan", "-input=false", "-var-file=same.tfvars"], { check: false });
    expect(same.status, same.output).toBe(0);

    writeFileSync(join(dir, "edited.tfvars"), tfvars(values.existing_api_key_secret_arn.replace("a%b}", "a%c}")));
    const edited = terraform(dir, ["plan", "-input=false", "-var-file=edited.tfvars"], { check: false });
    expect(edited.status).toBe(1);
    expect(edited.output).toMatch(/existing_api_key_secret_arn differs from the value the stack was synthesized\s+with/);
  });
});

describe("template syntax in settings", () => {
  const ATTACKS = ['${file("/etc/hostname")}', "%{if true}x%{endif}"];

  it.each(SETTING_KEYS.filter((key) => !SECRET_KEYS.includes(key)))(
    "GIVEN ${…} or %%{…} in %s THEN it is refused, naming the key, before anything is built",
    (key) => {
      for (const attack of ATTACKS) {
        for (const value of [
          `arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123:${attack}`,
          [attack],
          { Team: attack },
          { [attack]: "x" },
        ]) {
          expect(settingsProblems({ [key]: value }), JSON.stringify(value)).toContain(
            `${key} holds "\${" or "%{", which Terraform would run as template syntax at plan`,
          );
        }
      }
    },
  );

  it("GIVEN HCL's escaped forms ($${ and %%{) in terraform.tfvars THEN the value read is template syntax, and it is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-escaped-"));
    const file = join(dir, "terraform.tfvars");
    writeFileSync(
      file,
      [
        'docker_hub_credential_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/k-AbC123:$${file(\\"/etc/hostname\\")}"',
        'tags = { Team = "%%{if true}x%%{endif}" }',
        "",
      ].join("\n"),
    );
    const values = await readTfvars(file);
    expect(values.docker_hub_credential_secret_arn).toContain('${file("/etc/hostname")}');
    const problems = settingsProblems(values);
    expect(problems).toContain('docker_hub_credential_secret_arn holds "${" or "%{"');
    expect(problems).toContain('tags holds "${" or "%{"');
  });

  it("GIVEN the pull-through cache's credential with a :json-key THEN it is refused: ECR takes a whole secret", () => {
    expect(
      settingsProblems({
        ecr_pull_through_cache: "docker_hub",
        docker_hub_credential_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/k-AbC123:username",
      }),
    ).toContain(
      'docker_hub_credential_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/k-AbC123:username" is not valid: a full Secrets Manager secret ARN (ending in the 6-character suffix, no :<json-key>)',
    );
  });
});
