import reference from "./prefect-aws-ecs-base-job-template.json";

/**
 * The ECS work pool's base job template: prefect-aws's own default (vendored beside this file from the
 * prefect-aws worker source) with this stack's values as variable defaults, so every flow run starts in
 * the right cluster, subnets, security group and roles unless a deployment overrides a value.
 */
/** The parts of prefect-aws's task definition template this stack fills in; the rest passes through untouched. */
export interface TaskDefinitionTemplate {
  containerDefinitions: Record<string, unknown>[];
  volumes?: Record<string, unknown>[];
  taskRoleArn?: string;
  [key: string]: unknown;
}

export interface BaseJobTemplate {
  job_configuration: { task_definition: TaskDefinitionTemplate; [key: string]: unknown };
  variables: { properties: Record<string, Record<string, unknown>>; [key: string]: unknown };
}

export interface FlowRunEfs {
  readonly fileSystemId: string;
  readonly accessPointId: string;
  /** Where the flow container sees the file system. */
  readonly mountPath: string;
}

export interface TemplateValues {
  readonly clusterArn: string;
  readonly vpcId: string;
  /** Private subnets; flow runs never get a public IP. */
  readonly subnetIds: readonly string[];
  /** Flow runs get a public IP (tasks in public subnets, no NAT). @default false */
  readonly assignPublicIp?: boolean;
  /** The flow-run security group (no ingress). */
  readonly securityGroupIds: readonly string[];
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly image: string;
  readonly cpu: number;
  readonly memory: number;
  /** The flow image's CPU architecture: an image built for another one fails with `exec format error`. @default "X86_64" */
  readonly cpuArchitecture?: "X86_64" | "ARM64";
  /** Run flows on FARGATE_SPOT instead of FARGATE. */
  readonly spot: boolean;
  /** Run flows on this EC2 capacity provider's instances instead of Fargate (`spot` is then ignored). @default none */
  readonly ec2CapacityProvider?: string;
  readonly region: string;
  readonly logGroupName: string;
  /** Secrets Manager `valueFrom` of the credential flow runs use. @default none */
  readonly credential?: { readonly envName: "PREFECT_API_KEY" | "PREFECT_API_AUTH_STRING"; readonly valueFrom: string };
  /** @default "prefect", the container name prefect-aws looks for */
  readonly containerName?: string;
  /** Mount an EFS access point into the flow container. @default none */
  readonly efs?: FlowRunEfs;
}

export const EFS_VOLUME_NAME = "efs";

export function buildBaseJobTemplate(values: TemplateValues): BaseJobTemplate {
  const template = structuredClone(reference) as unknown as BaseJobTemplate;
  const setDefault = (name: string, value: unknown) => {
    const property = template.variables.properties[name];
    if (!property) throw new Error(`the reference template has no variable "${name}"`);
    property.default = value;
  };

  setDefault("cluster", values.clusterArn);
  setDefault("vpc_id", values.vpcId);
  setDefault("network_configuration", {
    subnets: [...values.subnetIds],
    securityGroups: [...values.securityGroupIds],
    assignPublicIp: values.assignPublicIp ? "ENABLED" : "DISABLED",
  });
  setDefault("execution_role_arn", values.executionRoleArn);
  setDefault("task_role_arn", values.taskRoleArn);
  setDefault("image", values.image);
  setDefault("cpu", values.cpu);
  setDefault("memory", values.memory);
  // On Fargate only launch_type: the worker turns FARGATE_SPOT into a capacity provider strategy itself, and a
  // default strategy would win over a deployment that overrides launch_type alone (ecs_worker.py).
  if (values.ec2CapacityProvider) {
    // The worker sends a strategy as it is and drops launch_type (ecs_worker.py, _prepare_task_run_request), so
    // RunTask goes to the instances' provider, whose managed scaling adds an instance when none has room. The
    // task definition says EC2 and awsvpc itself: the worker sets those only for Fargate, and an EC2 task would
    // otherwise get bridge networking, outside the flow runs' security group.
    if (values.assignPublicIp) throw new Error("tasks on EC2 instances cannot have public IPs (ECS allows assignPublicIp only on Fargate)");
    setDefault("launch_type", "EC2");
    setDefault("capacity_provider_strategy", [{ capacityProvider: values.ec2CapacityProvider, weight: 1, base: 0 }]);
    template.job_configuration.task_definition.networkMode = "awsvpc";
    template.job_configuration.task_definition.requiresCompatibilities = ["EC2"];
  } else {
    setDefault("launch_type", values.spot ? "FARGATE_SPOT" : "FARGATE");
  }
  setDefault("configure_cloudwatch_logs", true);
  setDefault("cloudwatch_logs_options", {
    "awslogs-group": values.logGroupName,
    "awslogs-region": values.region,
    "awslogs-stream-prefix": "flow-run",
  });
  if (values.credential?.envName === "PREFECT_API_KEY") setDefault("prefect_api_key_secret_arn", values.credential.valueFrom);
  if (values.credential?.envName === "PREFECT_API_AUTH_STRING") setDefault("prefect_api_auth_string_secret_arn", values.credential.valueFrom);
  // With `family` left unset the worker names one family per deployment (prefect_<pool>_<deployment id>);
  // this makes it compare with that family's latest revision after a restart instead of registering anew.
  setDefault("match_latest_revision_in_family", true);
  setDefault("container_name", values.containerName ?? "prefect");

  // Fargate runs X86_64 unless the task definition says otherwise; set it always so the template states it.
  template.job_configuration.task_definition.runtimePlatform = {
    operatingSystemFamily: "LINUX",
    cpuArchitecture: values.cpuArchitecture ?? "X86_64",
  };

  if (values.efs) {
    const taskDefinition = template.job_configuration.task_definition;
    taskDefinition.volumes = [
      {
        name: EFS_VOLUME_NAME,
        efsVolumeConfiguration: {
          fileSystemId: values.efs.fileSystemId,
          // ECS returns rootDirectory "/" when it is omitted; the worker compares task definitions exactly
          // (ecs_worker.py, _task_definitions_equal), so leaving it out registers a new revision per flow run.
          rootDirectory: "/",
          transitEncryption: "ENABLED",
          authorizationConfig: { accessPointId: values.efs.accessPointId, iam: "ENABLED" },
        },
      },
    ];
    taskDefinition.containerDefinitions[0].mountPoints = [{ sourceVolume: EFS_VOLUME_NAME, containerPath: values.efs.mountPath, readOnly: false }];
    // EFS IAM authorization uses the task role of the task definition, not a RunTask override.
    taskDefinition.taskRoleArn = "{{ task_role_arn }}";
  }
  return template;
}

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** Every `{{ name }}` placeholder in a value, in order. */
export function placeholdersIn(value: unknown): string[] {
  if (typeof value === "string") return [...value.matchAll(PLACEHOLDER)].map((m) => m[1]);
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(placeholdersIn);
  return [];
}

/**
 * The placeholders Prefect's server finds in one job_configuration value: it scans the value's JSON text
 * (`json.dumps`, so keys of nested objects count, and non-ASCII characters are `\uXXXX` escapes that no
 * placeholder can hold) with PLACEHOLDER_CAPTURE_REGEX `{{\s*([\w\.\-\[\]$]+)\s*}}`
 * (prefect/utilities/templating/__init__.py, 3.8.3).
 */
function serverPlaceholders(value: unknown): string[] {
  const text = (JSON.stringify(value) ?? "null").replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return [...text.matchAll(/\{\{\s*([\w.\-[\]$]+)\s*\}\}/g)].map((m) => m[1]);
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * What Prefect's server refuses in a base job template, after validate_base_job_template in
 * prefect/server/schemas/actions.py (3.8.3): `{}` (no template) is accepted; otherwise job_configuration and
 * variables must both be non-empty objects (the server tests their truth, then calls `.values()` and `.get()`
 * on them), variables.properties (if given) an object, and every placeholder the server finds in a
 * job_configuration value a key of variables.properties, `prefect.blocks.…` and `prefect.variables.…`
 * included (the server exempts none). Returns the problems; none means the server accepts it. The real-Prefect
 * tier checks this against the server on a corpus of templates.
 */
export function templateProblems(template: unknown): string[] {
  if (!isObject(template)) return ["the template is not a JSON object"];
  if (Object.keys(template).length === 0) return [];
  const { job_configuration, variables } = template as Record<string, unknown>;
  const problems: string[] = [];
  if (!isObject(job_configuration) || Object.keys(job_configuration).length === 0) problems.push("job_configuration is missing or empty");
  if (!isObject(variables) || Object.keys(variables).length === 0) problems.push("variables is missing or empty");
  if (problems.length) return problems;
  const properties = (variables as Record<string, unknown>).properties ?? {};
  if (!isObject(properties)) return ["variables.properties is not an object"];
  const known = new Set(Object.keys(properties));
  const unknown = [...new Set(Object.values(job_configuration as object).flatMap(serverPlaceholders))].filter((name) => !known.has(name));
  return unknown.map((name) => `job_configuration uses {{ ${name} }}, which is not a key of variables.properties`);
}
