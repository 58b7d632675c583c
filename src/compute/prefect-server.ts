import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { PREFECT_SERVER_DNS_LABEL, PREFECT_SERVER_PORT } from "../naming";
import { assumedBy, ECS_EXEC_CHANNELS, policyDocument } from "../security/iam-policy";
import type { ContainerSecret } from "../security/secrets";
import { stackOutput } from "../stacks/outputs";

export const SERVER_CONTAINER_NAME = "prefect-server";
/** Migrations run before the API answers; ECS allows at most 300 s before failed checks count. */
export const SERVER_START_PERIOD_SECONDS = 300;

export interface PrefectServerProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly partition: string;
  readonly clusterArn: string;
  readonly vpcId: string;
  /** The plain Prefect image at the stack's one Prefect version. */
  readonly image: string;
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
  readonly cpuArchitecture: "X86_64" | "ARM64";
  /** Private subnets. */
  readonly subnetIds: string[];
  /** The server's own security group (its database rules are added by the database). */
  readonly securityGroupId: string;
  /** Security groups that may call the API on port 4200: the worker's and the flow runs'. */
  readonly clientSecurityGroupIds: Record<string, string>;
  /** A Cloud Map namespace already in the stack (service_discovery_namespace). @default a new one named `namespaceName` */
  readonly namespaceId?: string;
  /** The namespace's DNS name; the server answers at `server.<namespaceName>`. */
  readonly namespaceName: string;
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    /** Secret whose whole value is the password. */
    readonly passwordSecretArn: string;
    /** Written into the task definition so a new password rolls the server onto it. */
    readonly passwordVersion: number;
  };
  /** PREFECT_SERVER_API_AUTH_STRING (basic auth), when self_hosted_auth = "auth_string". @default no auth */
  readonly authString?: ContainerSecret;
  readonly logRetentionDays: number;
  /** ECS Exec into the server task: the way operators port-forward to the UI. */
  readonly enableEcsExec: boolean;
  /** The opt-in public listener's target group (the balancer's idle timeout is below the server's keep-alive). @default none */
  readonly publicTarget?: { readonly targetGroupArn: string; readonly listener: ITerraformDependable; readonly keepAliveSeconds: number };
  /** Grants the execution role what pulling the image needs beyond ECR reads (a pull-through cache). @default nothing more */
  readonly grantImagePull?: (executionRole: IamRole) => ITerraformDependable;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A self-hosted Prefect server: exactly one Fargate task (`prefect server start`) behind a Cloud Map name.
 * One task, never two: without Redis, Prefect's messaging, leases and background services are per process, and
 * migrations on start take no cross-process lock, so deployments stop the old task before starting the new one.
 * Cloud Map rather than a load balancer: the worker and flow runs reach the task directly (websockets included,
 * no idle timeout to tune), for about $0.60 a month instead of an internal ALB's $16 or more.
 */
export class PrefectServer extends Construct {
  readonly service: EcsService;
  readonly taskDefinition: EcsTaskDefinition;
  readonly logGroup: CloudwatchLogGroup;
  readonly executionRole: IamRole;
  readonly taskRole: IamRole;
  /** The service, its roles' policies and the rules that let clients in: the worker waits for these. */
  readonly prerequisites: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: PrefectServerProps) {
    super(scope, id);
    const name = `${props.namePrefix}-prefect-server`;

    for (const [client, securityGroupId] of Object.entries(props.clientSecurityGroupIds)) {
      this.prerequisites.push(
        new VpcSecurityGroupIngressRule(this, `api_from_${client}`, {
          securityGroupId: props.securityGroupId,
          description: `Prefect API from the ${client.replace(/_/g, " ")}`,
          ipProtocol: "tcp",
          fromPort: PREFECT_SERVER_PORT,
          toPort: PREFECT_SERVER_PORT,
          referencedSecurityGroupId: securityGroupId,
        }),
        new VpcSecurityGroupEgressRule(this, `${client}_to_api`, {
          securityGroupId,
          description: "Prefect API of the in-stack server",
          ipProtocol: "tcp",
          fromPort: PREFECT_SERVER_PORT,
          toPort: PREFECT_SERVER_PORT,
          referencedSecurityGroupId: props.securityGroupId,
        }),
      );
    }

    const namespaceId =
      props.namespaceId ??
      new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
        name: props.namespaceName,
        vpc: props.vpcId,
        description: `Private names of ${props.namePrefix}`,
      }).id;
    const discovery = new ServiceDiscoveryService(this, "discovery", {
      name: PREFECT_SERVER_DNS_LABEL,
      description: "The Prefect API, for the worker and flow runs",
      dnsConfig: { namespaceId, dnsRecords: [{ type: "A", ttl: 10 }], routingPolicy: "MULTIVALUE" },
      // ECS reports the task's health to Cloud Map; an unhealthy task leaves DNS.
      healthCheckCustomConfig: { failureThreshold: 1 },
      forceDestroy: true,
    });

    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      name: `/ecs/${props.namePrefix}/prefect-server`,
      retentionInDays: props.logRetentionDays,
    });

    const secretArns = [props.database.passwordSecretArn, ...(props.authString ? [props.authString.secretArn] : [])];
    this.executionRole = new IamRole(this, "execution_role", {
      name: `${name}-execution`,
      description: "Pulls the Prefect server image, writes its logs and reads its database password",
      assumeRolePolicy: assumedBy("ecs-tasks.amazonaws.com"),
    });
    this.prerequisites.push(
      new IamRolePolicyAttachment(this, "execution_managed_policy", {
        role: this.executionRole.name,
        policyArn: `arn:${props.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      }),
      new IamRolePolicy(this, "execution_read_secrets_policy", {
        name: "read-prefect-server-secrets",
        role: this.executionRole.id,
        policy: policyDocument([{ Sid: "ReadServerSecrets", Action: "secretsmanager:GetSecretValue", Resource: secretArns }]),
      }),
    );
    if (props.grantImagePull) this.prerequisites.push(props.grantImagePull(this.executionRole));
    // The server calls no AWS API; its role exists for ECS Exec's channels only.
    this.taskRole = new IamRole(this, "task_role", {
      name: `${name}-task`,
      description: "The Prefect server task: no AWS access beyond ECS Exec's channels when enabled",
      assumeRolePolicy: assumedBy("ecs-tasks.amazonaws.com"),
    });
    if (props.enableEcsExec) {
      this.prerequisites.push(
        new IamRolePolicy(this, "task_ecs_exec_policy", { name: "ecs-exec", role: this.taskRole.id, policy: policyDocument([ECS_EXEC_CHANNELS]) }),
      );
    }

    // ECS Exec's agent writes to the root filesystem; without it, the root stays read-only.
    const readOnly = !props.enableEcsExec;
    const container = {
      name: SERVER_CONTAINER_NAME,
      image: props.image,
      essential: true,
      command: ["prefect", "server", "start", "--host", "0.0.0.0", "--port", String(PREFECT_SERVER_PORT)],
      portMappings: [{ containerPort: PREFECT_SERVER_PORT, protocol: "tcp" }],
      environment: [
        { name: "PREFECT_SERVER_DATABASE_DRIVER", value: "postgresql+asyncpg" },
        { name: "PREFECT_SERVER_DATABASE_HOST", value: props.database.host },
        { name: "PREFECT_SERVER_DATABASE_PORT", value: String(props.database.port) },
        { name: "PREFECT_SERVER_DATABASE_NAME", value: props.database.name },
        { name: "PREFECT_SERVER_DATABASE_USER", value: props.database.user },
        // asyncpg reads PGSSLMODE when Prefect passes no TLS context; the database also refuses plain connections.
        { name: "PGSSLMODE", value: "require" },
        // Relative: the UI calls the API on whatever origin served it (a port forward, or a listener).
        { name: "PREFECT_UI_API_URL", value: "/api" },
        { name: "PREFECT_SERVER_ANALYTICS_ENABLED", value: "false" },
        // The UI build is copied and rewritten at start; keep it, and Prefect's home, on the scratch volume.
        { name: "PREFECT_HOME", value: "/tmp/prefect" },
        { name: "PREFECT_UI_STATIC_DIRECTORY", value: "/tmp/prefect/ui_build" },
        { name: "PREFECT_ECS_DATABASE_PASSWORD_VERSION", value: String(props.database.passwordVersion) },
        // Behind a load balancer, the server must not close a kept-alive connection before the balancer does.
        ...(props.publicTarget ? [{ name: "PREFECT_SERVER_API_KEEPALIVE_TIMEOUT", value: String(props.publicTarget.keepAliveSeconds) }] : []),
      ],
      secrets: [
        { name: "PREFECT_SERVER_DATABASE_PASSWORD", valueFrom: props.database.passwordSecretArn },
        ...(props.authString ? [{ name: "PREFECT_SERVER_API_AUTH_STRING", valueFrom: props.authString.valueFrom }] : []),
      ],
      readonlyRootFilesystem: readOnly,
      mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }],
      linuxParameters: { initProcessEnabled: true },
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": this.logGroup.name, "awslogs-region": props.region, "awslogs-stream-prefix": "server" },
      },
      healthCheck: {
        command: [
          "CMD-SHELL",
          `python -c "import urllib.request; urllib.request.urlopen('http://localhost:${PREFECT_SERVER_PORT}/api/health', timeout=5)" || exit 1`,
        ],
        interval: 30,
        timeout: 10,
        retries: 3,
        startPeriod: SERVER_START_PERIOD_SECONDS,
      },
    };
    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu),
      memory: String(props.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: props.cpuArchitecture },
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      containerDefinitions: JSON.stringify([container]),
      volume: [{ name: "scratch" }],
    });

    this.service = new EcsService(this, "service", {
      name,
      cluster: props.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: 1,
      capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
      forceNewDeployment: true,
      platformVersion: "LATEST",
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [props.securityGroupId], assignPublicIp: false },
      // Never two servers at once: stop the old task, then start the new one (a short outage on every deploy).
      deploymentMinimumHealthyPercent: 0,
      deploymentMaximumPercent: 100,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      serviceRegistries: { registryArn: discovery.arn },
      loadBalancer: props.publicTarget
        ? [{ targetGroupArn: props.publicTarget.targetGroupArn, containerName: SERVER_CONTAINER_NAME, containerPort: PREFECT_SERVER_PORT }]
        : undefined,
      // Migrations run before /api/health answers.
      healthCheckGracePeriodSeconds: props.publicTarget ? SERVER_START_PERIOD_SECONDS : undefined,
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      enableExecuteCommand: props.enableEcsExec,
      dependsOn: [...(props.dependsOn ?? []), ...this.prerequisites, discovery, ...(props.publicTarget ? [props.publicTarget.listener] : [])],
    });
    this.prerequisites.push(this.service);
    stackOutput(this, "prefect_server_service_name", this.service.name, "ECS service running the Prefect server");
    stackOutput(this, "prefect_server_log_group", this.logGroup.name, "CloudWatch log group of the Prefect server");
  }
}
