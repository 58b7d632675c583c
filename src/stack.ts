import type { Construct } from "constructs";
import { Fn, TerraformLocal } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { WorkerAutoscaling } from "./compute/autoscaling";
import { Alarms } from "./monitoring/alarms";
import { Cluster } from "./compute/cluster";
import { EcsEventObserver, OBSERVER_QUEUE_ENV } from "./compute/event-observer";
import { FlowRunEfs } from "./storage/efs";
import { ExistingSubnets } from "./network/existing-subnets";
import { Iam } from "./security/iam";
import { Logs } from "./storage/logs";
import { Network } from "./network/vpc";
import { Registry } from "./storage/registry";
import { serverNamespace, stackName, TEMPLATE_OUTPUT } from "./naming";
import { planPrefectConnection } from "./settings/prefect-connection";
import { Secrets } from "./security/secrets";
import { TaskSecurityGroup } from "./network/security-groups";
import { type Deployment, SettingsError } from "./settings";
import { configureStateBackend } from "./stacks/state-backend";
import { stackOutput } from "./stacks/outputs";
import { ReadableIdStack } from "./stacks/readable-id-stack";
import { declareVariables } from "./stacks/variables";
import { WorkerService } from "./compute/worker-service";
import { buildBaseJobTemplate } from "./work-pool/template";
import { flowRunDefaultImage } from "./flows/images";
import { cachedImage, PullThroughCache } from "./storage/pull-through-cache";
import { WorkPool } from "./work-pool/work-pool";
import { PrefectServer } from "./compute/prefect-server";
import { PublicListener, SERVER_KEEPALIVE_SECONDS } from "./network/public-listener";
import { Database, DATABASE_NAME, DATABASE_PORT, DATABASE_USER } from "./storage/database";
import { PREFECT_IMAGE } from "./versions";
import { renderedTaskDefinitionBytes, renderedTextBytes, type SizeContributor, taskDefinitionSizeError } from "./compute/task-definition-size";
import type { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";

/**
 * Everything one Prefect worker deployment needs, built from one validated settings object.
 * Terraform logical ids are the construct path without hashes (`network_vpc`), so plans stay readable
 * and stable across refactors that do not rename constructs.
 */
export class PrefectEcsStack extends ReadableIdStack {
  /** Notes for the operator (e.g. how to move local state to S3); main.ts attaches them as warnings. */
  readonly notes: string[] = [];

  constructor(scope: Construct, deployment: Deployment) {
    super(scope, stackName(deployment.settings));
    const { settings } = deployment;
    const prefix = settings.name_prefix;

    new AwsProvider(this, "aws", {
      region: settings.aws_region,
      defaultTags: [{ tags: { ...settings.tags, Project: settings.project_name, Environment: settings.environment, ManagedBy: "cdktf" } }],
    });
    const note = configureStateBackend(this, {
      projectName: settings.project_name,
      environment: settings.environment,
      bucket: settings.state_bucket,
      lockTable: settings.state_lock_table,
      useLockfile: settings.state_locking === "s3_lockfile",
      region: settings.state_region,
    });
    if (note) this.notes.push(note);

    const connection = planPrefectConnection(settings);
    const inputs = declareVariables(this, deployment, connection.required);
    const credentialValue = { prefect_api_key: inputs.prefectApiKey, prefect_api_auth_string: inputs.prefectApiAuthString };
    const partition = new DataAwsPartition(this, "partition").partition;

    const network = settings.existing_vpc_id
      ? undefined
      : new Network(this, "network", {
          namePrefix: prefix,
          region: settings.aws_region,
          cidr: settings.vpc_cidr,
          availabilityZones: settings.availability_zones,
          azCount: settings.az_count,
          partition,
          egress:
            settings.internet_egress === "nat_instance"
              ? { mode: "nat_instance", instanceType: settings.nat_instance_type, imageId: settings.nat_instance_ami_id }
              : settings.internet_egress === "public_subnets"
                ? { mode: "public_subnets" }
                : { mode: "nat_gateway", natGatewayMode: settings.nat_gateway_mode },
          flowLogRetentionDays: settings.log_retention_days,
          interfaceEndpoints: settings.vpc_interface_endpoints,
        });
    const vpcId = network?.vpcId ?? settings.existing_vpc_id!;
    // The subnets tasks run in: private ones behind a NAT, or the public ones with public_subnets egress.
    const taskSubnetIds = network?.taskSubnetIds ?? settings.existing_private_subnet_ids!;
    const assignPublicIp = network?.assignPublicIp ?? false;

    const prefectApiUrl = connection.apiUrlTemplate.replace("{account}", inputs.prefectAccountId).replace("{workspace}", inputs.prefectWorkspaceId);
    const egressPorts = [...connection.egressPorts];
    const outbound = connection.inStackServer
      ? "outbound HTTPS, and the in-stack Prefect server's API"
      : egressPorts.length === 1
        ? "outbound HTTPS only"
        : `outbound TCP ${egressPorts.join(" and ")} only`;
    const workerSecurityGroup = new TaskSecurityGroup(this, "worker_security_group", {
      vpcId,
      name: `${prefix}-worker`,
      description: `Prefect worker: no inbound traffic; ${outbound}`,
      egressPorts,
    });
    const flowRunSecurityGroup = new TaskSecurityGroup(this, "flow_run_security_group", {
      vpcId,
      name: `${prefix}-flow-runs`,
      description: `Prefect flow runs: no inbound traffic; ${outbound}`,
      egressPorts,
    });
    if ((settings.flow_run_efs || settings.prefect_server) && settings.existing_vpc_id) {
      new ExistingSubnets(this, "existing_subnets", {
        vpcId,
        subnetIds: taskSubnetIds,
        oneSubnetPerAz: settings.flow_run_efs,
        minDistinctAzs: settings.prefect_server ? 2 : undefined,
        requireVpcDns: settings.prefect_server,
      });
    }
    const efs = settings.flow_run_efs
      ? new FlowRunEfs(this, "efs", {
          namePrefix: prefix,
          vpcId,
          subnetIds: taskSubnetIds,
          clientSecurityGroupId: flowRunSecurityGroup.securityGroup.id,
        })
      : undefined;

    const registry = new Registry(this, "registry", {
      namePrefix: prefix,
      imageTagMutability: settings.ecr_image_tag_mutability,
      keepImageCount: settings.ecr_keep_image_count,
      keepFlowImageCount: settings.flow_image_keep_count,
      untaggedExpireDays: settings.ecr_untagged_expire_days,
      forceDelete: settings.ecr_force_delete,
    });
    const cluster = new Cluster(this, "cluster", {
      namePrefix: prefix,
      vpcId,
      serviceDiscoveryNamespace: settings.service_discovery_namespace,
      containerInsights: settings.container_insights,
    });

    const { store } = connection;
    const secrets =
      store.kind === "none"
        ? undefined
        : new Secrets(this, "secrets", {
            source:
              store.kind === "existing"
                ? store
                : {
                    kind: "managed",
                    envName: store.envName,
                    secretName: `${prefix}/${store.secretSuffix}`,
                    value: credentialValue[store.variable],
                    version: settings.prefect_api_key_version,
                    recoveryWindowDays: settings.secret_recovery_window_days,
                  },
          });
    const logs = new Logs(this, "logs", { namePrefix: prefix, retentionDays: settings.log_retention_days });

    const observer = settings.ecs_event_observer
      ? new EcsEventObserver(this, "ecs_events", { namePrefix: prefix, clusterArn: cluster.cluster.arn })
      : undefined;

    const iam = new Iam(this, "iam", {
      namePrefix: prefix,
      partition,
      clusterArn: cluster.cluster.arn,
      clusterName: cluster.cluster.name,
      credentialSecretArn: secrets?.credential.secretArn,
      credentialKmsKeyArn: settings.existing_api_key_secret_kms_key_arn,
      region: settings.aws_region,
      flowRunLogGroupArn: logs.flowRunLogGroup.arn,
      flowRunPolicyArns: settings.flow_run_policy_arns,
      flowRunTaskStatements: efs ? [efs.clientStatement()] : [],
      workerTaskStatements: observer ? [observer.consumerStatement()] : [],
      enableEcsExec: settings.enable_ecs_exec,
    });

    // Worker and default flow images come through ECR instead of Docker Hub at run time (rate limits).
    const cache =
      settings.ecr_pull_through_cache === "none"
        ? undefined
        : new PullThroughCache(this, "pull_through_cache", {
            upstream: settings.ecr_pull_through_cache,
            region: settings.aws_region,
            partition,
            credentialArn: settings.docker_hub_credential_secret_arn,
            executionRoles: [iam.workerExecutionRole, iam.flowRunExecutionRole],
          });
    const viaCache = (image: string) =>
      cache && settings.ecr_pull_through_cache !== "none" ? cachedImage(image, settings.ecr_pull_through_cache, cache.registryHost) : image;

    // The in-stack Prefect server (prefect_server): its database, then one server task behind a Cloud Map name.
    let server: PrefectServer | undefined;
    let database: Database | undefined;
    if (connection.inStackServer) {
      const serverSecurityGroup = new TaskSecurityGroup(this, "server_security_group", {
        vpcId,
        name: `${prefix}-prefect-server`,
        description: "Prefect server: its API from the worker and flow runs only; outbound HTTPS and its database",
        egressPorts: [443],
      });
      database = new Database(this, "database", {
        namePrefix: prefix,
        vpcId,
        subnetIds: taskSubnetIds,
        clientSecurityGroupId: serverSecurityGroup.securityGroup.id,
        engineVersion: settings.prefect_server_db_engine_version,
        instanceClass: settings.prefect_server_db_instance_class,
        storageGb: settings.prefect_server_db_storage_gb,
        maxStorageGb: settings.prefect_server_db_max_storage_gb,
        backupRetentionDays: settings.prefect_server_db_backup_retention_days,
        deletionProtection: settings.prefect_server_db_deletion_protection,
        finalSnapshot: settings.prefect_server_db_final_snapshot,
        restoreSnapshot: settings.prefect_server_db_restore_snapshot,
        password: inputs.prefectServerDbPassword,
        passwordVersion: settings.prefect_server_db_password_version,
        secretRecoveryWindowDays: settings.secret_recovery_window_days,
        logRetentionDays: settings.log_retention_days,
      });
      // Opt-in: an internet-facing HTTPS listener (settings require the server's basic auth with it).
      const publicListener = settings.prefect_server_public_certificate_arn
        ? new PublicListener(this, "public_listener", {
            namePrefix: prefix,
            vpcId,
            subnetIds: network!.publicSubnetIds,
            certificateArn: settings.prefect_server_public_certificate_arn,
            // Required with the listener (a settings rule); never defaulted to everyone.
            allowedCidrs: settings.prefect_server_public_cidrs!,
            serverSecurityGroupId: serverSecurityGroup.securityGroup.id,
          })
        : undefined;
      server = new PrefectServer(this, "server", {
        namePrefix: prefix,
        region: settings.aws_region,
        partition,
        clusterArn: cluster.cluster.arn,
        vpcId,
        image: viaCache(PREFECT_IMAGE),
        cpu: settings.prefect_server_cpu,
        memory: settings.prefect_server_memory,
        cpuArchitecture: settings.prefect_server_cpu_architecture,
        subnetIds: taskSubnetIds,
        securityGroupId: serverSecurityGroup.securityGroup.id,
        clientSecurityGroupIds: { worker: workerSecurityGroup.securityGroup.id, flow_runs: flowRunSecurityGroup.securityGroup.id },
        namespaceId: cluster.namespace?.id,
        namespaceName: serverNamespace(settings),
        database: {
          host: database.instance.address,
          port: DATABASE_PORT,
          name: DATABASE_NAME,
          user: DATABASE_USER,
          passwordSecretArn: database.passwordSecret.arn,
          passwordVersion: settings.prefect_server_db_password_version,
        },
        authString: secrets?.credential,
        logRetentionDays: settings.log_retention_days,
        enableEcsExec: settings.prefect_server_ecs_exec,
        publicTarget: publicListener && {
          targetGroupArn: publicListener.targetGroup.arn,
          listener: publicListener.listener,
          keepAliveSeconds: SERVER_KEEPALIVE_SECONDS,
        },
        dependsOn: [...cluster.prerequisites, ...(network?.egressPrerequisites ?? []), ...database.prerequisites, ...(secrets?.prerequisites ?? [])],
        grantImagePull: cache && ((role) => cache.grant("prefect_server", role)),
      });
    }

    const template = buildBaseJobTemplate({
      clusterArn: cluster.cluster.arn,
      vpcId,
      subnetIds: taskSubnetIds,
      assignPublicIp,
      securityGroupIds: [flowRunSecurityGroup.securityGroup.id],
      executionRoleArn: iam.flowRunExecutionRole.arn,
      taskRoleArn: iam.flowRunTaskRole.arn,
      image: viaCache(flowRunDefaultImage(settings, registry.flowsRepository.repositoryUrl)),
      cpuArchitecture: settings.flow_run_cpu_architecture,
      cpu: settings.flow_run_cpu,
      memory: settings.flow_run_memory,
      spot: settings.flow_run_spot,
      region: settings.aws_region,
      logGroupName: logs.flowRunLogGroup.name,
      credential: secrets && connection.taskCredential ? { envName: connection.taskCredential, valueFrom: secrets.credential.valueFrom } : undefined,
      efs: efs ? { fileSystemId: efs.fileSystem.id, accessPointId: efs.accessPoint.id, mountPath: settings.flow_run_efs_mount_path } : undefined,
    });
    // Everything the template names: the pool is created after, and deleted before, all of it.
    const flowRunPrerequisites = [
      ...cluster.prerequisites,
      ...(network?.taskPrerequisites ?? []),
      flowRunSecurityGroup.securityGroup,
      ...iam.flowRunPrerequisites,
      logs.flowRunLogGroup,
      registry.flowsRepository,
      ...(secrets?.prerequisites ?? []),
      ...(efs?.prerequisites ?? []),
      ...(cache?.policies ?? []),
    ];
    // JSON text with Terraform interpolations for ARNs and ids, rendered by Terraform at apply.
    const templateJson = new TerraformLocal(this, TEMPLATE_OUTPUT, JSON.stringify(template, null, 2)).asString;
    // With an in-stack server the worker creates the pool itself (see worker-bootstrap.ts): nothing outside the VPC reaches it.
    const workPool =
      settings.manage_work_pool && !connection.inStackServer
        ? new WorkPool(this, "work_pool", {
            poolName: settings.work_pool_name,
            templateJson,
            apiUrl: prefectApiUrl,
            credential: connection.poolCommandCredential && {
              envName: connection.poolCommandCredential.envName,
              value: credentialValue[connection.poolCommandCredential.variable],
            },
            workQueues: settings.work_queues,
            dependsOn: flowRunPrerequisites,
          })
        : undefined;

    const poolTemplate = server && settings.manage_work_pool ? Fn.base64gzip(templateJson) : undefined;
    const worker = new WorkerService(this, "worker", {
      namePrefix: prefix,
      region: settings.aws_region,
      clusterArn: cluster.cluster.arn,
      workPoolName: settings.work_pool_name,
      workQueues: settings.work_queues,
      image: viaCache(settings.worker_image),
      cpu: settings.worker_cpu,
      memory: settings.worker_memory,
      cpuArchitecture: settings.worker_cpu_architecture,
      desiredCount: settings.worker_desired_count,
      spot: settings.worker_capacity === "fargate_spot",
      prefectApiUrl,
      credential: secrets?.credential,
      logGroupName: logs.workerLogGroup.name,
      executionRoleArn: iam.workerExecutionRole.arn,
      taskRoleArn: iam.workerTaskRole.arn,
      subnetIds: taskSubnetIds,
      assignPublicIp,
      securityGroupIds: [workerSecurityGroup.securityGroup.id],
      readOnlyRootFilesystem: settings.worker_read_only_root_filesystem,
      extraEnvironment: observer ? { [OBSERVER_QUEUE_ENV]: observer.queue.name } : undefined,
      autoscaled: settings.worker_autoscaling,
      enableEcsExec: settings.enable_ecs_exec,
      createPoolFromTemplate: poolTemplate,
      // The pool exists with this stack's template before the worker first polls it.
      // IAM is eventually consistent and ECS checks nothing up front: without these, a first task can fail to
      // pull its image or read its secret.
      dependsOn: [
        ...cluster.prerequisites,
        ...(network?.egressPrerequisites ?? []),
        ...iam.workerPolicies,
        ...(cache?.policies ?? []),
        ...(secrets?.prerequisites ?? []),
        ...(workPool ? [workPool.templateSync] : []),
        // The worker writes the pool, which names the flow-run resources, once its server is up.
        ...(server ? [...server.prerequisites, ...flowRunPrerequisites] : []),
      ],
    });

    if (settings.worker_autoscaling) {
      new WorkerAutoscaling(this, "worker_autoscaling", {
        clusterName: cluster.cluster.name,
        serviceName: worker.service.name,
        minCount: settings.worker_min_count,
        maxCount: settings.worker_max_count,
        cpuTarget: settings.worker_cpu_target,
        memoryTarget: settings.worker_memory_target,
      });
    }

    if (settings.alarms) {
      new Alarms(this, "alarms", {
        namePrefix: prefix,
        partition,
        clusterArn: cluster.cluster.arn,
        clusterName: cluster.cluster.name,
        serviceName: worker.service.name,
        email: settings.alarm_email,
        existingTopicArn: settings.alarm_sns_topic_arn,
        workerMinRunning: settings.worker_autoscaling ? settings.worker_min_count : settings.worker_desired_count,
        workerDownMinutes: settings.alarm_worker_down_minutes,
        containerInsights: settings.container_insights,
        observer: observer && {
          queueName: observer.queue.name,
          deadLetterQueueName: observer.deadLetterQueue.name,
          maxAgeMinutes: settings.alarm_queue_age_minutes,
        },
        natInstanceGroupName: network?.natInstance?.autoscalingGroup.name,
        server: server && database && { serviceName: server.service.name, databaseIdentifier: database.instance.identifier },
        budget:
          settings.monthly_budget_usd !== undefined ? { monthlyUsd: settings.monthly_budget_usd, projectName: settings.project_name } : undefined,
      });
    }

    // ECS's 64 KiB limit, checked now rather than by RegisterTaskDefinition at apply, after everything else exists.
    const sizeProblems = [
      workerSizeError(this, deployment, worker.taskDefinition, poolTemplate),
      server &&
        taskDefinitionSizeError(
          "The Prefect server's task definition",
          renderedTaskDefinitionBytes(this, server.taskDefinition, settings.aws_region),
          [],
          "Its container definition holds no list or free text from settings; this is a fault in the stack.",
        ),
    ].filter((problem): problem is string => problem !== undefined);
    if (sizeProblems.length) throw new SettingsError(deployment.source, sizeProblems);

    // Outputs of the wiring itself; each construct declares its own beside it.
    stackOutput(this, "vpc_id", vpcId, "VPC the worker and flow runs use");
    if (assignPublicIp) stackOutput(this, "public_subnet_ids", taskSubnetIds, "Public subnets the worker and flow runs run in, with public IPs");
    else stackOutput(this, "private_subnet_ids", taskSubnetIds, "Private subnets for the worker and flow runs");
    stackOutput(this, "flow_run_security_group_id", flowRunSecurityGroup.securityGroup.id, "Security group of flow-run tasks");
    stackOutput(this, "work_pool_name", settings.work_pool_name, "Prefect work pool the worker polls");
    if (server)
      stackOutput(
        this,
        "prefect_server_url",
        prefectApiUrl,
        "PREFECT_API_URL of the in-stack server (inside the VPC only; README: Self-hosted server)",
      );
    stackOutput(this, "flow_run_cpu_architecture", settings.flow_run_cpu_architecture, "CPU architecture flow images are built for");
    stackOutput(
      this,
      "flow_run_efs_mount_path",
      settings.flow_run_efs ? settings.flow_run_efs_mount_path : "",
      "Where flow runs see EFS (empty without flow_run_efs)",
    );
    stackOutput(this, TEMPLATE_OUTPUT, templateJson, "The work pool's base job template (JSON); `npm run template` prints it");
  }
}

/**
 * The worker's task definition against ECS's 64 KiB limit. The settings named are those the operator wrote that
 * add text to it, with the bytes each adds: queue names (in the command, and with an in-stack server also in
 * WORK_QUEUES), the pool name, the API URL, the image, and the in-stack server's base job template.
 */
function workerSizeError(
  stack: PrefectEcsStack,
  deployment: Deployment,
  taskDefinition: EcsTaskDefinition,
  poolTemplate?: string,
): string | undefined {
  const { settings, fileValues } = deployment;
  const bytes = renderedTaskDefinitionBytes(stack, taskDefinition, settings.aws_region);
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
