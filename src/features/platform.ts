import { Cluster } from "../compute/cluster";
import { EcsEventObserver } from "../compute/event-observer";
import { Iam } from "../security/iam";
import { Secrets } from "../security/secrets";
import { FlowRunEfs } from "../storage/efs";
import { Logs } from "../storage/logs";
import { cachedImage, PullThroughCache } from "../storage/pull-through-cache";
import { Registry } from "../storage/registry";
import type { Settings } from "../settings";
import type { FeatureContext } from "./context";
import type { TaskNetwork } from "./network";

/** The credential's value by its plan-time variable, for a secret this stack writes. */
export type CredentialValues = Readonly<Record<"prefect_api_key" | "prefect_api_auth_string", string>>;

/**
 * What the worker, the flow runs and the in-stack server share: the cluster, the image registry, the Prefect
 * credential, the log groups, the flow runs' file system, the ECS event queue the worker reads, the four IAM
 * roles and the pull-through cache. They are one feature because the roles are: each role's policy names the
 * file system, the queue, the log group and the secret it may use, so all of these exist before the roles.
 */
export class Platform {
  readonly registry: Registry;
  readonly cluster: Cluster;
  readonly secrets?: Secrets;
  readonly logs: Logs;
  /** The flow runs' shared file system (flow_run_efs). */
  readonly efs?: FlowRunEfs;
  /** ECS task events for the worker to read (ecs_event_observer). */
  readonly observer?: EcsEventObserver;
  readonly iam: Iam;
  /** Worker and default flow images come through ECR instead of Docker Hub at run time (rate limits). */
  readonly cache?: PullThroughCache;
  private readonly upstream: Settings["ecr_pull_through_cache"];

  constructor({ stack, settings, connection, partition }: FeatureContext, network: TaskNetwork, credentialValue: CredentialValues) {
    const prefix = settings.name_prefix;
    const { vpcId, taskSubnetIds, flowRunSecurityGroup } = network;
    this.efs = settings.flow_run_efs
      ? new FlowRunEfs(stack, "efs", {
          namePrefix: prefix,
          vpcId,
          subnetIds: taskSubnetIds,
          clientSecurityGroupId: flowRunSecurityGroup.securityGroup.id,
        })
      : undefined;
    this.registry = new Registry(stack, "registry", {
      namePrefix: prefix,
      imageTagMutability: settings.ecr_image_tag_mutability,
      keepImageCount: settings.ecr_keep_image_count,
      keepFlowImageCount: settings.flow_image_keep_count,
      untaggedExpireDays: settings.ecr_untagged_expire_days,
      forceDelete: settings.ecr_force_delete,
    });
    this.cluster = new Cluster(stack, "cluster", {
      namePrefix: prefix,
      vpcId,
      serviceDiscoveryNamespace: settings.service_discovery_namespace,
      containerInsights: settings.container_insights,
      flowRunInstances:
        settings.flow_run_capacity === "ec2"
          ? {
              subnetIds: taskSubnetIds,
              partition,
              architecture: settings.flow_run_cpu_architecture,
              instanceType: settings.flow_run_instance_type,
              minSize: settings.flow_run_instances_min,
              maxSize: settings.flow_run_instances_max,
              targetCapacity: settings.flow_run_target_capacity,
              warmPoolSize: settings.flow_run_warm_pool_size,
              volumeGb: settings.flow_run_instance_volume_gb,
              imageId: settings.flow_run_ami_id,
            }
          : undefined,
    });
    const { store } = connection;
    this.secrets =
      store.kind === "none"
        ? undefined
        : new Secrets(stack, "secrets", {
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
    this.logs = new Logs(stack, "logs", { namePrefix: prefix, retentionDays: settings.log_retention_days });
    const clusterArn = this.cluster.cluster.arn;
    this.observer = settings.ecs_event_observer ? new EcsEventObserver(stack, "ecs_events", { namePrefix: prefix, clusterArn }) : undefined;
    this.iam = new Iam(stack, "iam", {
      namePrefix: prefix,
      partition,
      clusterArn,
      clusterName: this.cluster.cluster.name,
      credentialSecretArn: this.secrets?.credential.secretArn,
      credentialKmsKeyArn: settings.existing_api_key_secret_kms_key_arn,
      region: settings.aws_region,
      flowRunLogGroupArn: this.logs.flowRunLogGroup.arn,
      flowRunPolicyArns: settings.flow_run_policy_arns,
      flowRunTaskStatements: this.efs ? [this.efs.clientStatement()] : [],
      workerTaskStatements: this.observer ? [this.observer.consumerStatement()] : [],
      enableEcsExec: settings.enable_ecs_exec,
    });
    this.cache =
      settings.ecr_pull_through_cache === "none"
        ? undefined
        : new PullThroughCache(stack, "pull_through_cache", {
            upstream: settings.ecr_pull_through_cache,
            region: settings.aws_region,
            partition,
            credentialArn: settings.docker_hub_credential_secret_arn,
            executionRoles: [this.iam.workerExecutionRole, this.iam.flowRunExecutionRole],
          });
    this.upstream = settings.ecr_pull_through_cache;
  }

  /** An image reference as tasks pull it: through the pull-through cache when there is one. */
  image(image: string): string {
    return this.cache && this.upstream !== "none" ? cachedImage(image, this.upstream, this.cache.registryHost) : image;
  }
}
