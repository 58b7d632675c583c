import { describe, expect, it } from "vitest";
import { TaskStopCode } from "@aws-sdk/client-ecs";
import { monthlyCost, resources, settingsProblems, synth, type TerraformJson, VARIANTS } from "./support/synth";

const EMAIL = { alarm_email: "ops@example.com" };
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
const OWN_TOPIC = "${aws_sns_topic.alarms_topic.arn}";
/**
 * The stop codes that mean a worker task failed, from AWS's list ("Stopped tasks error codes", ECS Developer
 * Guide; the same values as TaskStopCode in ECS's service model): the task could not start, its container
 * exited, or Spot took the capacity back. UserInitiated, ServiceSchedulerInitiated (deployments, scale-in),
 * TerminationNotice and InfrastructureHealth (ECS replaces the task itself) are not failures of the worker.
 */
const FAILURE_STOP_CODES = ["TaskFailedToStart", "EssentialContainerExited", "SpotInterruption"];

const alarmsOf = (json: TerraformJson) => Object.values(resources(json, "aws_cloudwatch_metric_alarm"));
const alarmNamed = (json: TerraformJson, name: string) => {
  const found = alarmsOf(json).find((a) => a.alarm_name === `prefect-ecs-dev-${name}`);
  if (!found) throw new Error(`no alarm ${name}; alarms: ${alarmsOf(json).map((a) => a.alarm_name)}`);
  return found;
};

describe("alarms: off unless there is somewhere to send them", () => {
  it("GIVEN no alarm_email and no alarm_sns_topic_arn THEN the stack has no topic, alarm, budget or task-stop rule", () => {
    const { json } = synth();
    for (const type of ["aws_sns_topic", "aws_cloudwatch_metric_alarm", "aws_budgets_budget", "aws_kms_key"])
      expect(json.resource[type]).toBeUndefined();
    expect(Object.values(resources(json, "aws_cloudwatch_event_rule")).map((r) => r.name)).toEqual(["prefect-ecs-dev-ecs-task-state"]);
  });

  it.each([
    [{ alarm_worker_down_minutes: 10 }, "alarm_worker_down_minutes needs somewhere to notify: set alarm_email or alarm_sns_topic_arn"],
    [{ monthly_budget_usd: 50 }, "monthly_budget_usd needs somewhere to notify"],
    // CloudWatch alarm actions and EventBridge targets must be topics of the alarm's own region.
    [{ alarm_sns_topic_arn: "arn:aws:sns:eu-west-1:123456789012:ops" }, 'is in eu-west-1, but aws_region (not set, so "us-east-1")'],
    // A FIFO topic cannot be an alarm action (SNS FIFO topics accept only SQS FIFO subscribers).
    [{ alarm_sns_topic_arn: "arn:aws:sns:us-east-1:123456789012:ops.fifo" }, "FIFO topics cannot receive alarms"],
    [{ alarm_email: "not-an-email" }, "alarm_email"],
    [{ ...EMAIL, monthly_budget_usd: 0.001 }, "use at least 1 US dollar"],
    // '%{' would be read as a Terraform template directive in cdk.tf.json; SNS refuses addresses with spaces or commas.
    [{ alarm_email: "a%{x}@example.com" }, "alarm_email"],
    [{ alarm_email: "a,b@example.com" }, "alarm_email"],
    [{ alarm_email: "ops@example.123" }, "alarm_email"],
    [{ alarm_email: `${"a".repeat(250)}@example.com` }, "an email address has at most 254"],
    [{ alarm_sns_topic_arn: "arn:aws-cn:sns:us-east-1:123456789012:ops" }, 'outside the partition "aws"'],
    [{ ...EMAIL, worker_desired_count: 0, alarm_worker_down_minutes: 10 }, "alarm_worker_down_minutes = 10 has nothing to watch"],
    [{ ...EMAIL, alarm_worker_down_minutes: 0 }, "use a whole number from 1 to 60 minutes"],
  ])("GIVEN %o THEN it is refused: %s", (values, message) => {
    expect(settingsProblems(values)).toContain(message);
  });
});

describe("alarms with alarm_email", () => {
  const { json } = synth(EMAIL);

  it("GIVEN the topic THEN it is encrypted with its own rotating key, which only this account's notifiers may use, and the email subscribes to it", () => {
    const key = Object.values(resources(json, "aws_kms_key"))[0];
    expect(key.enable_key_rotation).toBe(true);
    // The whole policy: the account administers the key; the three notifiers may only encrypt, for this account.
    expect(JSON.parse(key.policy).Statement).toEqual([
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: "arn:${data.aws_partition.partition.partition}:iam::${local.alarms_account_id}:root" },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "NotifiersEncrypt",
        Effect: "Allow",
        Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"] },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": "${local.alarms_account_id}" } },
      },
    ]);
    expect(Object.values(resources(json, "aws_sns_topic"))[0]).toMatchObject({
      name: "prefect-ecs-dev-alarms",
      kms_master_key_id: "${aws_kms_key.alarms_topic_key.arn}",
    });
    expect(Object.values(resources(json, "aws_sns_topic_subscription"))).toEqual([
      expect.objectContaining({ topic_arn: OWN_TOPIC, protocol: "email", endpoint: "ops@example.com" }),
    ]);
    const topicPolicy = JSON.parse(Object.values(resources(json, "aws_sns_topic_policy"))[0].policy);
    expect(topicPolicy.Statement).toEqual([
      expect.objectContaining({ Action: "sns:Publish", Condition: { StringEquals: { "aws:SourceAccount": "${local.alarms_account_id}" } } }),
    ]);
    expect(json.output.alarm_topic_arn.value).toBe(OWN_TOPIC);
  });

  it("GIVEN every alarm THEN it notifies on ALARM and on OK, and its description says what to do", () => {
    expect(
      alarmsOf(json)
        .map((a) => a.alarm_name)
        .sort(),
    ).toEqual(["prefect-ecs-dev-observer-dead-letters", "prefect-ecs-dev-observer-queue-stale", "prefect-ecs-dev-worker-down"]);
    for (const alarm of alarmsOf(json)) {
      expect(alarm.alarm_actions, alarm.alarm_name).toEqual([OWN_TOPIC]);
      expect(alarm.ok_actions, alarm.alarm_name).toEqual([OWN_TOPIC]);
      expect(alarm.alarm_description, alarm.alarm_name).toMatch(/(Check|Run|Read|read) /);
      expect(alarm.alarm_description.length, alarm.alarm_name).toBeLessThanOrEqual(1024);
    }
  });

  it("GIVEN the worker-down alarm THEN it fires when Container Insights counts fewer running tasks than desired for 5 minutes, and silence counts as down", () => {
    expect(alarmNamed(json, "worker-down")).toMatchObject({
      namespace: "ECS/ContainerInsights",
      metric_name: "RunningTaskCount",
      dimensions: { ClusterName: "${aws_ecs_cluster.cluster_cluster.name}", ServiceName: "${aws_ecs_service.worker_service.name}" },
      statistic: "Minimum",
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      period: 60,
      evaluation_periods: 5,
      datapoints_to_alarm: 5,
      treat_missing_data: "breaching",
    });
  });

  it("GIVEN the observer alarms THEN the queue's oldest message past 15 minutes, or any dead letter, alarms; an idle queue does not", () => {
    expect(alarmNamed(json, "observer-queue-stale")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "${aws_sqs_queue.ecs_events_queue.name}" },
      statistic: "Maximum",
      comparison_operator: "GreaterThanThreshold",
      threshold: 900,
      treat_missing_data: "notBreaching",
    });
    expect(alarmNamed(json, "observer-dead-letters")).toMatchObject({
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "${aws_sqs_queue.ecs_events_dead_letter_queue.name}" },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      treat_missing_data: "notBreaching",
    });
  });

  it("names only stop codes ECS can send: every failure code is one of ECS's TaskStopCode values", () => {
    // A misspelt code would match no event, and the alert would silently never fire.
    for (const code of FAILURE_STOP_CODES) expect(Object.values(TaskStopCode)).toContain(code);
  });

  it("GIVEN the task-stop rule THEN only this service's failed or interrupted tasks reach the topic, as a sentence with the reason and exit code", () => {
    const rule = Object.values(resources(json, "aws_cloudwatch_event_rule")).find((r) => r.name === "prefect-ecs-dev-worker-task-stopped")!;
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: {
        clusterArn: ["${aws_ecs_cluster.cluster_cluster.arn}"],
        group: ["service:${aws_ecs_service.worker_service.name}"],
        lastStatus: ["STOPPED"],
        $or: [{ stopCode: FAILURE_STOP_CODES }, { stoppedReason: [{ prefix: "Task failed" }] }],
      },
    });
    const target = Object.values(resources(json, "aws_cloudwatch_event_target")).find((t) => t.arn === OWN_TOPIC)!;
    const { input_paths: paths, input_template: template } = target.input_transformer;
    expect(paths).toEqual({
      code: "$.detail.stopCode",
      reason: "$.detail.stoppedReason",
      exit: "$.detail.containers[0].exitCode",
      task: "$.detail.taskArn",
    });
    // EventBridge substitutes each <name>; the result must be a JSON string for SNS.
    const filled = template.replace(/<(\w+)>/g, (_: string, name: string) => `${name}-value`);
    expect(JSON.parse(filled)).toContain("Prefect worker task stopped (code-value): reason-value. Exit code exit-value");
    for (const name of Object.keys(paths)) expect(template).toContain(`<${name}>`);
  });
});

describe("alarms: variations", () => {
  it("GIVEN Container Insights off THEN the worker-down alarm watches CPU samples: none at all means no task runs", () => {
    const { json } = synth({ ...EMAIL, container_insights: false });
    expect(alarmNamed(json, "worker-down")).toMatchObject({
      namespace: "AWS/ECS",
      metric_name: "CPUUtilization",
      statistic: "SampleCount",
      threshold: 1,
    });
  });

  it("GIVEN autoscaling from 2 to 4 and alarm_worker_down_minutes = 10 THEN fewer than 2 running for 10 minutes alarms", () => {
    const { json } = synth({ ...EMAIL, worker_desired_count: 2, worker_min_count: 2, worker_max_count: 4, alarm_worker_down_minutes: 10 });
    expect(alarmNamed(json, "worker-down")).toMatchObject({ threshold: 2, evaluation_periods: 10, datapoints_to_alarm: 10 });
  });

  it("GIVEN worker_desired_count = 0 THEN there is no worker-down alarm (nothing should run)", () => {
    const { json } = synth({ ...EMAIL, worker_desired_count: 0 });
    expect(alarmsOf(json).map((a) => a.alarm_name)).not.toContain("prefect-ecs-dev-worker-down");
  });

  it("GIVEN only an existing topic THEN the stack creates no topic or key and every alarm and the rule notify that topic", () => {
    const { json } = synth({ alarm_sns_topic_arn: TOPIC });
    expect(json.resource.aws_sns_topic).toBeUndefined();
    expect(json.resource.aws_kms_key).toBeUndefined();
    for (const alarm of alarmsOf(json)) expect(alarm.alarm_actions).toEqual([TOPIC]);
    expect(Object.values(resources(json, "aws_cloudwatch_event_target")).filter((t) => t.arn === TOPIC)).toHaveLength(1);
  });

  it("GIVEN both an email and an existing topic THEN alarms and the rule notify both", () => {
    const { json } = synth({ ...EMAIL, alarm_sns_topic_arn: TOPIC });
    expect(alarmsOf(json).length).toBeGreaterThanOrEqual(3);
    for (const alarm of alarmsOf(json)) {
      expect(alarm.alarm_actions).toEqual([OWN_TOPIC, TOPIC]);
      expect(alarm.ok_actions).toEqual([OWN_TOPIC, TOPIC]);
    }
    expect(Object.values(resources(json, "aws_cloudwatch_event_target")).filter((t) => [OWN_TOPIC, TOPIC].includes(t.arn))).toHaveLength(2);
  });

  it("GIVEN the event observer off THEN there are no queue alarms", () => {
    const { json } = synth({ ...EMAIL, ecs_event_observer: false });
    expect(alarmsOf(json).map((a) => a.alarm_name)).toEqual(["prefect-ecs-dev-worker-down"]);
  });

  it("GIVEN the NAT instance THEN an alarm fires when its group has had no instance in service for 5 minutes, from the group's free metrics", () => {
    const { json } = synth({ ...EMAIL, ...VARIANTS.nat_instance });
    expect(alarmNamed(json, "nat-instance-down")).toMatchObject({
      namespace: "AWS/AutoScaling",
      metric_name: "GroupInServiceInstances",
      dimensions: { AutoScalingGroupName: "${aws_autoscaling_group.network_nat_instance_autoscaling_group.name}" },
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
    expect(Object.values(resources(json, "aws_autoscaling_group"))[0].enabled_metrics).toEqual(["GroupInServiceInstances"]);
  });

  it("GIVEN monthly_budget_usd = 50 THEN a monthly cost budget on the Project tag notifies the topic at 80 % actual and 100 % forecast", () => {
    const { json } = synth({ ...EMAIL, monthly_budget_usd: 50 });
    const budget = Object.values(resources(json, "aws_budgets_budget"))[0];
    expect(budget).toMatchObject({
      name: "prefect-ecs-dev-monthly",
      budget_type: "COST",
      limit_amount: "50.00",
      limit_unit: "USD",
      time_unit: "MONTHLY",
    });
    expect(budget.cost_filter).toEqual([{ name: "TagKeyValue", values: ["user:Project$prefect-ecs"] }]);
    expect(budget.notification.map((n: any) => [n.notification_type, n.threshold, n.subscriber_sns_topic_arns])).toEqual([
      ["ACTUAL", 80, [OWN_TOPIC]],
      ["FORECASTED", 100, [OWN_TOPIC]],
    ]);
  });

  it("GIVEN alarms THEN npm run cost prices them: $0.10 per alarm and $1 for the topic's key", () => {
    const lines = monthlyCost(EMAIL).lines;
    expect(lines.find((l) => l.item === "CloudWatch alarms")?.monthly).toBeCloseTo(0.3, 6);
    expect(lines.find((l) => l.item === "KMS keys")?.monthly).toBeCloseTo(1, 6);
  });
});
