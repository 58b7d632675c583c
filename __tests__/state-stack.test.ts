import { describe, expect, it } from "vitest";
import { NONCURRENT_STATE_DAYS } from "../src/state-stack";
import { only, resources, synth, synthState } from "./support/synth";

describe("state bootstrap stack", () => {
  const { json } = synthState({ state_bucket: "acme-prefect-ecs-state" });

  it("keeps its own state locally, since it creates the bucket", () => {
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.prefect-ecs-state.tfstate" } });
  });

  it("creates the bucket without force_destroy, protected from destroy", () => {
    expect(only(json, "aws_s3_bucket")).toMatchObject({
      bucket: "acme-prefect-ecs-state",
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("versions and encrypts the bucket", () => {
    expect(only(json, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(only(json, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
  });

  it("blocks all public access and disables ACLs", () => {
    expect(only(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(json, "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  it("denies any request not made over TLS", () => {
    const policy = JSON.parse(only(json, "aws_s3_bucket_policy").policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["${aws_s3_bucket.bucket.arn}", "${aws_s3_bucket.bucket.arn}/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("expires overwritten state versions, keeping the current one", () => {
    expect(only(json, "aws_s3_bucket_lifecycle_configuration").rule[0]).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: NONCURRENT_STATE_DAYS }],
    });
  });

  it("creates the lock table the worker stack's backend names", () => {
    expect(only(json, "aws_dynamodb_table")).toMatchObject({
      name: "prefect-ecs-terraform-locks",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
      deletion_protection_enabled: true,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("GIVEN S3-native locking THEN no lock table is created", () => {
    expect(resources(synthState({ state_bucket: "acme-prefect-ecs-state", state_locking: "s3_lockfile" }).json, "aws_dynamodb_table")).toEqual({});
  });

  it("declares the same variables as the worker stack, none required and none checked, so terraform.tfvars serves both", () => {
    expect(Object.keys(json.variable).sort()).toEqual(Object.keys(synth({ state_bucket: "acme-prefect-ecs-state" }).json.variable).sort());
    expect(Object.values(json.variable).every((v) => v.nullable !== false)).toBe(true);
    // It serves every environment: a check against one environment's values would refuse the others' files.
    const checks = Object.values(json.variable).flatMap((v) => v.validation ?? []);
    expect(checks.filter((c: { error_message: string }) => c.error_message.includes("synthesized with"))).toEqual([]);
    expect(synth({}).json.variable.worker_cpu.validation[0].error_message).toContain("synthesized with");
  });
});

describe("the worker stack's S3 backend", () => {
  it("GIVEN state_bucket and state_lock_table THEN the backend names the bucket, the key <project>/<environment>/terraform.tfstate, the lock table and encryption", () => {
    const { json } = synth({ state_bucket: "acme-tfstate", state_lock_table: "acme-locks", environment: "staging" });
    expect(json.terraform.backend.s3).toEqual({
      bucket: "acme-tfstate",
      key: "prefect-ecs/staging/terraform.tfstate",
      region: "us-east-1",
      dynamodb_table: "acme-locks",
      encrypt: true,
    });
  });

  it("GIVEN state_locking = s3_lockfile THEN the backend uses a lock file and no table", () => {
    const { json } = synth({ state_bucket: "acme-tfstate", state_locking: "s3_lockfile" });
    expect(json.terraform.backend.s3).toMatchObject({ bucket: "acme-tfstate", use_lockfile: true });
    expect(json.terraform.backend.s3.dynamodb_table).toBeUndefined();
  });
});
