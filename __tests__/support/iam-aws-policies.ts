/**
 * Policy documents AWS owns that the stack relies on: the simulator needs their text, which never
 * appears in cdk.tf.json (only the managed policy's ARN does).
 */

/**
 * AmazonECSTaskExecutionRolePolicy (arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy),
 * default version v1: what the ECS agent needs to pull images from ECR and write awslogs logs.
 */
export const AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ],
      Resource: "*",
    },
  ],
} as const;

/** Managed policy documents by the part of their ARN after `arn:<partition>:iam::aws:policy/`. */
export const MANAGED_POLICIES: Record<string, unknown> = {
  "service-role/AmazonECSTaskExecutionRolePolicy": AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY,
};

/**
 * The default key policy AWS KMS gives a customer-managed key ("Enable IAM User Permissions"): it lets
 * IAM policies of the account grant use of the key. KMS honours identity policies only when the key
 * policy says so, so the operator's key is assumed to keep this statement.
 */
export const defaultKmsKeyPolicy = (account: string) => ({
  Version: "2012-10-17",
  Id: "key-default-1",
  Statement: [
    {
      Sid: "Enable IAM User Permissions",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
});
