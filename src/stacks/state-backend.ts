import { LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import { localStateFile, stateKey } from "../naming";

export interface StateBackendProps {
  readonly projectName: string;
  readonly environment: string;
  /** S3 bucket for remote state. @default none: local state file, with a note on moving to S3 */
  readonly bucket?: string;
  /** DynamoDB table for state locking. @default none */
  readonly lockTable?: string;
  /** Lock with a lock file next to the state object (S3-native locking) instead of DynamoDB. @default false */
  readonly useLockfile?: boolean;
  readonly region: string;
}

/** Configures where the stack keeps its state; returns a note for the operator when it stays local. */
export function configureStateBackend(stack: TerraformStack, props: StateBackendProps): string | undefined {
  if (props.bucket) {
    new S3Backend(stack, {
      bucket: props.bucket,
      key: stateKey(props.projectName, props.environment),
      region: props.region,
      dynamodbTable: props.lockTable,
      encrypt: true,
    });
    // cdktf 0.21's S3Backend has no use_lockfile yet.
    if (props.useLockfile) stack.addOverride("terraform.backend.s3.use_lockfile", true);
    return undefined;
  }
  // Relative to cdktf.out/stacks/<stack>, where Terraform runs: the file lives at the project root,
  // outside the synth output, and no machine-specific path ends up in the configuration.
  const file = localStateFile(stack.node.id);
  new LocalBackend(stack, { path: `../../../${file}` });
  return (
    `State for ${stack.node.id} is kept in the local file ${file}. ` +
    `To share it and lock it, set state_bucket (and state_lock_table) in terraform.tfvars, then run ` +
    `"npm run deploy -- --migrate-state" (with several environments, "npm run deploy -- <environment> --migrate-state") once ` +
    `to move the existing state to S3.`
  );
}
