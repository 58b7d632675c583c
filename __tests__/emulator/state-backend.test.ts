import { spawn } from "node:child_process";
import { DescribeContinuousBackupsCommand, DescribeTableCommand, DeleteTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulatorS3Backend } from "../support/emulator";
import { type Inventory, inventory } from "../support/emulator-aws";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane, leftBehind, ROOT, STEP_TIMEOUT } from "../support/emulator-lane";
import { EmulatedStack, OVERRIDE_FILE } from "../support/emulator-stack";
import { PLAN_TIME_ENV, synth, synthState, type TerraformJson } from "../support/synth";
import { terraformTooling } from "../support/terraform";

/**
 * The state bootstrap stack applied in the emulator, then the worker stack (with an unmanaged work pool)
 * keeping its state in that bucket, locked by that table, through Terraform's real S3 backend.
 */
const BUCKET = "acme-prefect-ecs-state";
const VALUES = { manage_work_pool: false, state_bucket: BUCKET };
const lane = new EmulatorLane("state-backend");
let bootstrap: EmulatedStack;
let bootstrapJson: TerraformJson;
let backend: { bucket: string; key: string; dynamodb_table: string; encrypt: boolean };
let empty: Inventory;

beforeAll(async () => {
  await lane.open();
  empty = await inventory(lane.aws);
  bootstrapJson = synthState(VALUES).json;
  bootstrap = new EmulatedStack("state-bootstrap", lane.emulator).configure(bootstrapJson);
  await bootstrap.init();
  await bootstrap.apply();
  backend = synth(VALUES).json.terraform.backend.s3;
}, DEPLOY_TIMEOUT);
afterAll(async () => {
  await lane.close();
  bootstrap?.saveTimings(ROOT);
});

const lockIds = async () =>
  ((await lane.aws.dynamodb.send(new ScanCommand({ TableName: backend.dynamodb_table }))).Items ?? []).map((item) => item.LockID.S!).sort();

describe("the state bootstrap stack, applied", () => {
  it("GIVEN the state bucket THEN versioning, AES-256 encryption, all four public-access blocks, owner-enforced objects, TLS-only access and old-version expiry are in force", async () => {
    const { s3 } = lane.aws;
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: BUCKET }))).Status).toBe("Enabled");
    const encryption = (await s3.send(new GetBucketEncryptionCommand({ Bucket: BUCKET }))).ServerSideEncryptionConfiguration!;
    expect(encryption.Rules![0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe("AES256");
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: BUCKET }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: BUCKET }))).OwnershipControls?.Rules).toEqual([
      { ObjectOwnership: "BucketOwnerEnforced" },
    ]);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy!);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    const lifecycle = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }))).Rules!;
    expect(lifecycle.map((r) => [r.Status, r.NoncurrentVersionExpiration?.NoncurrentDays])).toEqual([["Enabled", 90]]);
  });

  it("GIVEN the lock table THEN it is keyed by LockID, on demand, with point-in-time recovery, encryption and deletion protection", async () => {
    const { dynamodb } = lane.aws;
    const table = (await dynamodb.send(new DescribeTableCommand({ TableName: backend.dynamodb_table }))).Table!;
    expect(table.KeySchema).toEqual([{ AttributeName: "LockID", KeyType: "HASH" }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: "LockID", AttributeType: "S" }]);
    expect(table.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(table.DeletionProtectionEnabled).toBe(true);
    expect(table.SSEDescription?.Status).toBe("ENABLED");
    const backups = (await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: backend.dynamodb_table }))).ContinuousBackupsDescription!;
    expect(backups.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe("ENABLED");
  });

  // moto evaluates the Deny without its aws:SecureTransport condition (see EMULATOR_STEPS), so this proves the
  // policy is attached and enforced on object requests, not that TLS requests pass: that needs real AWS.
  it("GIVEN the TLS-only bucket policy THEN an object request over plain HTTP is refused", async () => {
    const put = await lane.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "probe", Body: "x" })).catch((error) => error);
    expect(put.$metadata?.httpStatusCode).toBe(403);
  });

  it(
    "GIVEN the applied bootstrap stack WHEN planned again THEN nothing changes",
    async () => {
      const plan = await bootstrap.plan();
      expect(plan.status).toBe(0);
    },
    STEP_TIMEOUT,
  );
});

describe("the worker stack, its state in the bucket", () => {
  it(
    "WHEN the worker stack (with an unmanaged work pool) is deployed with the S3 backend THEN it applies, keeping its state in the bucket",
    async () => {
      // See EMULATOR_STEPS: moto would refuse the backend's requests over TLS too, so the checked policy goes.
      await lane.aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
      await lane.deploy(VALUES, { backend: { s3: emulatorS3Backend(backend, lane.emulator.endpoint) } });
      expect(lane.stack.readFile(OVERRIDE_FILE)).toContain('"dynamodb_table": "prefect-ecs-terraform-locks"');
    },
    DEPLOY_TIMEOUT,
  );
});

describe("the worker stack's state in S3", () => {
  it("GIVEN the applied worker stack THEN its state is one encrypted, versioned object at <project>/<environment>/terraform.tfstate", async () => {
    const { s3 } = lane.aws;
    expect(backend.key).toBe("prefect-ecs/dev/terraform.tfstate");
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: backend.key }));
    expect(head.ServerSideEncryption).toBe("AES256");
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET }))).Versions ?? [];
    expect(new Set(versions.map((v) => v.Key))).toEqual(new Set([backend.key]));
    // Terraform writes state as an apply goes; each write is kept as a version.
    expect(versions.length).toBeGreaterThan(1);
    const state = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: backend.key }))).Body!.transformToString());
    expect(state.resources.filter((r: any) => r.mode === "managed").length).toBeGreaterThan(40);
    expect(JSON.stringify(state)).not.toContain(PLAN_TIME_ENV.TF_VAR_prefect_api_key);
  });

  it(
    "GIVEN one operation holds the state lock WHEN another starts THEN the lock table refuses it, and the lock is released afterwards",
    async () => {
      const { bin, env } = terraformTooling();
      expect(await lockIds()).toEqual([`${BUCKET}/${backend.key}-md5`]);
      // `terraform console` takes the state lock and keeps it until it exits.
      const holder = spawn(bin, ["console", "-no-color"], {
        cwd: lane.stack.dir,
        env: { ...env, ...PLAN_TIME_ENV },
        stdio: ["pipe", "ignore", "pipe"],
      });
      let held: string[];
      let second;
      try {
        const deadline = Date.now() + 60_000;
        while (!(held = await lockIds()).includes(`${BUCKET}/${backend.key}`)) {
          if (holder.exitCode !== null || Date.now() > deadline) throw new Error("terraform console never took the state lock");
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        second = await lane.stack.run(["plan", "-input=false", "-lock-timeout=0s"]);
      } finally {
        holder.stdin.end("exit\n");
        await new Promise((resolve) => (holder.exitCode === null ? holder.on("exit", resolve) : resolve(undefined)));
      }
      expect(held).toContain(`${BUCKET}/${backend.key}`);
      expect(second.status).toBe(1);
      expect(second.output).toMatch(/Error acquiring the state lock[\s\S]*ConditionalCheckFailedException/);
      expect(await lockIds()).toEqual([`${BUCKET}/${backend.key}-md5`]);
    },
    STEP_TIMEOUT,
  );
});

describe("the unmanaged work pool", () => {
  it("GIVEN manage_work_pool = false THEN the stack runs no Prefect command and offers the template as an output", () => {
    expect(lane.json.resource.null_resource).toBeUndefined();
    expect(JSON.parse(lane.outputs.base_job_template).variables.properties.cluster.default).toBe(lane.outputs.cluster_arn);
  });
});

describeAppliedStack(lane);

describeReplanAndDestroy(lane, {
  afterDestroy: () => {
    it("GIVEN the worker stack is destroyed THEN its state object remains, holding no resources", async () => {
      const body = await (await lane.aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: backend.key }))).Body!.transformToString();
      expect(JSON.parse(body).resources).toEqual([]);
    });

    it(
      "WHEN the bootstrap stack is destroyed THEN Terraform refuses (prevent_destroy), and the table refuses deletion too",
      async () => {
        const run = await bootstrap.destroy();
        expect(run.status).toBe(1);
        expect(run.output).toContain("aws_s3_bucket.bucket has lifecycle.prevent_destroy set");
        expect(run.output).toContain("aws_dynamodb_table.lock_table has lifecycle.prevent_destroy set");
        const deleteTable = await lane.aws.dynamodb.send(new DeleteTableCommand({ TableName: backend.dynamodb_table })).catch((error) => error);
        expect(String(deleteTable)).toMatch(/DeletionProtectionEnabled is set to True/);
      },
      STEP_TIMEOUT,
    );

    it(
      "GIVEN an operator lifts both guards and empties the bucket WHEN the bootstrap stack is destroyed THEN nothing of it is left",
      async () => {
        const unguarded = structuredClone(bootstrapJson);
        for (const byId of Object.values(unguarded.resource)) for (const resource of Object.values(byId)) delete resource.lifecycle;
        for (const table of Object.values(unguarded.resource.aws_dynamodb_table)) table.deletion_protection_enabled = false;
        // Already removed for the backend (see EMULATOR_STEPS); the operator's teardown has no use for it either.
        delete unguarded.resource.aws_s3_bucket_policy;
        bootstrap.configure(unguarded);
        await bootstrap.apply();
        const versions = await lane.aws.s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET }));
        const objects = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
        await lane.aws.s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects } }));
        const run = await bootstrap.destroy();
        expect(run.status, run.output.slice(-3000)).toBe(0);
        expect(leftBehind(lane, await inventory(lane.aws), empty)).toEqual({});
      },
      STEP_TIMEOUT,
    );
  },
});
