import { Fn } from "cdktf";
import { WorkerAutoscaling } from "../compute/autoscaling";
import { OBSERVER_QUEUE_ENV } from "../compute/event-observer";
import { renderedTaskDefinitionBytes, renderedTextBytes, type SizeContributor, taskDefinitionSizeError } from "../compute/task-definition-size";
import { WorkerService } from "../compute/worker-service";
import type { Deployment } from "../settings";
import type { FeatureContext } from "./context";
import type { FlowRunEnvironment } from "./flow-runs";
import type { TaskNetwork } from "./network";
import type { Platform } from "./platform";
import type { InStackServer } from "./prefect-server";

/** The Prefect worker: its ECS service, reading the ECS event queue when there is one, and its autoscaling. */
export class Worker {
  readonly service: WorkerService;
  /** The base job template the worker writes into its pool (an in-stack server with manage_work_pool), gzipped. */
  private readonly poolTemplate?: string;

  constructor(
    private readonly context: FeatureContext,
    network: TaskNetwork,
    platform: Platform,
    flowRuns: FlowRunEnvironment,
    server?: InStackServer,
  ) {
    const { stack, settings } = context;
    const { cluster, iam, logs, secrets, observer, cache } = platform;
    this.poolTemplate = server && settings.manage_work_pool ? Fn.base64gzip(flowRuns.templateJson) : undefined;
    this.service = new WorkerService(stack, "worker", {
      namePrefix: settings.name_prefix,
      region: settings.aws_region,
      clusterArn: cluster.cluster.arn,
      workPoolName: settings.work_pool_name,
      workQueues: settings.work_queues,
      image: platform.image(settings.worker_image),
      cpu: settings.worker_cpu,
      memory: settings.worker_memory,
      cpuArchitecture: settings.worker_cpu_architecture,
      desiredCount: settings.worker_desired_count,
      spot: settings.worker_capacity === "fargate_spot",
      prefectApiUrl: context.prefectApiUrl,
      credential: secrets?.credential,
      logGroupName: logs.workerLogGroup.name,
      executionRoleArn: iam.workerExecutionRole.arn,
      taskRoleArn: iam.workerTaskRole.arn,
      subnetIds: network.taskSubnetIds,
      assignPublicIp: network.assignPublicIp,
      securityGroupIds: [network.workerSecurityGroup.securityGroup.id],
      readOnlyRootFilesystem: settings.worker_read_only_root_filesystem,
      extraEnvironment: observer ? { [OBSERVER_QUEUE_ENV]: observer.queue.name } : undefined,
      autoscaled: settings.worker_autoscaling,
      enableEcsExec: settings.enable_ecs_exec,
      createPoolFromTemplate: this.poolTemplate,
      // The pool exists with this stack's template before the worker first polls it.
      // IAM is eventually consistent and ECS checks nothing up front: without these, a first task can fail to
      // pull its image or read its secret.
      dependsOn: [
        ...cluster.prerequisites,
        ...network.egressPrerequisites,
        ...iam.workerPolicies,
        ...(cache?.policies ?? []),
        ...(secrets?.prerequisites ?? []),
        ...(flowRuns.workPool ? [flowRuns.workPool.templateSync] : []),
        // The worker writes the pool, which names the flow-run resources, once its server is up.
        ...(server ? [...server.server.prerequisites, ...flowRuns.prerequisites] : []),
      ],
    });

    if (settings.worker_autoscaling) {
      new WorkerAutoscaling(stack, "worker_autoscaling", {
        clusterName: cluster.cluster.name,
        serviceName: this.service.service.name,
        minCount: settings.worker_min_count,
        maxCount: settings.worker_max_count,
        cpuTarget: settings.worker_cpu_target,
        memoryTarget: settings.worker_memory_target,
      });
    }
  }

  /**
   * The worker's task definition against ECS's 64 KiB limit. The settings named are those the operator wrote that
   * add text to it, with the bytes each adds: queue names (in the command, and with an in-stack server also in
   * WORK_QUEUES), the pool name, the API URL, the image, and the in-stack server's base job template.
   */
  sizeError({ fileValues }: Deployment): string | undefined {
    const { stack, settings } = this.context;
    const { poolTemplate } = this;
    const bytes = renderedTaskDefinitionBytes(stack, this.service.taskDefinition, settings.aws_region);
    const set = (key: keyof typeof fileValues) => fileValues[key] !== undefined;
    const bootstrap = poolTemplate !== undefined;
    const names = settings.work_queues.reduce((sum, queue) => sum + Buffer.byteLength(queue), 0);
    const contributors: SizeContributor[] = [];
    if (set("work_queues") && settings.work_queues.length)
      contributors.push({
        setting: `work_queues (${settings.work_queues.length} queues, ${names} bytes of names${bootstrap ? ", written twice: in the worker's command and in WORK_QUEUES" : ", each after --work-queue in the worker's command"})`,
        bytes: bootstrap ? 2 * names + 15 * settings.work_queues.length : names + 18 * settings.work_queues.length,
      });
    if (set("work_pool_name"))
      contributors.push({ setting: "work_pool_name", bytes: (bootstrap ? 2 : 1) * Buffer.byteLength(settings.work_pool_name) });
    if (set("prefect_api_url") && settings.prefect_api_url !== undefined)
      contributors.push({ setting: "prefect_api_url", bytes: Buffer.byteLength(settings.prefect_api_url) });
    if (set("worker_image")) contributors.push({ setting: "worker_image", bytes: Buffer.byteLength(settings.worker_image) });
    if (poolTemplate !== undefined && set("prefect_server"))
      contributors.push({
        setting: "prefect_server = true (the work pool's base job template, gzipped and base64-encoded, at most)",
        bytes: renderedTextBytes(stack, poolTemplate, settings.aws_region),
      });
    return taskDefinitionSizeError(
      "The worker's task definition",
      bytes,
      contributors,
      "List fewer or shorter work_queues (with none, the worker polls every queue of its pool), or share the queues between environments, each with its own worker.",
    );
  }
}
