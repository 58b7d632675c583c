/**
 * How recovery looks for each resource type the stack creates, and why that way. `npm run deploy` asks, for every
 * resource the state does not hold, whether AWS already has it: an apply that was killed before it wrote its
 * state leaves such resources behind. The ways:
 *
 * - `tag`: found by its prefect-ecs:address tag (EC2 has no unique names: a second VPC is silently a second VPC).
 * - `name`: found by the name the stack gives it (the service refuses a second one with that name); adopted only
 *   when its tags say it is this stack's own, and a conflict otherwise.
 * - `parent`: cannot carry tags; found inside a parent this stack owns (a route in its route table), and adopted
 *   because the parent is this stack's.
 * - `overwrites`: creating it again overwrites what is there (a Put or attach call), so there is nothing to find.
 * - `new`: creating it again adds a new one that costs nothing and that nothing else refers to, or AWS itself
 *   hands the existing one to Terraform.
 * - `outside`: not in AWS.
 * - `unchecked`: not looked up (yet); the operator is told when one is about to be created after an interrupted
 *   apply, since a leftover would make its create fail (the name is taken) until it is imported by hand.
 */
export type Way = "tag" | "name" | "parent" | "overwrites" | "new" | "outside" | "unchecked";

export interface Approach {
  readonly way: Way;
  /** What is looked up (or why nothing is), for the docs and the deploy's report. */
  readonly why: string;
}

const tag = (why: string): Approach => ({ way: "tag", why });
const name = (why: string): Approach => ({ way: "name", why });
const parent = (why: string): Approach => ({ way: "parent", why });
/** Would be looked up as described; the lookup is not written yet, so the deploy says so instead. */
const unchecked = (would: string): Approach => ({ way: "unchecked", why: `not looked up yet (would be: ${would})` });
const overwrites = (why: string): Approach => ({ way: "overwrites", why });

const EC2 =
  "EC2 DescribeTags by the stack tag (one call for every EC2 resource), then its prefect-ecs:address; a Describe call by id confirms it still exists";

/** Every resource type the stack can create. __tests__/recovery.test.ts fails when a type is missing. */
export const APPROACHES: Readonly<Record<string, Approach>> = {
  aws_vpc: tag(EC2),
  aws_subnet: tag(EC2),
  aws_internet_gateway: tag(EC2),
  aws_eip: tag(EC2),
  aws_nat_gateway: tag(`${EC2} (gateways deleted, deleting or failed are left out)`),
  aws_route_table: tag(EC2),
  aws_security_group: tag(EC2),
  aws_vpc_security_group_ingress_rule: tag(EC2),
  aws_vpc_security_group_egress_rule: tag(EC2),
  aws_vpc_endpoint: tag(`${EC2} (endpoints deleted or being deleted are left out)`),
  aws_flow_log: tag(EC2),
  aws_network_interface: tag(EC2),
  aws_launch_template: tag(EC2),
  aws_kms_key: unchecked("KMS ListKeys and each key's ListResourceTags (keys have no name); keys pending deletion are left out"),
  aws_efs_file_system: unchecked("EFS DescribeFileSystems, whose answer carries each file system's tags"),
  aws_efs_access_point: unchecked("EFS DescribeAccessPoints of the file system, whose answer carries tags"),

  aws_iam_role: name("IAM GetRole by name (its answer carries the tags)"),
  aws_iam_instance_profile: name("IAM GetInstanceProfile by name"),
  aws_cloudwatch_log_group: name("CloudWatch Logs DescribeLogGroups by name, then ListTagsForResource"),
  aws_secretsmanager_secret: name("Secrets Manager DescribeSecret by name (tags, and whether it is scheduled for deletion)"),
  aws_ecr_repository: name("ECR DescribeRepositories by name, then ListTagsForResource"),
  aws_ecs_cluster: name("ECS DescribeClusters by name with its tags"),
  aws_ecs_service: name("ECS DescribeServices by name in the stack's cluster, with its tags"),
  aws_sqs_queue: name("SQS GetQueueUrl by name, then ListQueueTags"),
  aws_cloudwatch_event_rule: name("EventBridge DescribeRule by name, then ListTagsForResource"),
  aws_db_instance: name("RDS DescribeDBInstances by identifier (its answer carries the tags)"),
  aws_db_subnet_group: name("RDS DescribeDBSubnetGroups by name, then ListTagsForResource"),
  aws_db_parameter_group: unchecked("RDS DescribeDBParameterGroups by name, then ListTagsForResource"),
  aws_lb: name("ELB DescribeLoadBalancers by name, then DescribeTags"),
  aws_lb_target_group: name("ELB DescribeTargetGroups by name, then DescribeTags"),
  aws_sns_topic: unchecked("SNS ListTopics for the name, then ListTagsForResource"),
  aws_s3_bucket: name("S3 HeadBucket by name, then GetBucketTagging"),
  aws_dynamodb_table: name("DynamoDB DescribeTable by name, then ListTagsOfResource"),
  aws_service_discovery_private_dns_namespace: unchecked("Cloud Map ListNamespaces for the name, then ListTagsForResource"),
  aws_service_discovery_service: unchecked("Cloud Map ListServices of the namespace for the name, then ListTagsForResource"),
  aws_autoscaling_group: unchecked(
    "Auto Scaling DescribeAutoScalingGroups by name; its tags are tag blocks, not a map, so the stack does not tag it and it is adopted by name when its launch template is this stack's",
  ),
  aws_ecr_pull_through_cache_rule: unchecked(
    "ECR DescribePullThroughCacheRules by prefix; rules cannot carry tags, so the prefix (the stack's name) is the proof",
  ),
  aws_ecs_capacity_provider: unchecked("ECS DescribeCapacityProviders by name, with its tags; one being deleted is left out"),
  aws_budgets_budget: unchecked("Budgets DescribeBudget by name; budgets made by this stack carry its name"),

  aws_route: parent("EC2 DescribeRouteTables of the stack's route table: a route to the same destination"),
  aws_route_table_association: parent("EC2 DescribeRouteTables of the stack's route table: an association with the same subnet"),
  aws_lb_listener: unchecked("ELB DescribeListeners of the stack's load balancer: a listener on the same port"),
  aws_efs_mount_target: unchecked("EFS DescribeMountTargets of the stack's file system: one in the same subnet"),

  aws_appautoscaling_target: overwrites("RegisterScalableTarget updates a target that exists"),
  aws_appautoscaling_policy: overwrites("PutScalingPolicy updates a policy that exists"),
  aws_cloudwatch_event_target: overwrites("PutTargets replaces a target with the same id"),
  aws_cloudwatch_metric_alarm: overwrites("PutMetricAlarm replaces an alarm with the same name"),
  aws_ecr_lifecycle_policy: overwrites("PutLifecyclePolicy replaces the repository's policy"),
  aws_ecs_cluster_capacity_providers: overwrites("PutClusterCapacityProviders replaces the cluster's providers"),
  aws_efs_file_system_policy: overwrites("PutFileSystemPolicy replaces the policy"),
  aws_iam_role_policy: overwrites("PutRolePolicy replaces an inline policy with the same name"),
  aws_iam_role_policy_attachment: overwrites("AttachRolePolicy of an attached policy changes nothing"),
  aws_s3_bucket_lifecycle_configuration: overwrites("PutBucketLifecycleConfiguration replaces the configuration"),
  aws_s3_bucket_ownership_controls: overwrites("PutBucketOwnershipControls replaces the setting"),
  aws_s3_bucket_policy: overwrites("PutBucketPolicy replaces the policy"),
  aws_s3_bucket_public_access_block: overwrites("PutPublicAccessBlock replaces the setting"),
  aws_s3_bucket_server_side_encryption_configuration: overwrites("PutBucketEncryption replaces the setting"),
  aws_s3_bucket_versioning: overwrites("PutBucketVersioning replaces the setting"),
  aws_sns_topic_policy: overwrites("SetTopicAttributes replaces the policy"),
  aws_sns_topic_subscription: overwrites("Subscribe with the same endpoint returns the existing subscription"),
  aws_sqs_queue_policy: overwrites("SetQueueAttributes replaces the policy"),

  aws_ecs_task_definition: name(
    "ECS ListTaskDefinitions of the family, then DescribeTaskDefinition with tags: the newest active revision carrying this stack's tags (a revision costs nothing, but it would otherwise stay active)",
  ),
  aws_secretsmanager_secret_version: {
    way: "new",
    why: "PutSecretValue adds a version with the same value and moves AWSCURRENT to it (importing the old one would force a replacement: its value is write-only)",
  },
  aws_default_security_group: { way: "new", why: "Terraform takes over the VPC's default security group itself; AWS never makes a second" },
  null_resource: { way: "outside", why: "not in AWS: its command creates or updates the Prefect work pool, and either is safe to repeat" },
};

const WAY_TEXT: Readonly<Record<Way, string>> = {
  tag: "its address tag",
  name: "its name, then its tags",
  parent: "its parent",
  overwrites: "nothing to find: a repeat overwrites",
  new: "nothing to find: a repeat is harmless",
  outside: "not in AWS",
  unchecked: "not looked up yet",
};
const WAY_ORDER = Object.keys(WAY_TEXT) as Way[];

/** The table docs/operations.md shows (written by `npm run docs:settings`): every type, its way and what is looked up. */
export function recoveryTable(): string {
  const rows = Object.entries(APPROACHES)
    .sort(([a, x], [b, y]) => WAY_ORDER.indexOf(x.way) - WAY_ORDER.indexOf(y.way) || a.localeCompare(b))
    .map(([type, { way, why }]) => `| \`${type}\` | ${WAY_TEXT[way]} | ${why.replace(/\|/g, "\\|")} |`);
  return ["| Resource type | Found by | What is looked up, and why |", "|---|---|---|", ...rows].join("\n");
}
