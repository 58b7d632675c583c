import { Construct } from "constructs";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import type { ITerraformDependable } from "cdktf";
import type { ContainerSecret } from "../security/secrets";
import {
  BOOTSTRAP_START_PERIOD_SECONDS,
  SERVER_WAIT_ENV,
  SERVER_WAIT_SECONDS,
  TEMPLATE_ENV,
  workerBootstrapScript,
} from "../work-pool/worker-bootstrap";
import { stackOutput } from "../stacks/outputs";

export const WORKER_CONTAINER_NAME = "prefect-worker";
/** Port of the worker's built-in health endpoint (`prefect worker start --with-healthcheck`). */
export const WORKER_HEALTH_PORT = 8080;

export interface WorkerServiceProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly clusterArn: string;
  /** The ECS work pool the worker polls. */
  readonly workPoolName: string;
  /** Work queues to poll. @default all queues of the pool */
  readonly workQueues?: string[];
  readonly image: string;
  /** Fargate CPU units; a valid pair with `memory` (validated in settings). */
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
  readonly cpuArchitecture: "X86_64" | "ARM64";
  readonly desiredCount: number;
  /** Run on FARGATE_SPOT (about 70% cheaper; ECS restarts the worker after an interruption). @default false */
  readonly spot?: boolean;
  /** PREFECT_API_URL; may hold Terraform interpolations of plan-time variables. */
  readonly prefectApiUrl: string;
  /** The Prefect credential, injected with `secrets[].valueFrom`. @default none (self-hosted without auth) */
  readonly credential?: ContainerSecret;
  readonly logGroupName: string;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  /** Private subnets; the worker never gets a public IP. */
  readonly subnetIds: string[];
  /** A public IP for the worker (tasks in public subnets, no NAT); security groups still allow no inbound traffic. @default false */
  readonly assignPublicIp?: boolean;
  readonly securityGroupIds: string[];
  /** Mount the root filesystem read-only, with a scratch volume at /tmp. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** More environment variables for the worker (never secrets). @default none */
  readonly extraEnvironment?: Record<string, string>;
  /** Leave desired_count to Application Auto Scaling after creation. @default false */
  readonly autoscaled?: boolean;
  /** Allow `aws ecs execute-command` into the worker. @default false */
  readonly enableEcsExec?: boolean;
  /**
   * The worker creates or overwrites its pool from this template before it starts (an in-stack server the
   * operator's machine cannot reach). The value is gzipped and base64-encoded (Terraform's base64gzip).
   * @default none: the pool is managed from outside the VPC, or not at all
   */
  readonly createPoolFromTemplate?: string;
  /** Resources the service must wait for (e.g. the cluster's capacity providers). */
  readonly dependsOn?: ITerraformDependable[];
}

/** The long-running Prefect worker: a Fargate task definition and the service that keeps it running. */
export class WorkerService extends Construct {
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const readOnly = props.readOnlyRootFilesystem ?? true;
    const workerStart = ["prefect", "worker", "start", "--pool", props.workPoolName, "--type", "ecs", "--with-healthcheck"];
    for (const queue of props.workQueues ?? []) workerStart.push("--work-queue", queue);
    const bootstrap = props.createPoolFromTemplate !== undefined;
    const command = bootstrap ? ["/bin/sh", "-c", workerBootstrapScript(workerStart)] : workerStart;

    const environment = [
      { name: "PREFECT_API_URL", value: props.prefectApiUrl },
      { name: "PREFECT_WORKER_WEBSERVER_PORT", value: String(WORKER_HEALTH_PORT) },
      // Prefect writes its profile and caches under PREFECT_HOME; keep that on the writable scratch volume.
      { name: "PREFECT_HOME", value: "/tmp/prefect" },
      ...Object.entries(props.extraEnvironment ?? {}).map(([name, value]) => ({ name, value })),
      ...(bootstrap
        ? [
            { name: "WORK_POOL", value: props.workPoolName },
            { name: "WORK_QUEUES", value: (props.workQueues ?? []).join(" ") },
            { name: TEMPLATE_ENV, value: props.createPoolFromTemplate },
            { name: SERVER_WAIT_ENV, value: String(SERVER_WAIT_SECONDS) },
          ]
        : []),
    ];
    const container = {
      name: WORKER_CONTAINER_NAME,
      image: props.image,
      essential: true,
      command,
      environment,
      secrets: props.credential ? [{ name: props.credential.envName, valueFrom: props.credential.valueFrom }] : [],
      readonlyRootFilesystem: readOnly,
      mountPoints: readOnly ? [{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }] : [],
      linuxParameters: { initProcessEnabled: true },
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": props.logGroupName, "awslogs-region": props.region, "awslogs-stream-prefix": "worker" },
      },
      healthCheck: {
        command: [
          "CMD-SHELL",
          `python -c "import urllib.request; urllib.request.urlopen('http://localhost:${WORKER_HEALTH_PORT}/health', timeout=5)" || exit 1`,
        ],
        interval: 30,
        timeout: 10,
        retries: 3,
        // With the pool step, the worker first waits for the server (its migrations) and writes the pool.
        startPeriod: bootstrap ? BOOTSTRAP_START_PERIOD_SECONDS : 60,
      },
    };

    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: `${props.namePrefix}-worker`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu),
      memory: String(props.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: props.cpuArchitecture },
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      // Rendered as JSON text with Terraform interpolations for ARNs, so it reads like the ECS console.
      containerDefinitions: JSON.stringify([container]),
      volume: readOnly ? [{ name: "scratch" }] : undefined,
    });

    this.service = new EcsService(this, "service", {
      name: `${props.namePrefix}-worker`,
      cluster: props.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: props.desiredCount,
      capacityProviderStrategy: [{ capacityProvider: props.spot ? "FARGATE_SPOT" : "FARGATE", weight: 1, base: 0 }],
      // Lets a capacity-provider change roll out as a deployment instead of replacing the service.
      forceNewDeployment: true,
      platformVersion: "LATEST",
      networkConfiguration: { subnets: props.subnetIds, securityGroups: props.securityGroupIds, assignPublicIp: props.assignPublicIp ?? false },
      // Start the replacement before stopping the old worker: no gap in polling during deploys.
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      enableExecuteCommand: props.enableEcsExec ?? false,
      dependsOn: props.dependsOn,
      // The scaler owns the task count; re-applying must not reset it.
      lifecycle: props.autoscaled ? { ignoreChanges: ["desired_count"] } : undefined,
    });
    stackOutput(this, "worker_service_name", this.service.name, "ECS service running the Prefect worker");
  }
}
