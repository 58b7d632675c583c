import { DescribeImagesCommand, DescribeRepositoriesCommand, PutImageCommand } from "@aws-sdk/client-ecr";
import { DescribeSecretCommand, RestoreSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daysUntil, destroyLeavesNothing } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, STEP_TIMEOUT } from "../support/emulator-lane";

/**
 * The two destroy blockers docs/proof-and-tests.md describes, as an operator meets them: a repository that still
 * holds images stops the destroy (ecr_force_delete = false), by which time the secret is already deleted and waits out
 * secret_recovery_window_days, so the next deploy cannot create it again. The observer is off in this
 * lane: it plays no part here and its SQS waits would only slow the lane.
 */
const lane = new EmulatorLane("blockers");
let values: Record<string, unknown> = { ecs_event_observer: false };
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 7023, digest: `sha256:${"b".repeat(64)}` },
  layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 32654, digest: `sha256:${"e".repeat(64)}` }],
});
let repository: string;
let secretArn: string;
let secretName: string;

const apply = () => lane.stack.run(["apply", "-auto-approve", "-input=false", "-parallelism=20"]);
const secretAddress = () => `aws_secretsmanager_secret.${Object.keys(lane.json.resource.aws_secretsmanager_secret)[0]}`;

beforeAll(async () => {
  await lane.deploy(values);
  repository = lane.outputs.flows_repository_url.split("/").slice(1).join("/");
  await lane.aws.ecr.send(new PutImageCommand({ repositoryName: repository, imageManifest: MANIFEST, imageTag: "2026-01-01" }));
  secretArn = lane.outputs.prefect_credential_secret_arn;
  secretName = (await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).Name!;
}, DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describe("destroy blockers", () => {
  it(
    "GIVEN an image in the flows repository and ecr_force_delete = false WHEN destroying THEN the destroy stops at that repository, which keeps its image",
    async () => {
      const run = await lane.stack.destroy();
      expect(run.status).toBe(1);
      expect(run.output).toContain("RepositoryNotEmptyException");
      expect(run.output).toContain(repository);
      const left = await lane.stack.stateList();
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^aws_ecr_repository\./);
      expect((await lane.aws.ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName)).toEqual([repository]);
      expect((await lane.aws.ecr.send(new DescribeImagesCommand({ repositoryName: repository }))).imageDetails).toHaveLength(1);
    },
    STEP_TIMEOUT,
  );

  it("GIVEN that stopped destroy THEN the secret is already deleted, scheduled for the end of the 7-day recovery window", async () => {
    expect(lane.settings.secret_recovery_window_days).toBe(7);
    const secret = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
    expect(daysUntil(secret.DeletedDate)).toBeCloseTo(7, 1);
  });

  it(
    "WHEN the stack is deployed again within the window THEN creating the secret is refused, naming it",
    async () => {
      const run = await apply();
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
      const refused = await apply();
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
    "GIVEN ecr_force_delete = true and secret_recovery_window_days = 0 WHEN destroyed THEN the repository goes with its image, the secret is deleted at once, and nothing of the stack is left",
    async () => {
      values = { ...values, ecr_force_delete: true, secret_recovery_window_days: 0 };
      lane.reconfigure(values);
      await lane.stack.apply();
      expect((await lane.aws.ecr.send(new DescribeImagesCommand({ repositoryName: repository }))).imageDetails).toHaveLength(1);
      await destroyLeavesNothing(lane);
      const gone = await lane.aws.secrets.send(new DescribeSecretCommand({ SecretId: secretName })).catch((error) => error);
      expect(gone.name).toBe("ResourceNotFoundException");
    },
    DEPLOY_TIMEOUT,
  );

  it("GIVEN the whole lifecycle THEN the emulator was never asked for an operation it does not implement", () => {
    expect([...lane.emulator.notImplemented]).toEqual([]);
  });
});
