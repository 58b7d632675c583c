import { Construct } from "constructs";
import { Fn, type ITerraformDependable, TerraformLocal, Token } from "cdktf";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { assumedBy, ECS_EXEC_CHANNELS, policyDocument, type Statement } from "./iam-policy";
import { stackOutput } from "../stacks/outputs";

export interface IamProps {
  readonly namePrefix: string;
  /** AWS partition (`aws`, `aws-us-gov`, …), for managed-policy ARNs. */
  readonly partition: string;
  readonly clusterArn: string;
  readonly clusterName: string;
  /** Secret holding the Prefect credential; both execution roles may read it. @default no secret */
  readonly credentialSecretArn?: string;
  /** Customer-managed KMS key of that secret; both execution roles may decrypt through Secrets Manager. @default AWS-managed key */
  readonly credentialKmsKeyArn?: string;
  /** The stack's region: the secret's region unless `credentialSecretArn` is a literal ARN naming another. */
  readonly region: string;
  readonly flowRunLogGroupArn: string;
  /** Extra managed policies for flow-run code (S3 buckets, databases, …). @default none */
  readonly flowRunPolicyArns?: string[];
  /** Extra statements for the worker task role (e.g. the ECS event queue). @default none */
  readonly workerTaskStatements?: Statement[];
  /** Extra statements for the flow-run task role (e.g. EFS client access). @default none */
  readonly flowRunTaskStatements?: Statement[];
  /** Adds the SSM channel rights ECS Exec needs to the worker task role. @default false */
  readonly enableEcsExec?: boolean;
}

const ECS_TASKS = "ecs-tasks.amazonaws.com";

/**
 * Secrets Manager decrypts in the secret's own region, so kms:ViaService must name that region. A literal
 * ARN (`arn:partition:secretsmanager:REGION:account:secret:name`) says it; a token is a secret this stack creates.
 */
function secretRegion(secretArn: string | undefined, stackRegion: string): string {
  if (secretArn === undefined || Token.isUnresolved(secretArn)) return stackRegion;
  return secretArn.split(":")[3] || stackRegion;
}

/**
 * Four roles, never shared: the worker's execution and task roles, and the flow runs' execution and
 * task roles. The worker may pass only the two flow-run roles, and only to ECS tasks.
 */
export class Iam extends Construct {
  readonly workerExecutionRole: IamRole;
  readonly workerTaskRole: IamRole;
  readonly flowRunExecutionRole: IamRole;
  readonly flowRunTaskRole: IamRole;
  /** Policies attached to the flow-run roles: flow runs need them in place before they start. */
  readonly flowRunPolicies: ITerraformDependable[] = [];
  /** Policies attached to the worker's roles: the worker service waits for them. */
  readonly workerPolicies: ITerraformDependable[] = [];

  /** The flow-run roles with every policy attached: IAM is eventually consistent, so flow runs wait for all of them. */
  get flowRunPrerequisites(): ITerraformDependable[] {
    return [this.flowRunExecutionRole, this.flowRunTaskRole, ...this.flowRunPolicies];
  }

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    const { namePrefix } = props;
    const role = (name: string, description: string) =>
      new IamRole(this, `${name.replace(/-/g, "_")}_role`, { name: `${namePrefix}-${name}`, description, assumeRolePolicy: assumedBy(ECS_TASKS) });
    const inlinePolicy = (target: IamRole, name: string, statements: Statement[]) =>
      new IamRolePolicy(this, `${target.node.id.replace(/_role$/, "")}_${name.replace(/-/g, "_")}_policy`, {
        name,
        role: target.id,
        policy: policyDocument(statements),
      });
    const executionPolicyArn = `arn:${props.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`;
    const readCredential: Statement[] = props.credentialSecretArn
      ? [{ Sid: "ReadPrefectCredential", Action: "secretsmanager:GetSecretValue", Resource: props.credentialSecretArn }]
      : [];
    if (props.credentialKmsKeyArn) {
      readCredential.push({
        Sid: "DecryptPrefectCredential",
        Action: "kms:Decrypt",
        Resource: props.credentialKmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${secretRegion(props.credentialSecretArn, props.region)}.amazonaws.com` } },
      });
    }

    this.workerExecutionRole = role("worker-execution", "Pulls the worker image, writes its logs and reads its Prefect credential");
    this.workerTaskRole = role("worker-task", "The Prefect worker: registers task definitions and runs flow-run tasks in its cluster");
    this.flowRunExecutionRole = role("flow-run-execution", "Pulls flow-run images, writes their logs and reads the Prefect credential");
    this.flowRunTaskRole = role("flow-run-task", "Identity of flow-run code; extend with flow_run_policy_arns");
    stackOutput(this, "worker_execution_role_arn", this.workerExecutionRole.arn, "Worker execution role");
    stackOutput(this, "worker_task_role_arn", this.workerTaskRole.arn, "Worker task role");
    stackOutput(this, "flow_run_execution_role_arn", this.flowRunExecutionRole.arn, "Flow-run execution role");
    stackOutput(this, "flow_run_task_role_arn", this.flowRunTaskRole.arn, "Flow-run task role");

    this.workerPolicies.push(
      new IamRolePolicyAttachment(this, "worker_execution_managed_policy", { role: this.workerExecutionRole.name, policyArn: executionPolicyArn }),
    );
    this.flowRunPolicies.push(
      new IamRolePolicyAttachment(this, "flow_run_execution_managed_policy", { role: this.flowRunExecutionRole.name, policyArn: executionPolicyArn }),
    );
    if (readCredential.length) this.workerPolicies.push(inlinePolicy(this.workerExecutionRole, "read-prefect-credential", readCredential));
    const flowRunLaunch = inlinePolicy(this.flowRunExecutionRole, "flow-run-launch", [
      ...readCredential,
      // prefect-aws asks awslogs to create the group if missing; it already exists, so this is scoped to it.
      { Sid: "CreateFlowRunLogGroup", Action: "logs:CreateLogGroup", Resource: [props.flowRunLogGroupArn, `${props.flowRunLogGroupArn}:*`] },
    ]);
    this.flowRunPolicies.push(flowRunLaunch);

    // "arn:<partition>:ecs:<region>:<account>" taken from the cluster ARN, so no account lookup is needed.
    // A local keeps the policy text free of quoted function arguments, so it stays plain JSON.
    const ecsArnPrefix = new TerraformLocal(this, "ecs_arn_prefix", Fn.element(Fn.split(":cluster/", props.clusterArn), 0)).asString;
    // What prefect-aws's ECS worker (workers/ecs_worker.py) and its observer (observers/ecs.py) call;
    // __tests__/iam-simulation.test.ts lists each call with its source line.
    const workerTaskPolicy = inlinePolicy(this.workerTaskRole, "prefect-ecs-worker", [
      { Sid: "DescribeNetwork", Action: ["ec2:DescribeSubnets", "ec2:DescribeVpcs"], Resource: "*" },
      {
        // Describe and Deregister take no resource; Register names a family any deployment may choose.
        Sid: "ManageTaskDefinitions",
        Action: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
        Resource: "*",
      },
      {
        Sid: "RunTasksInThisCluster",
        Action: "ecs:RunTask",
        Resource: `${ecsArnPrefix}:task-definition/*`,
        Condition: { ArnEquals: { "ecs:cluster": props.clusterArn } },
      },
      {
        Sid: "WatchAndStopTasksInThisCluster",
        Action: ["ecs:DescribeTasks", "ecs:StopTask"],
        Resource: `${ecsArnPrefix}:task/${props.clusterName}/*`,
      },
      {
        Sid: "TagWhatItCreates",
        Action: "ecs:TagResource",
        Resource: "*",
        Condition: { StringEquals: { "ecs:CreateAction": ["RunTask", "RegisterTaskDefinition"] } },
      },
      { Sid: "ReadFlowRunLogs", Action: "logs:GetLogEvents", Resource: `${props.flowRunLogGroupArn}:*` },
      {
        Sid: "PassFlowRunRolesToEcsOnly",
        Action: "iam:PassRole",
        Resource: [this.flowRunExecutionRole.arn, this.flowRunTaskRole.arn],
        Condition: { StringEquals: { "iam:PassedToService": ECS_TASKS } },
      },
      ...(props.workerTaskStatements ?? []),
      ...(props.enableEcsExec ? [ECS_EXEC_CHANNELS] : []),
    ]);
    this.workerPolicies.push(workerTaskPolicy);

    if (props.flowRunTaskStatements?.length) {
      this.flowRunPolicies.push(inlinePolicy(this.flowRunTaskRole, "flow-run-access", props.flowRunTaskStatements));
    }
    (props.flowRunPolicyArns ?? []).forEach((policyArn, i) =>
      this.flowRunPolicies.push(new IamRolePolicyAttachment(this, `flow_run_task_extra_policy_${i}`, { role: this.flowRunTaskRole.name, policyArn })),
    );
  }
}
