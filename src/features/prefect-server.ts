import { PrefectServer } from "../compute/prefect-server";
import { renderedTaskDefinitionBytes, taskDefinitionSizeError } from "../compute/task-definition-size";
import { serverNamespace } from "../naming";
import { PublicListener, SERVER_KEEPALIVE_SECONDS } from "../network/public-listener";
import { TaskSecurityGroup } from "../network/security-groups";
import { stackOutput } from "../stacks/outputs";
import type { PlanTimeInputs } from "../stacks/variables";
import { Database, DATABASE_NAME, DATABASE_PORT, DATABASE_USER } from "../storage/database";
import { PREFECT_IMAGE } from "../versions";
import type { FeatureContext } from "./context";
import type { TaskNetwork } from "./network";
import type { Platform } from "./platform";

/**
 * The in-stack Prefect server (prefect_server): its security group, its database, then one server task behind a
 * Cloud Map name, and opt-in an internet-facing HTTPS listener in front of it.
 */
export class InStackServer {
  readonly server: PrefectServer;
  readonly database: Database;

  constructor(
    private readonly context: FeatureContext,
    network: TaskNetwork,
    platform: Platform,
    inputs: PlanTimeInputs,
  ) {
    const { stack, settings, partition, prefectApiUrl } = context;
    const prefix = settings.name_prefix;
    const { vpcId, taskSubnetIds } = network;
    const { cluster, secrets, cache } = platform;
    const serverSecurityGroup = new TaskSecurityGroup(stack, "server_security_group", {
      vpcId,
      name: `${prefix}-prefect-server`,
      description: "Prefect server: its API from the worker and flow runs only; outbound HTTPS and its database",
      egressPorts: [443],
    });
    const database = new Database(stack, "database", {
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
    this.database = database;
    // Opt-in: an internet-facing HTTPS listener (settings require the server's basic auth with it).
    const publicListener = settings.prefect_server_public_certificate_arn
      ? new PublicListener(stack, "public_listener", {
          namePrefix: prefix,
          vpcId,
          subnetIds: network.vpc!.publicSubnetIds,
          certificateArn: settings.prefect_server_public_certificate_arn,
          // Required with the listener (a settings rule); never defaulted to everyone.
          allowedCidrs: settings.prefect_server_public_cidrs!,
          serverSecurityGroupId: serverSecurityGroup.securityGroup.id,
        })
      : undefined;
    this.server = new PrefectServer(stack, "server", {
      namePrefix: prefix,
      region: settings.aws_region,
      partition,
      clusterArn: cluster.cluster.arn,
      vpcId,
      image: platform.image(PREFECT_IMAGE),
      cpu: settings.prefect_server_cpu,
      memory: settings.prefect_server_memory,
      cpuArchitecture: settings.prefect_server_cpu_architecture,
      subnetIds: taskSubnetIds,
      securityGroupId: serverSecurityGroup.securityGroup.id,
      clientSecurityGroupIds: { worker: network.workerSecurityGroup.securityGroup.id, flow_runs: network.flowRunSecurityGroup.securityGroup.id },
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
      dependsOn: [...cluster.prerequisites, ...network.egressPrerequisites, ...database.prerequisites, ...(secrets?.prerequisites ?? [])],
      grantImagePull: cache && ((role) => cache.grant("prefect_server", role)),
    });
    stackOutput(
      stack,
      "prefect_server_url",
      prefectApiUrl,
      "PREFECT_API_URL of the in-stack server (inside the VPC only; README: Self-hosted server)",
    );
  }

  /** The server's task definition against ECS's 64 KiB limit: nothing in it comes from a list or free text. */
  sizeError(): string | undefined {
    const { stack, settings } = this.context;
    return taskDefinitionSizeError(
      "The Prefect server's task definition",
      renderedTaskDefinitionBytes(stack, this.server.taskDefinition, settings.aws_region),
      [],
      "Its container definition holds no list or free text from settings; this is a fault in the stack.",
    );
  }
}
