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

/**
 * AmazonEC2ContainerServiceforEC2Role (arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role),
 * default version v10, the document moto 5.2.1 carries (updated 2026-02-12 in AWS's managed policy reference): what the ECS
 * agent on a container instance needs to register, poll, report state, pull from ECR and write logs.
 */
export const AMAZON_EC2_CONTAINER_SERVICE_FOR_EC2_ROLE = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "ec2:DescribeTags",
        "ecs:CreateCluster",
        "ecs:DeregisterContainerInstance",
        "ecs:DiscoverPollEndpoint",
        "ecs:Poll",
        "ecs:RegisterContainerInstance",
        "ecs:StartTelemetrySession",
        "ecs:UpdateContainerInstancesState",
        "ecs:Submit*",
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ],
      Resource: "*",
    },
    {
      Effect: "Allow",
      Action: ["ecs:TagResource"],
      Resource: "*",
      Condition: { StringEquals: { "ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"] } },
    },
    {
      Effect: "Allow",
      Action: ["ecs:ListTagsForResource"],
      Resource: ["arn:aws:ecs:*:*:task/*/*", "arn:aws:ecs:*:*:container-instance/*/*"],
    },
  ],
} as const;

/** Managed policy documents by the part of their ARN after `arn:<partition>:iam::aws:policy/`. */
export const MANAGED_POLICIES: Record<string, unknown> = {
  "service-role/AmazonECSTaskExecutionRolePolicy": AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY,
  "service-role/AmazonEC2ContainerServiceforEC2Role": AMAZON_EC2_CONTAINER_SERVICE_FOR_EC2_ROLE,
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
