import { describe, expect, it } from "vitest";
import { ACCOUNT, FakeAwsValues, policyProblems, roleUnderTest, simulate } from "./support/iam-simulation";
import { synth, VARIANTS } from "./support/synth";

/**
 * The in-stack Prefect server's two roles, evaluated by a real IAM policy simulator (@cloud-copilot/iam-simulate):
 * the execution role reads the database password and the auth string and no other secret; the task role has only
 * ECS Exec's channels (none without ECS Exec). The server itself calls no AWS API.
 */
const values = { ...VARIANTS.prefect_server, self_hosted_auth: "auth_string" };
const { json } = synth(values);
const fake = new FakeAwsValues(json);
const execution = roleUnderTest(json, fake, "server_execution_role");
const task = roleUnderTest(json, fake, "server_task_role");
const secret = (logicalId: string) => fake.evaluate(`aws_secretsmanager_secret.${logicalId}.arn`);
const OTHER_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:someone-else/password-AbC123`;

const decide = async (role: typeof execution, action: string, resource: string) =>
  (await simulate(role.sessionArn, { action, resource, context: {} }, role.policies)).decision;

describe("the Prefect server's roles, simulated", () => {
  it("GIVEN their policies THEN the simulator finds no unknown action, malformed ARN or inapplicable condition key", async () => {
    for (const role of [execution, task])
      for (const { policy } of role.policies) expect(await policyProblems(policy, "identity", role.sessionArn)).toEqual([]);
  });

  it("GIVEN the execution role THEN it reads the database password and the auth string (ECS resolves secrets[].valueFrom with it)", async () => {
    expect(await decide(execution, "secretsmanager:GetSecretValue", secret("database_password_secret"))).toBe("Allowed");
    expect(await decide(execution, "secretsmanager:GetSecretValue", secret("secrets_secret"))).toBe("Allowed");
  });

  it("GIVEN the execution role THEN another secret, or writing either of its own, is denied", async () => {
    expect(await decide(execution, "secretsmanager:GetSecretValue", OTHER_SECRET)).toBe("ImplicitlyDenied");
    expect(await decide(execution, "secretsmanager:PutSecretValue", secret("database_password_secret"))).toBe("ImplicitlyDenied");
  });

  it("GIVEN the task role THEN it opens ECS Exec's channels and reads no secret", async () => {
    expect(await decide(task, "ssmmessages:OpenDataChannel", "*")).toBe("Allowed");
    expect(await decide(task, "secretsmanager:GetSecretValue", secret("database_password_secret"))).toBe("ImplicitlyDenied");
    expect(await decide(task, "rds:DescribeDBInstances", "*")).toBe("ImplicitlyDenied");
  });

  it("GIVEN prefect_server_ecs_exec = false THEN the task role carries no policy at all", () => {
    const closed = synth({ ...values, prefect_server_ecs_exec: false }).json;
    expect(roleUnderTest(closed, new FakeAwsValues(closed), "server_task_role").policies).toEqual([]);
  });
});
