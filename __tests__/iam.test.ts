import { describe, expect, it } from "vitest";
import { resources, synth } from "./support/synth";

const policyOf = (json: any, id: string) => JSON.parse(resources(json, "aws_iam_role_policy")[id].policy);
const statement = (policy: any, sid: string) => policy.Statement.find((s: any) => s.Sid === sid);

describe("IAM", () => {
  const { json } = synth();
  const roles = resources(json, "aws_iam_role");

  it("trusts only ecs-tasks.amazonaws.com for the four task roles", () => {
    for (const id of ["iam_worker_execution_role", "iam_worker_task_role", "iam_flow_run_execution_role", "iam_flow_run_task_role"]) {
      expect(JSON.parse(roles[id].assume_role_policy).Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
  });

  it("never uses one role as both task and execution role", () => {
    const taskDefinition = resources(json, "aws_ecs_task_definition").worker_task_definition;
    expect(taskDefinition.task_role_arn).not.toBe(taskDefinition.execution_role_arn);
  });

  it("gives both execution roles the AWS managed ECS execution policy", () => {
    const attachments = Object.values(resources(json, "aws_iam_role_policy_attachment"));
    expect(attachments.map((a) => a.role).sort()).toEqual([
      "${aws_iam_role.iam_flow_run_execution_role.name}",
      "${aws_iam_role.iam_worker_execution_role.name}",
    ]);
    expect(attachments[0].policy_arn).toBe(
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    );
  });

  it("lets the worker execution role read only the Prefect credential secret", () => {
    expect(policyOf(json, "iam_worker_execution_read_prefect_credential_policy").Statement).toEqual([
      {
        Effect: "Allow",
        Sid: "ReadPrefectCredential",
        Action: "secretsmanager:GetSecretValue",
        Resource: "${aws_secretsmanager_secret.secrets_secret.arn}",
      },
    ]);
  });

  describe("worker task role", () => {
    const policy = policyOf(json, "iam_worker_task_prefect_ecs_worker_policy");

    it("grants what the prefect-aws ECS worker calls (without the event observer)", () => {
      const bare = policyOf(synth({ ecs_event_observer: false }).json, "iam_worker_task_prefect_ecs_worker_policy");
      const actions = bare.Statement.flatMap((s: any) => [s.Action].flat()).sort();
      expect(actions).toEqual(
        [
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
          "ecs:DeregisterTaskDefinition",
          "ecs:DescribeTaskDefinition",
          "ecs:DescribeTasks",
          "ecs:RegisterTaskDefinition",
          "ecs:RunTask",
          "ecs:StopTask",
          "ecs:TagResource",
          "iam:PassRole",
          "logs:GetLogEvents",
        ].sort(),
      );
    });

    it("scopes RunTask to this cluster and StopTask/DescribeTasks to its tasks", () => {
      expect(statement(policy, "RunTasksInThisCluster").Condition).toEqual({
        ArnEquals: { "ecs:cluster": "${aws_ecs_cluster.cluster_cluster.arn}" },
      });
      expect(statement(policy, "WatchAndStopTasksInThisCluster").Resource).toBe(
        "${local.iam_ecs_arn_prefix}:task/${aws_ecs_cluster.cluster_cluster.name}/*",
      );
    });

    it("derives the ECS ARN prefix from the cluster ARN, so no account lookup is needed", () => {
      expect((json as any).locals.iam_ecs_arn_prefix).toBe('${element(split(":cluster/", aws_ecs_cluster.cluster_cluster.arn), 0)}');
    });

    it("passes only the flow-run roles, and only to ECS tasks", () => {
      expect(statement(policy, "PassFlowRunRolesToEcsOnly")).toEqual({
        Effect: "Allow",
        Sid: "PassFlowRunRolesToEcsOnly",
        Action: "iam:PassRole",
        Resource: ["${aws_iam_role.iam_flow_run_execution_role.arn}", "${aws_iam_role.iam_flow_run_task_role.arn}"],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      });
    });

    it("uses Resource * only for actions without resource-level permissions", () => {
      const wildcard = policy.Statement.filter((s: any) => s.Resource === "*").flatMap((s: any) => [s.Action].flat());
      expect(wildcard.sort()).toEqual(
        [
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
          "ecs:DeregisterTaskDefinition",
          "ecs:DescribeTaskDefinition",
          "ecs:RegisterTaskDefinition",
          "ecs:TagResource",
        ].sort(),
      );
      expect(statement(policy, "TagWhatItCreates").Condition).toEqual({
        StringEquals: { "ecs:CreateAction": ["RunTask", "RegisterTaskDefinition"] },
      });
    });

    it("GIVEN ECS Exec on THEN the SSM message channels are added", () => {
      const withExec = policyOf(synth({ enable_ecs_exec: true }).json, "iam_worker_task_prefect_ecs_worker_policy");
      expect(statement(withExec, "EcsExecChannels").Action).toContain("ssmmessages:CreateControlChannel");
      expect(statement(policy, "EcsExecChannels")).toBeUndefined();
    });
  });

  it("lets the flow-run execution role read the credential, so flow runs get the key from Secrets Manager", () => {
    expect(statement(policyOf(json, "iam_flow_run_execution_flow_run_launch_policy"), "ReadPrefectCredential").Resource).toBe(
      "${aws_secretsmanager_secret.secrets_secret.arn}",
    );
  });

  it("lets the flow-run execution role create only the flow-run log group (awslogs-create-group)", () => {
    expect(statement(policyOf(json, "iam_flow_run_execution_flow_run_launch_policy"), "CreateFlowRunLogGroup").Resource).toEqual([
      "${aws_cloudwatch_log_group.logs_flow_run_log_group.arn}",
      "${aws_cloudwatch_log_group.logs_flow_run_log_group.arn}:*",
    ]);
  });

  it("has no role with Action * or a wildcard action", () => {
    const all = Object.values(resources(json, "aws_iam_role_policy")).flatMap((p) => JSON.parse(p.policy).Statement);
    expect(all.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.includes("*"))).toEqual([]);
  });
});
