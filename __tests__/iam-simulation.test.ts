import { describe, expect, it } from "vitest";
import { OBSERVER_QUEUE_ENV } from "../src/compute/event-observer";
import {
  ACCOUNT,
  FakeAwsValues,
  PARTITION,
  policyProblems,
  roleUnderTest,
  simulate,
  type Decision,
  type Request,
  type RoleUnderTest,
} from "./support/iam-simulation";
import { AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY, defaultKmsKeyPolicy } from "./support/iam-aws-policies";
import { synth, VARIANTS, type TerraformJson } from "./support/synth";

/**
 * IAM policy simulation: the policies this stack synthesizes, with concrete ARNs, evaluated by
 * @cloud-copilot/iam-simulate against every AWS call the worker, its ECS observer and the ECS agent
 * make for the stack, and against calls that must be refused.
 *
 * Calls are read from prefect-aws at PrefectHQ/prefect ce79dd3d6cfa2b7337265498210dbc4d25bcdc98
 * (src/integrations/prefect-aws/prefect_aws/...); the ECS agent's from the AWS documentation.
 */
const WORKER = "workers/ecs_worker.py";
const OBSERVER = "observers/ecs.py";
const DOCS = {
  executionRole: "AWS: Amazon ECS task execution IAM role (task_execution_IAM_role.html)",
  awslogs: "AWS: Send Amazon ECS logs to CloudWatch, awslogs-create-group (using_awslogs.html)",
  secrets: "AWS: Pass Secrets Manager secrets through Amazon ECS environment variables (secrets-envvar-secrets-manager.html)",
  kms: "AWS: How Secrets Manager uses AWS KMS, kms:ViaService (security-encryption.html)",
  passRole: "AWS: Amazon ECS task IAM role, iam:PassRole for RunTask (task-iam-roles.html)",
  tagOnCreate: "AWS: Grant permission to tag resources on creation, ecs:CreateAction (supported-iam-actions-tagging.html)",
  efs: "AWS: Specify an Amazon EFS file system in a task definition, IAM authorization uses the task role (efs-volumes.html)",
  exec: "AWS: Monitor Amazon ECS containers with ECS Exec, task role permissions (ecs-exec.html)",
  eventBridge: "AWS: Amazon SQS queue permissions for EventBridge targets (eb-use-resource-based.html)",
  trust: "AWS: Amazon ECS task IAM role trust policy (task-iam-roles.html)",
};

const KMS_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const EU_SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prefect/api-key-AbC123`;
const EU_KMS_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_ACCOUNT = "210987654321";
const DEPLOYMENT_ID = "6f1c2a4e-0b7d-4c55-9a1e-3d2b8c7e9f01";
/** An ECS task id, as in task ARNs and awslogs stream names. */
const TASK_ID = "0123456789abcdef0123456789abcdef";

interface Scenario {
  readonly name: string;
  readonly values: Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  { name: "the default stack", values: VARIANTS.default },
  {
    name: "flow_run_efs, enable_ecs_exec and a worker image in ECR",
    values: { flow_run_efs: true, enable_ecs_exec: true, worker_image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev/worker:3.6.28` },
  },
  { name: "ecs_event_observer = false", values: { ecs_event_observer: false } },
  { name: "existing_secret", values: VARIANTS.existing_secret },
  { name: "existing_secret under a customer-managed KMS key", values: { ...VARIANTS.existing_secret, existing_api_key_secret_kms_key_arn: KMS_KEY } },
  {
    name: "an existing secret and its KMS key in eu-west-1",
    values: { existing_api_key_secret_arn: EU_SECRET, existing_api_key_secret_kms_key_arn: EU_KMS_KEY },
  },
  { name: "self_hosted (auth string)", values: VARIANTS.self_hosted },
];

type RoleKey = "workerExecution" | "workerTask" | "flowRunExecution" | "flowRunTask";
const ROLE_IDS: Record<RoleKey, string> = {
  workerExecution: "iam_worker_execution_role",
  workerTask: "iam_worker_task_role",
  flowRunExecution: "iam_flow_run_execution_role",
  flowRunTask: "iam_flow_run_task_role",
};

/** What ECS starts a container with: image, awslogs destination and Secrets Manager secrets. */
interface ContainerModel {
  readonly ecrRepositoryArn?: string;
  readonly logGroupArn: string;
  readonly logStreamArn: string;
  readonly createsLogGroup: boolean;
  readonly secretArns: string[];
  /** Role ARNs the task runs with (task definition or template defaults). */
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
}

/** The stack as AWS would see it: roles with their policies, and the resources the calls touch. */
interface StackModel {
  readonly scenario: string;
  readonly json: TerraformJson;
  readonly fake: FakeAwsValues;
  readonly region: string;
  readonly roles: Record<RoleKey, RoleUnderTest>;
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly flowRunTaskArn: string;
  readonly flowRunTaskDefinitionArn: string;
  readonly worker: ContainerModel & { readonly queueName?: string };
  readonly flowRun: ContainerModel & { readonly efs?: { readonly fileSystemArn: string; readonly accessPointArn: string } };
  readonly kmsKeyArn?: string;
  readonly efsFileSystemPolicy?: unknown;
  readonly queuePolicy?: unknown;
  readonly eventRuleArn?: string;
}

const arnPrefix = (service: string, region: string, account = ACCOUNT) => `arn:${PARTITION}:${service}:${region}:${account}`;
/** ECS `secrets[].valueFrom` may end in `:json-key:version-stage:version-id`; IAM sees the secret itself. */
const secretOf = (valueFrom: string) => valueFrom.split(":").slice(0, 7).join(":");
const regionOf = (arn: string) => arn.split(":")[3];

/** `<account>.dkr.ecr.<region>.amazonaws.com/<name>[:tag|@digest]` → the repository ARN; other registries → none. */
function ecrRepositoryArn(image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  return match ? `${arnPrefix("ecr", match[2], match[1])}:repository/${match[3]}` : undefined;
}

function awslogs(fake: FakeAwsValues, options: Record<string, string>, containerName: string) {
  const group = fake.resolve(options["awslogs-group"]);
  const logGroupArn = `${arnPrefix("logs", options["awslogs-region"] ?? fake.region)}:log-group:${group}`;
  // awslogs names streams prefix/container-name/task-id.
  return { logGroupArn, logStreamArn: `${logGroupArn}:log-stream:${options["awslogs-stream-prefix"]}/${containerName}/${TASK_ID}` };
}

function modelOf(scenario: Scenario): StackModel {
  const { json } = synth(scenario.values);
  const fake = new FakeAwsValues(json);
  const region = fake.region;
  const roles = Object.fromEntries(Object.entries(ROLE_IDS).map(([key, id]) => [key, roleUnderTest(json, fake, id)])) as Record<
    RoleKey,
    RoleUnderTest
  >;

  // The worker: the ECS task definition this stack registers.
  const taskDefinition = json.resource.aws_ecs_task_definition.worker_task_definition;
  const [container] = JSON.parse(taskDefinition.container_definitions);
  const workerImage = fake.resolve(container.image);
  const workerLogs = container.logConfiguration.options;
  const worker = {
    ecrRepositoryArn: ecrRepositoryArn(workerImage),
    ...awslogs(fake, workerLogs, container.name),
    createsLogGroup: workerLogs["awslogs-create-group"] === "true",
    secretArns: (container.secrets ?? []).map((s: any) => secretOf(fake.resolve(s.valueFrom))),
    executionRoleArn: fake.resolve(taskDefinition.execution_role_arn),
    taskRoleArn: fake.resolve(taskDefinition.task_role_arn),
    queueName: fake.resolveDeep(container.environment.find((e: any) => e.name === OBSERVER_QUEUE_ENV)?.value) as string | undefined,
  };

  // Flow runs: the task definition prefect-aws builds from the work pool template's defaults
  // (ecs_worker.py:1148-1293: awslogs options at 1211-1222, Prefect credential secrets at 1262-1291).
  const template = JSON.parse((json as any).locals.base_job_template);
  const defaults = new Proxy({} as Record<string, any>, { get: (_, name: string) => fake.resolveDeep(template.variables.properties[name]?.default) });
  const flowRunLogs = { "awslogs-create-group": "true", "awslogs-group": "prefect", "awslogs-region": region, ...defaults.cloudwatch_logs_options };
  const efsVolume = template.job_configuration.task_definition.volumes?.find((v: any) => v.efsVolumeConfiguration)?.efsVolumeConfiguration;
  const flowRun = {
    ecrRepositoryArn: ecrRepositoryArn(defaults.image),
    ...awslogs(fake, flowRunLogs, defaults.container_name),
    createsLogGroup: defaults.configure_cloudwatch_logs && flowRunLogs["awslogs-create-group"] === "true",
    secretArns: [defaults.prefect_api_key_secret_arn, defaults.prefect_api_auth_string_secret_arn].filter(Boolean).map(secretOf),
    executionRoleArn: defaults.execution_role_arn,
    taskRoleArn: defaults.task_role_arn,
    efs: efsVolume && {
      fileSystemArn: `${arnPrefix("elasticfilesystem", region)}:file-system/${fake.resolve(efsVolume.fileSystemId)}`,
      accessPointArn: `${arnPrefix("elasticfilesystem", region)}:access-point/${fake.resolve(efsVolume.authorizationConfig.accessPointId)}`,
    },
  };

  const clusterArn: string = defaults.cluster;
  const clusterName = clusterArn.split(":cluster/")[1];
  const efsPolicy = Object.values(json.resource.aws_efs_file_system_policy ?? {})[0];
  const queuePolicy = Object.values(json.resource.aws_sqs_queue_policy ?? {})[0];
  return {
    scenario: scenario.name,
    json,
    fake,
    region,
    roles,
    clusterArn,
    clusterName,
    flowRunTaskArn: `${arnPrefix("ecs", region)}:task/${clusterName}/${TASK_ID}`,
    // Without a family in the template prefect-aws names it prefect_<pool>_<deployment id> (ecs_worker.py:1134-1140).
    flowRunTaskDefinitionArn: `${arnPrefix("ecs", region)}:task-definition/${defaults.family ?? `prefect_${json.output.work_pool_name.value}_${DEPLOYMENT_ID}`}:7`,
    worker,
    flowRun,
    kmsKeyArn: scenario.values.existing_api_key_secret_kms_key_arn as string | undefined,
    efsFileSystemPolicy: efsPolicy && fake.policy(efsPolicy.policy),
    queuePolicy: queuePolicy && fake.policy(queuePolicy.policy),
    eventRuleArn: json.resource.aws_cloudwatch_event_rule ? fake.evaluate("aws_cloudwatch_event_rule.ecs_events_rule.arn") : undefined,
  };
}

const MODELS = SCENARIOS.map(modelOf);

/** Which role makes a call: the one the task definition (or template) names, never assumed. */
function roleNamed(m: StackModel, arn: string): RoleUnderTest {
  const role = Object.values(m.roles).find((r) => r.arn === arn);
  if (!role) throw new Error(`${arn} is none of the stack's four task roles`);
  return role;
}
const workerTaskRole = (m: StackModel) => roleNamed(m, m.worker.taskRoleArn);
const workerExecutionRole = (m: StackModel) => roleNamed(m, m.worker.executionRoleArn);
const flowRunExecutionRole = (m: StackModel) => roleNamed(m, m.flowRun.executionRoleArn);
const flowRunTaskRole = (m: StackModel) => roleNamed(m, m.flowRun.taskRoleArn);

interface Call {
  /** Who calls: the worker, the observer, the ECS agent, … */
  readonly caller: string;
  /** The call as the source spells it. */
  readonly call: string;
  /** File:line at the prefect-aws commit, or the AWS documentation for agent calls. */
  readonly source: string;
  readonly role: (m: StackModel) => RoleUnderTest | { principal: string };
  readonly requests: (m: StackModel) => Request[];
  readonly resourcePolicy?: (m: StackModel) => unknown;
  /** The call happens in this stack at all (e.g. only with the observer's queue). @default always */
  readonly when?: (m: StackModel) => boolean;
}

const withQueue = (m: StackModel) => m.worker.queueName !== undefined;
const queueArn = (m: StackModel) => `${arnPrefix("sqs", m.region)}:${m.worker.queueName}`;
const kmsVia = (secretArn: string) => ({ "kms:ViaService": `secretsmanager.${regionOf(secretArn)}.amazonaws.com` });
/** The operator's key keeps AWS's default key policy, which defers to IAM policies. */
const keyPolicy = () => defaultKmsKeyPolicy(ACCOUNT);
const ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"];

/** Every call made for this stack; each must be ALLOWED. */
const CALLS: Call[] = [
  // The worker (prefect_aws/workers/ecs_worker.py), with its task role.
  {
    caller: "worker",
    call: "ecs_client.describe_task_definition (the cached ARN or the family's latest revision)",
    source: `${WORKER}:1125 (from 963, 985)`,
    role: workerTaskRole,
    requests: () => [{ action: "ecs:DescribeTaskDefinition", resource: "*" }],
  },
  {
    caller: "worker",
    call: "ecs_client.register_task_definition",
    source: `${WORKER}:1106`,
    role: workerTaskRole,
    requests: (m) => [{ action: "ecs:RegisterTaskDefinition", resource: m.flowRunTaskDefinitionArn }],
  },
  {
    caller: "worker",
    call: "ec2_client.describe_vpcs (vpc_id and network_configuration set: _custom_network_configuration)",
    source: `${WORKER}:1354`,
    role: workerTaskRole,
    requests: () => [{ action: "ec2:DescribeVpcs", resource: "*" }],
  },
  {
    caller: "worker",
    call: "ec2_client.describe_subnets",
    source: `${WORKER}:1364`,
    role: workerTaskRole,
    requests: () => [{ action: "ec2:DescribeSubnets", resource: "*" }],
  },
  {
    caller: "worker",
    call: "ecs_client.run_task in this cluster",
    source: `${WORKER}:1587`,
    role: workerTaskRole,
    requests: (m) => [{ action: "ecs:RunTask", resource: m.flowRunTaskDefinitionArn, context: { "ecs:cluster": m.clusterArn } }],
  },
  {
    caller: "worker",
    call: "ecs_client.run_task with tags (the flow run's labels, set at 1560)",
    source: `${WORKER}:1587; ${DOCS.tagOnCreate}`,
    role: workerTaskRole,
    requests: (m) => [{ action: "ecs:TagResource", resource: m.flowRunTaskArn, context: { "ecs:CreateAction": "RunTask" } }],
  },
  {
    caller: "worker",
    call: "ecs_client.run_task passes the flow-run execution and task roles",
    source: `${WORKER}:1587; ${DOCS.passRole}`,
    role: workerTaskRole,
    requests: (m) =>
      [m.flowRun.executionRoleArn, m.flowRun.taskRoleArn].map((resource) => ({
        action: "iam:PassRole",
        resource,
        context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      })),
  },
  {
    caller: "worker",
    call: "ecs_client.stop_task (kill_infrastructure, flow run cancellation)",
    source: `${WORKER}:1726`,
    role: workerTaskRole,
    requests: (m) => [{ action: "ecs:StopTask", resource: m.flowRunTaskArn, context: { "ecs:cluster": m.clusterArn } }],
  },

  // The ECS observer inside the worker (prefect_aws/observers/ecs.py), with the worker's task role.
  ...(
    [
      ["sqs_client.get_queue_url", 265, "sqs:GetQueueUrl"],
      ["sqs_client.receive_message", 295, "sqs:ReceiveMessage"],
      ["sqs_client.delete_message (ack)", 313, "sqs:DeleteMessage"],
      ["sqs_client.change_message_visibility (extend_visibility while handlers run)", 328, "sqs:ChangeMessageVisibility"],
    ] as const
  ).map(([call, line, action]): Call => ({
    caller: "observer",
    call,
    source: `${OBSERVER}:${line}`,
    role: workerTaskRole,
    when: withQueue,
    requests: (m) => [{ action, resource: queueArn(m) }],
  })),
  {
    caller: "observer",
    call: "ecs_client.describe_tasks(include=['TAGS']) (EcsTaskTagsReader.read_tags)",
    source: `${OBSERVER}:154`,
    role: workerTaskRole,
    when: withQueue,
    requests: (m) => [{ action: "ecs:DescribeTasks", resource: m.flowRunTaskArn, context: { "ecs:cluster": m.clusterArn } }],
  },
  {
    caller: "observer",
    call: "ecs_client.describe_task_definition (log configuration of a crashed run)",
    source: `${OBSERVER}:609`,
    role: workerTaskRole,
    when: withQueue,
    requests: () => [{ action: "ecs:DescribeTaskDefinition", resource: "*" }],
  },
  {
    caller: "observer",
    call: "logs_client.get_log_events (stream prefix/container/task-id, built at 658)",
    source: `${OBSERVER}:700`,
    role: workerTaskRole,
    when: withQueue,
    requests: (m) => [{ action: "logs:GetLogEvents", resource: m.flowRun.logStreamArn }],
  },
  {
    caller: "observer",
    call: "ecs_client.deregister_task_definition (tasks tagged prefect.io/degregister-task-definition)",
    source: `${OBSERVER}:1011`,
    role: workerTaskRole,
    when: withQueue,
    requests: () => [{ action: "ecs:DeregisterTaskDefinition", resource: "*" }],
  },
  {
    caller: "EventBridge",
    call: "the rule delivers ECS task state changes to the queue",
    source: DOCS.eventBridge,
    role: () => ({ principal: "events.amazonaws.com" }),
    when: withQueue,
    resourcePolicy: (m) => m.queuePolicy,
    requests: (m) => [{ action: "sqs:SendMessage", resource: queueArn(m), context: { "aws:SourceArn": m.eventRuleArn! } }],
  },

  // The ECS agent starting the worker, with the worker's execution role.
  {
    caller: "ECS agent (worker)",
    call: "pull the worker image from ECR",
    source: DOCS.executionRole,
    role: workerExecutionRole,
    when: (m) => m.worker.ecrRepositoryArn !== undefined,
    requests: (m) => [
      { action: "ecr:GetAuthorizationToken", resource: "*" },
      ...ECR_PULL.map((action) => ({ action, resource: m.worker.ecrRepositoryArn! })),
    ],
  },
  {
    caller: "ECS agent (worker)",
    call: "awslogs: create the log stream and put events",
    source: DOCS.executionRole,
    role: workerExecutionRole,
    requests: (m) => ["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({ action, resource: m.worker.logStreamArn })),
  },
  {
    caller: "ECS agent (worker)",
    call: "secrets[].valueFrom: read the Prefect credential",
    source: DOCS.secrets,
    role: workerExecutionRole,
    when: (m) => m.worker.secretArns.length > 0,
    requests: (m) => m.worker.secretArns.map((resource) => ({ action: "secretsmanager:GetSecretValue", resource })),
  },
  {
    caller: "Secrets Manager for the ECS agent (worker)",
    call: "kms:Decrypt of the credential under its customer-managed key",
    source: `${DOCS.secrets}; ${DOCS.kms}`,
    role: workerExecutionRole,
    when: (m) => m.kmsKeyArn !== undefined,
    resourcePolicy: keyPolicy,
    requests: (m) => m.worker.secretArns.map((secret) => ({ action: "kms:Decrypt", resource: m.kmsKeyArn!, context: kmsVia(secret) })),
  },

  // The ECS agent starting a flow run, with the flow-run execution role.
  {
    caller: "ECS agent (flow run)",
    call: "pull the flow-run image from ECR",
    source: DOCS.executionRole,
    role: flowRunExecutionRole,
    when: (m) => m.flowRun.ecrRepositoryArn !== undefined,
    requests: (m) => [
      { action: "ecr:GetAuthorizationToken", resource: "*" },
      ...ECR_PULL.map((action) => ({ action, resource: m.flowRun.ecrRepositoryArn! })),
    ],
  },
  {
    caller: "ECS agent (flow run)",
    call: 'awslogs-create-group "true" (set by prefect-aws at ecs_worker.py:1214)',
    source: DOCS.awslogs,
    role: flowRunExecutionRole,
    when: (m) => m.flowRun.createsLogGroup,
    requests: (m) => [{ action: "logs:CreateLogGroup", resource: m.flowRun.logGroupArn }],
  },
  {
    caller: "ECS agent (flow run)",
    call: "awslogs: create the log stream and put events",
    source: DOCS.executionRole,
    role: flowRunExecutionRole,
    requests: (m) => ["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({ action, resource: m.flowRun.logStreamArn })),
  },
  {
    caller: "ECS agent (flow run)",
    call: "secrets[].valueFrom from prefect_api_key_secret_arn / prefect_api_auth_string_secret_arn (ecs_worker.py:1263-1291)",
    source: DOCS.secrets,
    role: flowRunExecutionRole,
    when: (m) => m.flowRun.secretArns.length > 0,
    requests: (m) => m.flowRun.secretArns.map((resource) => ({ action: "secretsmanager:GetSecretValue", resource })),
  },
  {
    caller: "Secrets Manager for the ECS agent (flow run)",
    call: "kms:Decrypt of the credential under its customer-managed key",
    source: `${DOCS.secrets}; ${DOCS.kms}`,
    role: flowRunExecutionRole,
    when: (m) => m.kmsKeyArn !== undefined,
    resourcePolicy: keyPolicy,
    requests: (m) => m.flowRun.secretArns.map((secret) => ({ action: "kms:Decrypt", resource: m.kmsKeyArn!, context: kmsVia(secret) })),
  },

  // Inside a flow run, with the flow-run task role.
  {
    caller: "EFS mount helper (flow run)",
    call: "mount the file system read-write through the access point, over TLS",
    source: DOCS.efs,
    role: flowRunTaskRole,
    when: (m) => m.flowRun.efs !== undefined,
    resourcePolicy: (m) => m.efsFileSystemPolicy,
    requests: (m) =>
      ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"].map((action) => ({
        action,
        resource: m.flowRun.efs!.fileSystemArn,
        context: { "elasticfilesystem:AccessPointArn": m.flowRun.efs!.accessPointArn, "aws:SecureTransport": "true" },
      })),
  },

  // Inside the worker, with ECS Exec on.
  {
    caller: "SSM agent (worker, ECS Exec)",
    call: "open the Session Manager channels",
    source: DOCS.exec,
    role: workerTaskRole,
    when: (m) => m.json.resource.aws_ecs_service.worker_service.enable_execute_command === true,
    requests: () =>
      ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"].map(
        (action) => ({
          action,
          resource: "*",
        }),
      ),
  },
];

interface Refusal {
  readonly what: string;
  readonly role: (m: StackModel) => RoleUnderTest | { principal: string };
  readonly request: (m: StackModel) => Request;
  readonly resourcePolicy?: (m: StackModel) => unknown;
  readonly when?: (m: StackModel) => boolean;
  /** @default "ImplicitlyDenied" */
  readonly decision?: Decision;
}

const otherCluster = (m: StackModel) => `${arnPrefix("ecs", m.region)}:cluster/${m.clusterName}-other`;
const otherClustersTask = (m: StackModel) => `${arnPrefix("ecs", m.region)}:task/${m.clusterName}-other/${TASK_ID}`;
const anotherSecret = (m: StackModel) => `${arnPrefix("secretsmanager", m.region)}:secret:someone-else/database-password-Xy12Zw`;
const onlySecret = (m: StackModel) => m.worker.secretArns[0] ?? m.flowRun.secretArns[0];

/** Calls that must be REFUSED: each is one step outside what the callers need. */
const REFUSALS: Refusal[] = [
  {
    what: "RunTask in another cluster",
    role: workerTaskRole,
    request: (m) => ({ action: "ecs:RunTask", resource: m.flowRunTaskDefinitionArn, context: { "ecs:cluster": otherCluster(m) } }),
  },
  {
    what: "RunTask in the account's default cluster",
    role: workerTaskRole,
    request: (m) => ({
      action: "ecs:RunTask",
      resource: m.flowRunTaskDefinitionArn,
      context: { "ecs:cluster": `${arnPrefix("ecs", m.region)}:cluster/default` },
    }),
  },
  {
    what: "RunTask of a task definition shared from another account",
    role: workerTaskRole,
    request: (m) => ({
      action: "ecs:RunTask",
      resource: `${arnPrefix("ecs", m.region, OTHER_ACCOUNT)}:task-definition/shared:1`,
      context: { "ecs:cluster": m.clusterArn },
    }),
  },
  { what: "StopTask on another cluster's task", role: workerTaskRole, request: (m) => ({ action: "ecs:StopTask", resource: otherClustersTask(m) }) },
  {
    what: "DescribeTasks on another cluster's task",
    role: workerTaskRole,
    request: (m) => ({ action: "ecs:DescribeTasks", resource: otherClustersTask(m) }),
  },
  {
    what: "StopTask in a same-named cluster of another region",
    role: workerTaskRole,
    request: (m) => ({
      action: "ecs:StopTask",
      resource: `${arnPrefix("ecs", m.region === "eu-west-1" ? "us-west-2" : "eu-west-1")}:task/${m.clusterName}/${TASK_ID}`,
    }),
  },
  {
    what: "PassRole of the worker's own task role",
    role: workerTaskRole,
    request: (m) => ({ action: "iam:PassRole", resource: m.roles.workerTask.arn, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }),
  },
  {
    what: "PassRole of an unrelated role",
    role: workerTaskRole,
    request: () => ({
      action: "iam:PassRole",
      resource: `arn:${PARTITION}:iam::${ACCOUNT}:role/admin`,
      context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    }),
  },
  {
    what: "PassRole of the flow-run task role to Lambda",
    role: workerTaskRole,
    request: (m) => ({ action: "iam:PassRole", resource: m.flowRun.taskRoleArn, context: { "iam:PassedToService": "lambda.amazonaws.com" } }),
  },
  {
    what: "PassRole of the flow-run execution role to EC2",
    role: workerTaskRole,
    request: (m) => ({ action: "iam:PassRole", resource: m.flowRun.executionRoleArn, context: { "iam:PassedToService": "ec2.amazonaws.com" } }),
  },
  {
    what: "TagResource on an existing resource (not while creating it)",
    role: workerTaskRole,
    request: (m) => ({ action: "ecs:TagResource", resource: m.clusterArn }),
  },
  {
    what: "GetSecretValue of the Prefect credential by the worker's task role (only ECS injects it)",
    role: workerTaskRole,
    when: (m) => onlySecret(m) !== undefined,
    request: (m) => ({ action: "secretsmanager:GetSecretValue", resource: onlySecret(m)! }),
  },
  {
    what: "ReceiveMessage on the dead-letter queue",
    role: workerTaskRole,
    when: withQueue,
    request: (m) => ({ action: "sqs:ReceiveMessage", resource: m.fake.evaluate("aws_sqs_queue.ecs_events_dead_letter_queue.arn") }),
  },
  {
    what: "ReceiveMessage on another queue",
    role: workerTaskRole,
    request: (m) => ({ action: "sqs:ReceiveMessage", resource: `${arnPrefix("sqs", m.region)}:orders` }),
  },
  {
    what: "GetQueueUrl of prefect-aws's default queue name (observer off: no queue is granted)",
    role: workerTaskRole,
    when: (m) => !withQueue(m),
    request: (m) => ({ action: "sqs:GetQueueUrl", resource: `${arnPrefix("sqs", m.region)}:prefect-ecs-tasks-events` }),
  },
  {
    what: "SendMessage to its own queue (only the rule sends)",
    role: workerTaskRole,
    when: withQueue,
    request: (m) => ({ action: "sqs:SendMessage", resource: queueArn(m) }),
  },
  {
    what: "GetQueueAttributes on its own queue (the observer never reads queue attributes)",
    role: workerTaskRole,
    when: withQueue,
    request: (m) => ({ action: "sqs:GetQueueAttributes", resource: queueArn(m) }),
  },
  {
    what: "PurgeQueue on its own queue",
    role: workerTaskRole,
    when: withQueue,
    request: (m) => ({ action: "sqs:PurgeQueue", resource: queueArn(m) }),
  },
  {
    what: "SendMessage to the queue from another EventBridge rule",
    role: () => ({ principal: "events.amazonaws.com" }),
    when: withQueue,
    resourcePolicy: (m) => m.queuePolicy,
    request: (m) => ({
      action: "sqs:SendMessage",
      resource: queueArn(m),
      context: { "aws:SourceArn": `${arnPrefix("events", m.region)}:rule/someone-elses-rule` },
    }),
  },
  {
    what: "GetLogEvents from the worker's own log group (the observer reads flow-run logs only)",
    role: workerTaskRole,
    request: (m) => ({ action: "logs:GetLogEvents", resource: m.worker.logStreamArn }),
  },
  {
    what: "GetSecretValue of another secret by the worker execution role",
    role: workerExecutionRole,
    request: (m) => ({ action: "secretsmanager:GetSecretValue", resource: anotherSecret(m) }),
  },
  {
    what: "GetSecretValue of another secret by the flow-run execution role",
    role: flowRunExecutionRole,
    request: (m) => ({ action: "secretsmanager:GetSecretValue", resource: anotherSecret(m) }),
  },
  {
    what: "CreateLogGroup for any other log group",
    role: flowRunExecutionRole,
    request: (m) => ({ action: "logs:CreateLogGroup", resource: `${arnPrefix("logs", m.region)}:log-group:prefect` }),
  },
  {
    what: "CreateLogGroup by the worker execution role (its group exists and awslogs does not create it)",
    role: workerExecutionRole,
    when: (m) => !m.worker.createsLogGroup,
    request: (m) => ({ action: "logs:CreateLogGroup", resource: m.worker.logGroupArn }),
  },
  ...(["workerExecution", "flowRunExecution"] as const).flatMap((key): Refusal[] => [
    {
      what: `kms:Decrypt called directly, not through Secrets Manager (${key} role)`,
      role: (m) => m.roles[key],
      when: (m) => m.kmsKeyArn !== undefined,
      resourcePolicy: keyPolicy,
      request: (m) => ({ action: "kms:Decrypt", resource: m.kmsKeyArn! }),
    },
    {
      what: `kms:Decrypt through another service, SSM (${key} role)`,
      role: (m) => m.roles[key],
      when: (m) => m.kmsKeyArn !== undefined,
      resourcePolicy: keyPolicy,
      request: (m) => ({
        action: "kms:Decrypt",
        resource: m.kmsKeyArn!,
        context: { "kms:ViaService": `ssm.${regionOf(m.kmsKeyArn!)}.amazonaws.com` },
      }),
    },
    {
      what: `kms:Decrypt through Secrets Manager of another region than the secret's (${key} role)`,
      role: (m) => m.roles[key],
      when: (m) => m.kmsKeyArn !== undefined,
      resourcePolicy: keyPolicy,
      request: (m) => ({
        action: "kms:Decrypt",
        resource: m.kmsKeyArn!,
        // The stack's own region when the secret lives elsewhere.
        context: { "kms:ViaService": `secretsmanager.${regionOf(onlySecret(m)!) === m.region ? "eu-central-1" : m.region}.amazonaws.com` },
      }),
    },
    {
      what: `kms:Decrypt with another key (${key} role)`,
      role: (m) => m.roles[key],
      when: (m) => m.kmsKeyArn !== undefined,
      resourcePolicy: keyPolicy,
      request: (m) => ({
        action: "kms:Decrypt",
        resource: m.kmsKeyArn!.replace(/key\/.*/, "key/ffffffff-ffff-4fff-8fff-ffffffffffff"),
        context: kmsVia(onlySecret(m)!),
      }),
    },
  ]),
  ...(
    [
      [
        "ClientMount through another access point",
        (m: StackModel) => ({ "elasticfilesystem:AccessPointArn": m.flowRun.efs!.accessPointArn.replace(/fsap-\w+/, "fsap-0fedcba9876543210") }),
      ],
      ["ClientMount without an access point", () => ({})],
    ] as const
  ).map(([what, context]): Refusal => ({
    what,
    role: flowRunTaskRole,
    when: (m) => m.flowRun.efs !== undefined,
    resourcePolicy: (m) => m.efsFileSystemPolicy,
    request: (m) => ({
      action: "elasticfilesystem:ClientMount",
      resource: m.flowRun.efs!.fileSystemArn,
      context: { ...context(m), "aws:SecureTransport": "true" },
    }),
  })),
  {
    what: "ClientRootAccess through the access point",
    role: flowRunTaskRole,
    when: (m) => m.flowRun.efs !== undefined,
    resourcePolicy: (m) => m.efsFileSystemPolicy,
    request: (m) => ({
      action: "elasticfilesystem:ClientRootAccess",
      resource: m.flowRun.efs!.fileSystemArn,
      context: { "elasticfilesystem:AccessPointArn": m.flowRun.efs!.accessPointArn, "aws:SecureTransport": "true" },
    }),
  },
  {
    what: "ClientMount of another file system",
    role: flowRunTaskRole,
    when: (m) => m.flowRun.efs !== undefined,
    request: (m) => ({
      action: "elasticfilesystem:ClientMount",
      resource: m.flowRun.efs!.fileSystemArn.replace(/fs-\w+/, "fs-0fedcba9876543210"),
      context: { "elasticfilesystem:AccessPointArn": m.flowRun.efs!.accessPointArn, "aws:SecureTransport": "true" },
    }),
  },
  {
    what: "ClientMount without TLS, refused by the file system policy whatever IAM allows",
    role: flowRunTaskRole,
    when: (m) => m.flowRun.efs !== undefined,
    resourcePolicy: (m) => m.efsFileSystemPolicy,
    decision: "ExplicitlyDenied",
    request: (m) => ({
      action: "elasticfilesystem:ClientMount",
      resource: m.flowRun.efs!.fileSystemArn,
      context: { "elasticfilesystem:AccessPointArn": m.flowRun.efs!.accessPointArn, "aws:SecureTransport": "false" },
    }),
  },
  {
    what: "RunTask by flow-run code (the flow-run task role)",
    role: flowRunTaskRole,
    request: (m) => ({ action: "ecs:RunTask", resource: m.flowRunTaskDefinitionArn, context: { "ecs:cluster": m.clusterArn } }),
  },
  {
    what: "PassRole by flow-run code",
    role: flowRunTaskRole,
    request: (m) => ({ action: "iam:PassRole", resource: m.flowRun.taskRoleArn, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }),
  },
  {
    what: "ssmmessages channels without enable_ecs_exec",
    role: workerTaskRole,
    when: (m) => m.json.resource.aws_ecs_service.worker_service.enable_execute_command !== true,
    request: () => ({ action: "ssmmessages:CreateControlChannel", resource: "*" }),
  },
];

async function run(who: RoleUnderTest | { principal: string }, request: Request, resourcePolicy?: unknown) {
  const principal = "sessionArn" in who ? who.sessionArn : who.principal;
  const policies = "policies" in who ? who.policies : [];
  return simulate(principal, request, policies, resourcePolicy);
}

const ALLOW_ALL = { name: "allow-all", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } };
const nameOf = (who: RoleUnderTest | { principal: string }) => ("name" in who ? `role ${who.name}` : who.principal);

describe.each(MODELS)("IAM simulation: GIVEN $scenario", (m) => {
  const calls = CALLS.filter((c) => c.when?.(m) ?? true);

  for (const call of calls) {
    const who = call.role(m);
    it(`WHEN the ${call.caller} makes ${call.call} [${call.source}] THEN ${nameOf(who)} is ALLOWED`, async () => {
      for (const request of call.requests(m)) {
        const outcome = await run(who, request, call.resourcePolicy?.(m));
        expect({ request, ...outcome }).toEqual({ request, decision: "Allowed", ignoredContextKeys: [] });
      }
    });
  }

  for (const refusal of REFUSALS.filter((r) => r.when?.(m) ?? true)) {
    const who = refusal.role(m);
    it(`WHEN ${nameOf(who)} attempts ${refusal.what} THEN it is DENIED`, async () => {
      const request = refusal.request(m);
      const outcome = await run(who, request, refusal.resourcePolicy?.(m));
      expect({ request, ...outcome }).toEqual({ request, decision: refusal.decision ?? "ImplicitlyDenied", ignoredContextKeys: [] });
      if ("policies" in who && refusal.decision === undefined) {
        // The same request from a role allowed everything goes through: the refusal is the stack's policies' doing.
        expect((await run({ ...who, policies: [ALLOW_ALL] }, request, refusal.resourcePolicy?.(m))).decision).toBe("Allowed");
      }
    });
  }

  it(`THEN ECS (ecs-tasks.amazonaws.com), and no other service, may assume each task role [${DOCS.trust}]`, async () => {
    for (const role of Object.values(m.roles)) {
      const trust = JSON.parse(m.json.resource.aws_iam_role[role.logicalId].assume_role_policy);
      const as = (principal: string) => simulate(principal, { action: "sts:AssumeRole", resource: role.arn }, [], trust).then((o) => o.decision);
      expect([role.name, await as("ecs-tasks.amazonaws.com"), await as("lambda.amazonaws.com"), await as("ec2.amazonaws.com")]).toEqual([
        role.name,
        "Allowed",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
      ]);
    }
  });

  it("THEN the simulator finds no unknown action, malformed ARN or unknown condition key in any synthesized policy", async () => {
    const problems: Record<string, string[]> = {};
    const session = m.roles.workerTask.sessionArn;
    const check = async (name: string, document: unknown, kind: "identity" | "resource", attachedTo?: string) => {
      const found = await policyProblems(document, kind, session, {
        attachedTo,
        resourcePolicyOf: (r) => (r.includes(":kms:") ? keyPolicy() : undefined),
      });
      if (found.length) problems[name] = found;
    };
    for (const [id, p] of Object.entries(m.json.resource.aws_iam_role_policy)) await check(id, m.fake.policy(p.policy), "identity");
    for (const [id, r] of Object.entries(m.json.resource.aws_iam_role)) {
      await check(`${id} trust policy`, m.fake.policy(r.assume_role_policy), "resource", m.fake.evaluate(`aws_iam_role.${id}.arn`));
    }
    for (const type of ["aws_sqs_queue_policy", "aws_efs_file_system_policy"]) {
      for (const [id, p] of Object.entries(m.json.resource[type] ?? {})) await check(id, m.fake.policy(p.policy), "resource");
    }
    await check("AmazonECSTaskExecutionRolePolicy", AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY, "identity");
    expect(problems).toEqual({});
  });

  it("THEN every action granted inline to a task role is one a caller above makes", () => {
    const called = new Map<string, Set<string>>();
    for (const call of calls) {
      const who = call.role(m);
      if (!("arn" in who)) continue;
      for (const { action } of call.requests(m)) called.set(who.arn, new Set([...(called.get(who.arn) ?? []), action]));
    }
    const unused = Object.values(m.roles).flatMap((role) =>
      role.policies
        .filter((p) => p.name in m.json.resource.aws_iam_role_policy)
        .flatMap((p) => p.policy.Statement.flatMap((s: any) => [s.Action].flat()))
        .filter((action: string) => !called.get(role.arn)?.has(action))
        .map((action: string) => `${role.name}: ${action}`),
    );
    // Without the observer's queue the worker still gets what older prefect-aws workers called
    // themselves (watching tasks, streaming logs, deregistering), which the observer does now.
    const kept = withQueue(m)
      ? []
      : ["ecs:DescribeTasks", "logs:GetLogEvents", "ecs:DeregisterTaskDefinition"].map((a) => `${m.roles.workerTask.name}: ${a}`);
    expect(unused.sort()).toEqual(kept.sort());
  });
});
