import { DescribeSecretCommand, RestoreSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daysUntil, destroyLeavesNothing } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, STEP_TIMEOUT } from "../support/emulator-lane";

/**
 * README's destroy blocker for the secret: a destroyed secret waits out secret_recovery_window_days, so
 * its name cannot be used again until then; 0 deletes it at once. The observer is off in this lane: it
 * plays no part here and its SQS waits would only slow the lane.
 */
const lane = new EmulatorLane("blockers-secret");
let values: Record<string, unknown> = { ecs_event_observer: false };
let secretArn: string;
let secretName: string;

const secretAddress = () => `aws_secretsmanager_secret.${Object.keys(lane.json.resource.aws_secretsmanager_secret)[0]}`;

beforeAll(async () => {
  await lane.deploy(values);
  secretArn = lane.outputs.prefect_credential_secret_arn;
  secretName = (await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).Name!;
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describe("the secret's recovery window", () => {
  it(
    "GIVEN the default window WHEN destroyed THEN nothing of the stack is left and the secret is scheduled for deletion in 7 days",
    async () => {
      expect(lane.settings.secret_recovery_window_days).toBe(7);
      await destroyLeavesNothing(lane);
      const secret = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
      expect(daysUntil(secret.DeletedDate)).toBeCloseTo(7, 1);
    },
    DEPLOY_TIMEOUT,
  );

  it(
    "WHEN the same stack is deployed again within the window THEN creating the secret is refused, naming it",
    async () => {
      const run = await lane.stack.run(["apply", "-auto-approve", "-input=false", "-parallelism=20"]);
      expect(run.status).toBe(1);
      // AWS says "already scheduled for deletion" (InvalidRequestException); moto says "already exists".
      expect(run.output).toMatch(/creating Secrets Manager Secret[\s\S]*(scheduled for deletion|already exists)/);
      expect(run.output).toContain(secretName);
    },
    DEPLOY_TIMEOUT,
  );

  it(
    "GIVEN the secret is restored WHEN deploying THEN it is still refused until the restored secret is imported, and then the stack converges",
    async () => {
      await lane.aws.secrets.send(new RestoreSecretCommand({ SecretId: secretArn }));
      const refused = await lane.stack.run(["apply", "-auto-approve", "-input=false", "-parallelism=20"]);
      expect(refused.status).toBe(1);
      expect(refused.output).toMatch(/already exists/);
      const imported = await lane.stack.run(["import", "-input=false", secretAddress(), secretArn]);
      expect(imported.status, imported.output).toBe(0);
      await lane.stack.apply();
      await lane.refreshOutputs();
      expect(lane.outputs.prefect_credential_secret_arn).toBe(secretArn);
    },
    DEPLOY_TIMEOUT,
  );

  it(
    "GIVEN secret_recovery_window_days = 0 WHEN destroyed THEN the secret is deleted at once, so the name is free again",
    async () => {
      values = { ...values, secret_recovery_window_days: 0 };
      lane.reconfigure(values);
      await lane.stack.apply();
      await destroyLeavesNothing(lane);
      const gone = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretName })).catch((error) => error);
      expect(gone.name).toBe("ResourceNotFoundException");
    },
    STEP_TIMEOUT,
  );

  it("GIVEN the whole lifecycle THEN the emulator was never asked for an operation it does not implement", () => {
    expect([...lane.emulator.notImplemented]).toEqual([]);
  });
});
