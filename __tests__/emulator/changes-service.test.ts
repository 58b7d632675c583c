import { DescribeScalableTargetsCommand } from "@aws-sdk/client-application-auto-scaling";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { CreateSecretCommand, DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explainedDifferences, unexplainedDifferences } from "../support/emulator-allowlist";
import { applyChange, planChange, restoreWhatCreateServiceDropped } from "../support/emulator-changes";
import { describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, STEP_TIMEOUT } from "../support/emulator-lane";
import { CANARY_API_KEY } from "../support/synth";

/**
 * Changes to the worker service and its credential on a deployed default stack, one at a time. This lane
 * starts without the ECS event observer (its own lane turns it off): with it, every plan here would also
 * re-apply the emulator's SQS formatting difference and wait out SQS propagation again. The secret's
 * recovery window is 0 so the managed secret's name is free again when the stack switches back to it.
 */
const lane = new EmulatorLane("changes-service");
let values: Record<string, unknown> = { ecs_event_observer: false, secret_recovery_window_days: 0 };
let operatorSecretArn: string;

const service = async () =>
  (await lane.aws.ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] })))
    .services![0];

beforeAll(async () => {
  await lane.open();
  // The operator's own secret, for the switch away from the managed one; it exists before the stack.
  operatorSecretArn = (
    await lane.aws.secrets.send(new CreateSecretCommand({ Name: "acme/prefect", SecretString: JSON.stringify({ api_key: CANARY_API_KEY }) }))
  ).ARN!;
  await lane.deploy(values);
  await restoreWhatCreateServiceDropped(lane);
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describe("changes to the worker service and its credential", () => {
  it(
    "GIVEN the service holds what AWS would after CreateService THEN the stack plans no change at all",
    async () => {
      const plan = await lane.stack.plan();
      expect(unexplainedDifferences(plan.json)).toEqual([]);
      expect(explainedDifferences(plan.json)).toEqual([]);
      expect(plan.status).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN autoscaling is turned on (worker_min_count 1, worker_max_count 3) THEN a scalable target and two tracking policies are added, and the service is untouched",
    async () => {
      values = { ...values, worker_min_count: 1, worker_max_count: 3 };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({ aws_appautoscaling_policy: ["create", "create"], aws_appautoscaling_target: ["create"] });
      expect(change.summary).toContain("**Plan:** 3 to add, 0 to change, 0 to replace, 0 to destroy.");
      await applyChange(lane);
      const targets = (await lane.aws.autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" }))).ScalableTargets!;
      expect(targets.map((t) => [t.MinCapacity, t.MaxCapacity])).toEqual([[1, 3]]);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN worker_capacity goes from fargate to fargate_spot THEN the service changes in place (a new deployment), without being replaced",
    async () => {
      values = { ...values, worker_capacity: "fargate_spot" };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({ aws_ecs_service: ["update"] });
      expect(change.summary).toContain("**Plan:** 0 to add, 1 to change, 0 to replace, 0 to destroy.");
      expect(change.summary).not.toContain("Destroys and replacements");
      const before = await service();
      await applyChange(lane);
      const after = await service();
      expect(after.serviceArn).toBe(before.serviceArn);
      expect(after.capacityProviderStrategy).toEqual([expect.objectContaining({ capacityProvider: "FARGATE_SPOT", weight: 1 })]);
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN the managed secret is swapped for the operator's (existing_api_key_secret_arn) THEN the stack's secret is deleted, the roles' policies change in place and the worker's task definition is replaced",
    async () => {
      const managedArn = lane.outputs.prefect_credential_secret_arn;
      values = { ...values, existing_api_key_secret_arn: `${operatorSecretArn}:api_key` };
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({
        aws_ecs_service: ["update"],
        aws_ecs_task_definition: ["replace"],
        aws_iam_role_policy: ["update", "update"],
        aws_secretsmanager_secret: ["delete"],
        aws_secretsmanager_secret_version: ["delete"],
      });
      expect(change.summary).toContain("**Plan:** 0 to add, 3 to change, 1 to replace, 2 to destroy.");
      expect(change.summary).toMatch(/⚠️ \*\*destroy\*\* `aws_secretsmanager_secret\.[a-z_]+`/);
      await applyChange(lane);
      const taskDefinition = (await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: (await service()).taskDefinition })))
        .taskDefinition!;
      expect(taskDefinition.containerDefinitions![0].secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: `${operatorSecretArn}:api_key::` }]);
      const deleted = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: managedArn })).catch((error) => error);
      expect(deleted.name).toBe("ResourceNotFoundException");
    },
    STEP_TIMEOUT,
  );

  it(
    "WHEN existing_api_key_secret_arn is removed again THEN a managed secret is created, the roles' policies change in place and the worker's task definition is replaced",
    async () => {
      const { existing_api_key_secret_arn: _operators, ...managed } = values;
      values = managed;
      const change = await planChange(lane, values);
      expect(change.actions).toEqual({
        aws_ecs_service: ["update"],
        aws_ecs_task_definition: ["replace"],
        aws_iam_role_policy: ["update", "update"],
        aws_secretsmanager_secret: ["create"],
        aws_secretsmanager_secret_version: ["create"],
      });
      expect(change.summary).toContain("**Plan:** 2 to add, 3 to change, 1 to replace, 0 to destroy.");
      await applyChange(lane);
      const taskDefinition = (await lane.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: (await service()).taskDefinition })))
        .taskDefinition!;
      expect(taskDefinition.containerDefinitions![0].secrets).toEqual([
        { name: "PREFECT_API_KEY", valueFrom: lane.outputs.prefect_credential_secret_arn },
      ]);
    },
    STEP_TIMEOUT,
  );
});

describeReplanAndDestroy(lane);
