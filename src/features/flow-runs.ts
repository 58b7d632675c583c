import { TerraformLocal, type ITerraformDependable } from "cdktf";
import { flowRunDefaultImage } from "../flows/images";
import { TEMPLATE_OUTPUT } from "../naming";
import { stackOutput } from "../stacks/outputs";
import { buildBaseJobTemplate } from "../work-pool/template";
import { WorkPool } from "../work-pool/work-pool";
import type { FeatureContext } from "./context";
import type { TaskNetwork } from "./network";
import type { CredentialValues, Platform } from "./platform";

/**
 * Where flow runs run: the work pool's base job template, everything it names (its prerequisites), and the work
 * pool that carries it when the stack manages the pool itself.
 */
export class FlowRunEnvironment {
  /** JSON text with Terraform interpolations for ARNs and ids, rendered by Terraform at apply. */
  readonly templateJson: string;
  /** Everything the template names: the pool is created after, and deleted before, all of it. */
  readonly prerequisites: ITerraformDependable[];
  /** The pool the stack writes from outside the VPC; with an in-stack server the worker writes it (worker-bootstrap.ts). */
  readonly workPool?: WorkPool;

  constructor(
    { stack, settings, connection, prefectApiUrl }: FeatureContext,
    network: TaskNetwork,
    platform: Platform,
    credentialValue: CredentialValues,
  ) {
    const { cluster, iam, logs, registry, secrets, efs, cache } = platform;
    const template = buildBaseJobTemplate({
      clusterArn: cluster.cluster.arn,
      vpcId: network.vpcId,
      subnetIds: network.taskSubnetIds,
      assignPublicIp: network.assignPublicIp,
      securityGroupIds: [network.flowRunSecurityGroup.securityGroup.id],
      executionRoleArn: iam.flowRunExecutionRole.arn,
      taskRoleArn: iam.flowRunTaskRole.arn,
      image: platform.image(flowRunDefaultImage(settings, registry.flowsRepository.repositoryUrl)),
      cpuArchitecture: settings.flow_run_cpu_architecture,
      cpu: settings.flow_run_cpu,
      memory: settings.flow_run_memory,
      spot: settings.flow_run_capacity === "fargate_spot",
      ec2CapacityProvider: cluster.flowRunInstances?.capacityProvider.name,
      region: settings.aws_region,
      logGroupName: logs.flowRunLogGroup.name,
      credential: secrets && connection.taskCredential ? { envName: connection.taskCredential, valueFrom: secrets.credential.valueFrom } : undefined,
      efs: efs ? { fileSystemId: efs.fileSystem.id, accessPointId: efs.accessPoint.id, mountPath: settings.flow_run_efs_mount_path } : undefined,
    });
    this.prerequisites = [
      ...cluster.prerequisites,
      ...network.taskPrerequisites,
      network.flowRunSecurityGroup.securityGroup,
      ...iam.flowRunPrerequisites,
      logs.flowRunLogGroup,
      registry.flowsRepository,
      ...(secrets?.prerequisites ?? []),
      ...(efs?.prerequisites ?? []),
      ...(cache?.policies ?? []),
    ];
    this.templateJson = new TerraformLocal(stack, TEMPLATE_OUTPUT, JSON.stringify(template, null, 2)).asString;
    this.workPool =
      settings.manage_work_pool && !connection.inStackServer
        ? new WorkPool(stack, "work_pool", {
            poolName: settings.work_pool_name,
            templateJson: this.templateJson,
            apiUrl: prefectApiUrl,
            credential: connection.poolCommandCredential && {
              envName: connection.poolCommandCredential.envName,
              value: credentialValue[connection.poolCommandCredential.variable],
            },
            workQueues: settings.work_queues,
            dependsOn: this.prerequisites,
          })
        : undefined;

    stackOutput(stack, "work_pool_name", settings.work_pool_name, "Prefect work pool the worker polls");
    stackOutput(stack, "flow_run_cpu_architecture", settings.flow_run_cpu_architecture, "CPU architecture flow images are built for");
    stackOutput(
      stack,
      "flow_run_efs_mount_path",
      settings.flow_run_efs ? settings.flow_run_efs_mount_path : "",
      "Where flow runs see EFS (empty without flow_run_efs)",
    );
    stackOutput(stack, TEMPLATE_OUTPUT, this.templateJson, "The work pool's base job template (JSON); `npm run template` prints it");
  }
}
