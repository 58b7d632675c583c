import { CreateSecretCommand, DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { added, inventory } from "../support/emulator-aws";
import { describeAppliedStack, destroyLeavesNothing, replanIsClean } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, STEP_TIMEOUT } from "../support/emulator-lane";
import { CANARY_API_KEY } from "../support/synth";

/** The operator's own secret (a JSON key of it), created in the emulator first; the stack reads it and never touches it. */
const lane = new EmulatorLane("existing-secret");
let secretArn: string;

beforeAll(async () => {
  await lane.open();
  secretArn = (
    await lane.aws.secrets.send(new CreateSecretCommand({ Name: "prefect/api-key", SecretString: JSON.stringify({ api_key: CANARY_API_KEY }) }))
  ).ARN!;
  await lane.deploy({ existing_api_key_secret_arn: `${secretArn}:api_key` });
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("the operator's secret", () => {
  it("GIVEN existing_api_key_secret_arn THEN the stack creates no secret of its own", async () => {
    expect(added(lane.baseline, await inventory(lane.aws))["secretsmanager secrets"]).toBeUndefined();
    expect(lane.outputs.prefect_credential_secret_arn).toBe(secretArn);
  });

  it(
    "GIVEN the applied stack WHEN planned again THEN nothing changes except the allowlisted emulator differences",
    async () => {
      await replanIsClean(lane);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN destroyed THEN nothing of the stack is left, and the operator's secret is untouched",
    async () => {
      await destroyLeavesNothing(lane);
      const operators = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
      expect(operators.DeletedDate).toBeUndefined();
    },
    DEPLOY_TIMEOUT,
  );

  it("GIVEN the whole lifecycle THEN the emulator was never asked for an operation it does not implement", () => {
    expect([...lane.emulator.notImplemented]).toEqual([]);
  });
});
