import { describe, expect, it } from "vitest";
import { splitSecretArn } from "../src/security/secrets";
import { only, resources, synth, synthVariant } from "./support/synth";

describe("Prefect credential secret", () => {
  it("GIVEN Prefect Cloud THEN the stack stores the key from the ephemeral variable, write-only", () => {
    const { json } = synth({ secret_recovery_window_days: 0 });
    expect(only(json, "aws_secretsmanager_secret")).toMatchObject({ name: "prefect-ecs-dev/prefect-api-key", recovery_window_in_days: 0 });
    const version = only(json, "aws_secretsmanager_secret_version");
    expect(version).toMatchObject({ secret_string_wo: "${var.prefect_api_key}", secret_string_wo_version: 1 });
    expect(version.secret_string).toBeUndefined();
  });

  it("GIVEN a new key version THEN Terraform pushes the new value", () => {
    expect(only(synth({ prefect_api_key_version: 2 }).json, "aws_secretsmanager_secret_version").secret_string_wo_version).toBe(2);
  });

  it("GIVEN an existing secret THEN no secret is created and IAM is scoped to that secret without the JSON key", () => {
    const { json } = synthVariant("existing_secret");
    expect(resources(json, "aws_secretsmanager_secret")).toEqual({});
    expect(resources(json, "aws_secretsmanager_secret_version")).toEqual({});
    const policy = JSON.parse(resources(json, "aws_iam_role_policy").iam_worker_execution_read_prefect_credential_policy.policy);
    expect(policy.Statement[0].Resource).toBe("arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbC123");
  });

  it("GIVEN an existing secret under a customer-managed key THEN both execution roles may decrypt it through Secrets Manager only", () => {
    const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { json } = synthVariant("existing_secret", { existing_api_key_secret_kms_key_arn: key });
    const policies = resources(json, "aws_iam_role_policy");
    for (const id of ["iam_worker_execution_read_prefect_credential_policy", "iam_flow_run_execution_flow_run_launch_policy"]) {
      expect(JSON.parse(policies[id].policy).Statement).toContainEqual({
        Effect: "Allow",
        Sid: "DecryptPrefectCredential",
        Action: "kms:Decrypt",
        Resource: key,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
      });
    }
  });

  it("GIVEN a self-hosted server with auth_string THEN the secret holds PREFECT_API_AUTH_STRING", () => {
    const { json } = synthVariant("self_hosted");
    expect(only(json, "aws_secretsmanager_secret").name).toBe("prefect-ecs-dev/prefect-api-auth");
    expect(only(json, "aws_secretsmanager_secret_version").secret_string_wo).toBe("${var.prefect_api_auth_string}");
    expect(json.variable.prefect_api_auth_string).toMatchObject({ sensitive: true, ephemeral: true, nullable: false });
  });

  it("GIVEN a self-hosted server without auth THEN there is no secret and no secret read permission", () => {
    const { json } = synth({ prefect_api_url: "https://prefect.example.com/api" });
    expect(resources(json, "aws_secretsmanager_secret")).toEqual({});
    const policies = Object.values(resources(json, "aws_iam_role_policy"));
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      const actions = JSON.parse(policy.policy).Statement.flatMap((st: { Action: string | string[] }) => [st.Action].flat());
      expect(
        actions.filter((action: string) => action.startsWith("secretsmanager:")),
        policy.name,
      ).toEqual([]);
    }
  });

  it("splits a secret ARN from its JSON key", () => {
    expect(splitSecretArn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b-XyZ123:key")).toEqual({
      secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b-XyZ123",
      jsonKey: "key",
    });
    expect(splitSecretArn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-XyZ123").jsonKey).toBeUndefined();
  });
});
