import type { Construct } from "constructs";
import { LocalBackend, TerraformOutput } from "cdktf";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import type { Deployment } from "./settings";
import { localStateFile, stateStackName } from "./naming";
import { ReadableIdStack } from "./stacks/readable-id-stack";
import { declareVariables } from "./stacks/variables";

/** Days an overwritten state version is kept before it expires. */
export const NONCURRENT_STATE_DAYS = 90;

/**
 * The bucket (and lock table) that hold the worker stacks' state. It keeps its own state in a local
 * file, since it cannot live in the bucket it creates; deploy it once, before the worker stack.
 */
export class StateStack extends ReadableIdStack {
  constructor(scope: Construct, deployment: Deployment) {
    const { settings } = deployment;
    super(scope, stateStackName(settings.project_name));
    if (!settings.state_bucket) throw new Error("StateStack needs state_bucket");
    const file = localStateFile(this.node.id);
    new LocalBackend(this, { path: `../../../${file}` });
    new AwsProvider(this, "aws", {
      region: settings.state_region,
      defaultTags: [{ tags: { ...settings.tags, Project: settings.project_name, ManagedBy: "cdktf", Purpose: "terraform-state" } }],
    });
    // cdktf passes terraform.tfvars to every stack, so this one declares the same variables (none required).
    // It serves every environment, so it does not check their values against one environment's.
    declareVariables(
      this,
      deployment,
      { accountAndWorkspace: false, apiKey: false, authString: false, serverDbPassword: false },
      { checkSynthTimeValues: false },
    );

    const bucket = new S3Bucket(this, "bucket", {
      bucket: settings.state_bucket,
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    new S3BucketVersioning(this, "bucket_versioning", { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfiguration(this, "bucket_encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "bucket_public_access_block", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "bucket_ownership", { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketPolicy(this, "bucket_policy", {
      bucket: bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, `${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      // S3 rejects bucket policies while the public access block is being applied.
      dependsOn: [publicAccessBlock],
    });
    new S3BucketLifecycleConfiguration(this, "bucket_lifecycle", {
      bucket: bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: NONCURRENT_STATE_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    // Construct ids share a namespace with the variables (state_bucket is one), so outputs are renamed.
    new TerraformOutput(this, "output_state_bucket", { value: bucket.bucket }).overrideLogicalId("state_bucket_name");

    if (settings.state_lock_table) {
      const table = new DynamodbTable(this, "lock_table", {
        name: settings.state_lock_table,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "LockID",
        attribute: [{ name: "LockID", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: true,
        lifecycle: { preventDestroy: true },
      });
      new TerraformOutput(this, "output_lock_table", { value: table.name }).overrideLogicalId("lock_table_name");
    }
  }
}
