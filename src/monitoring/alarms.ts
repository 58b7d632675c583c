import { Construct } from "constructs";
import { Fn, TerraformLocal } from "cdktf";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { stackOutput } from "../stacks/outputs";

/** ECS stop codes of a worker task that did not stop for a deployment or a scale-in. */
const WORKER_FAILURE_STOP_CODES = ["TaskFailedToStart", "EssentialContainerExited", "SpotInterruption"] as const;

export interface AlarmsProps {
  readonly namePrefix: string;
  readonly partition: string;
  /** The cluster's ARN: its account field names the account without a lookup. */
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** Where to send alarms: an email subscription on a topic this stack creates. @default no topic of its own */
  readonly email?: string;
  /** An existing standard SNS topic in the stack's region, notified as well. @default none */
  readonly existingTopicArn?: string;
  /** Tasks the worker service must run: its desired count, or its minimum with autoscaling. 0 turns the alarm off. */
  readonly workerMinRunning: number;
  /** Minutes the worker may run fewer tasks than that before the alarm fires. */
  readonly workerDownMinutes: number;
  /** With Container Insights the alarm compares running tasks with the minimum; without, it sees only "none running". */
  readonly containerInsights: boolean;
  /** The ECS event observer's queues, when the observer is on. @default none */
  readonly observer?: { readonly queueName: string; readonly deadLetterQueueName: string; readonly maxAgeMinutes: number };
  /** The NAT instance's Auto Scaling group, when egress goes through one. @default none */
  readonly natInstanceGroupName?: string;
  /** A monthly cost budget for the resources tagged Project = projectName. @default none */
  readonly budget?: { readonly monthlyUsd: number; readonly projectName: string };
  /** The in-stack Prefect server's service and database (prefect_server). @default none */
  readonly server?: { readonly serviceName: string; readonly databaseIdentifier: string };
}

/**
 * Being told when the worker is dead or hung: alarms (notifying on ALARM and on OK), a rule that reports
 * each failed worker task with its reason and exit code, and an optional monthly budget, all to one topic.
 * Each alarm's description says what it means and what to do (README: Operating it).
 */
export class Alarms extends Construct {
  readonly topicArns: string[];
  readonly topic?: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  readonly taskStoppedRule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { namePrefix: prefix } = props;
    // A local keeps policy texts free of quoted function arguments, so they stay plain JSON.
    const account = new TerraformLocal(this, "account_id", Fn.element(Fn.split(":", props.clusterArn), 4)).asString;
    const publishers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"];

    if (props.email !== undefined) {
      // SNS's AWS-managed key does not let CloudWatch, EventBridge or Budgets use it, so the topic has its own key.
      const key = new KmsKey(this, "topic_key", {
        description: `${prefix}: encrypts the alarm topic`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdministers",
              Effect: "Allow",
              Principal: { AWS: `arn:${props.partition}:iam::${account}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "NotifiersEncrypt",
              Effect: "Allow",
              Principal: { Service: publishers },
              Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      });
      this.topic = new SnsTopic(this, "topic", { name: `${prefix}-alarms`, kmsMasterKeyId: key.arn });
      new SnsTopicPolicy(this, "topic_policy", {
        arn: this.topic.arn,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "NotifiersOfThisAccountPublish",
              Effect: "Allow",
              Principal: { Service: publishers },
              Action: "sns:Publish",
              Resource: this.topic.arn,
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      });
      // Pending until the recipient confirms the email AWS sends.
      new SnsTopicSubscription(this, "email", { topicArn: this.topic.arn, protocol: "email", endpoint: props.email });
      stackOutput(this, "alarm_topic_arn", this.topic.arn, "SNS topic the stack's alarms and budget notify");
    }
    this.topicArns = [...(this.topic ? [this.topic.arn] : []), ...(props.existingTopicArn ? [props.existingTopicArn] : [])];

    const alarm = (name: string, config: Omit<CloudwatchMetricAlarmConfig, "alarmName" | "alarmActions" | "okActions">) =>
      this.alarms.push(
        new CloudwatchMetricAlarm(this, `${name.replace(/-/g, "_")}_alarm`, {
          alarmName: `${prefix}-${name}`,
          alarmActions: this.topicArns,
          okActions: this.topicArns,
          ...config,
        }),
      );

    // A service running fewer tasks than it should for N minutes. A stopped service emits no metrics at all:
    // silence is the failure, so missing data breaches.
    const serviceDown = (name: string, serviceName: string, minRunning: number, alarmDescription: string) =>
      alarm(name, {
        alarmDescription,
        ...(props.containerInsights
          ? { namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", statistic: "Minimum", threshold: minRunning }
          : // Without Container Insights only CPU samples show a task runs: none at all means none running.
            { namespace: "AWS/ECS", metricName: "CPUUtilization", statistic: "SampleCount", threshold: 1 }),
        dimensions: { ClusterName: props.clusterName, ServiceName: serviceName },
        comparisonOperator: "LessThanThreshold",
        period: 60,
        evaluationPeriods: props.workerDownMinutes,
        datapointsToAlarm: props.workerDownMinutes,
        treatMissingData: "breaching",
      });

    if (props.workerMinRunning > 0) {
      const minutes = props.workerDownMinutes;
      const what = props.containerInsights
        ? `The Prefect worker service ${props.serviceName} has run fewer than ${props.workerMinRunning} task(s) for ${minutes} minute(s), so flow runs may not be picked up.`
        : `The Prefect worker service ${props.serviceName} has run no task for ${minutes} minute(s), so flow runs are not picked up.`;
      const todo =
        "Run `npm run status` for the service's events; a task that cannot start says why there (image pull, secret, subnet); " +
        "the worker's log group shows a task that starts and exits.";
      serviceDown("worker-down", props.serviceName, props.workerMinRunning, `${what} ${todo}`);
    }

    if (props.server) {
      const { serviceName, databaseIdentifier } = props.server;
      serviceDown(
        "prefect-server-down",
        serviceName,
        1,
        `The Prefect server service ${serviceName} has run no task for ${props.workerDownMinutes} minute(s): the worker and flow runs cannot reach Prefect. ` +
          "Read the server's log group (migrations, database connection) and its service events (aws ecs describe-services).",
      );
      alarm("prefect-db-storage-low", {
        alarmDescription:
          `The Prefect database ${databaseIdentifier} has less than 2 GiB free. Storage autoscaling grows it up to prefect_server_db_max_storage_gb; ` +
          "past that, raise the setting, or delete old flow runs and logs in Prefect.",
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: { DBInstanceIdentifier: databaseIdentifier },
        statistic: "Minimum",
        threshold: 2 * 1024 ** 3,
        comparisonOperator: "LessThanThreshold",
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }

    // Each failed task, with ECS's reason and the container's exit code. Deployments and scale-in
    // (ServiceSchedulerInitiated, UserInitiated) are left out, except failed health checks.
    const taskStopped = (id: string, name: string, serviceName: string, description: string, message: string) => {
      const rule = new CloudwatchEventRule(this, id, {
        name: `${prefix}-${name}`,
        description,
        eventPattern: JSON.stringify({
          source: ["aws.ecs"],
          "detail-type": ["ECS Task State Change"],
          detail: {
            clusterArn: [props.clusterArn],
            group: [`service:${serviceName}`],
            lastStatus: ["STOPPED"],
            $or: [{ stopCode: [...WORKER_FAILURE_STOP_CODES] }, { stoppedReason: [{ prefix: "Task failed" }] }],
          },
        }),
      });
      this.topicArns.forEach(
        (arn, i) =>
          new CloudwatchEventTarget(this, `${id}_target_${i}`, {
            rule: rule.name,
            arn,
            targetId: `notify-${i}`,
            inputTransformer: {
              inputPaths: {
                code: "$.detail.stopCode",
                reason: "$.detail.stoppedReason",
                exit: "$.detail.containers[0].exitCode",
                task: "$.detail.taskArn",
              },
              inputTemplate: `"${message}"`,
            },
          }),
      );
      return rule;
    };
    this.taskStoppedRule = taskStopped(
      "worker_task_stopped",
      "worker-task-stopped",
      props.serviceName,
      `Failed or interrupted tasks of the Prefect worker service ${props.serviceName}`,
      "Prefect worker task stopped (<code>): <reason>. Exit code <exit> (137: out of memory, raise worker_memory). Task <task>. Run npm run status, then read the worker's log group.",
    );
    if (props.server) {
      taskStopped(
        "prefect_server_task_stopped",
        "prefect-server-task-stopped",
        props.server.serviceName,
        `Failed tasks of the Prefect server service ${props.server.serviceName}`,
        "Prefect server task stopped (<code>): <reason>. Exit code <exit> (137: out of memory, raise prefect_server_memory). Task <task>. Read the server's log group (migrations, database connection).",
      );
    }

    if (props.observer) {
      const { queueName, deadLetterQueueName, maxAgeMinutes } = props.observer;
      alarm("observer-queue-stale", {
        alarmDescription:
          `The ECS event observer's queue ${queueName} holds a message older than ${maxAgeMinutes} minutes: the worker is not reading task events, ` +
          "so crashed flow runs are not marked. Check the worker is running (npm run status) and its log for SQS errors.",
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: queueName },
        statistic: "Maximum",
        threshold: maxAgeMinutes * 60,
        comparisonOperator: "GreaterThanThreshold",
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
      alarm("observer-dead-letters", {
        alarmDescription:
          `The ECS event observer's dead-letter queue ${deadLetterQueueName} has messages: task events the worker failed to handle five times. ` +
          "Read the worker's log around their time; once understood, purge the queue (the events are only hints for flow-run states).",
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: deadLetterQueueName },
        statistic: "Maximum",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }

    if (props.natInstanceGroupName) {
      alarm("nat-instance-down", {
        alarmDescription:
          `The NAT instance group ${props.natInstanceGroupName} has had no instance in service for 5 minutes: private tasks cannot reach the internet. ` +
          "The group replaces a failed instance by itself; if this lasts, read the group's activity history (a launch failing, e.g. no capacity for the instance type).",
        namespace: "AWS/AutoScaling",
        metricName: "GroupInServiceInstances",
        dimensions: { AutoScalingGroupName: props.natInstanceGroupName },
        statistic: "Minimum",
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: "breaching",
      });
    }

    if (props.budget) {
      // Budgets notify one SNS topic per notification: the stack's own, else the operator's.
      const notify = this.topicArns.slice(0, 1);
      new BudgetsBudget(this, "monthly_budget", {
        name: `${prefix}-monthly`,
        budgetType: "COST",
        limitAmount: props.budget.monthlyUsd.toFixed(2),
        limitUnit: "USD",
        timeUnit: "MONTHLY",
        // Resources carry the Project tag (provider default tags); activate it as a cost allocation tag in Billing.
        costFilter: [{ name: "TagKeyValue", values: [`user:Project$${props.budget.projectName}`] }],
        notification: [
          {
            notificationType: "ACTUAL",
            comparisonOperator: "GREATER_THAN",
            threshold: 80,
            thresholdType: "PERCENTAGE",
            subscriberSnsTopicArns: notify,
          },
          {
            notificationType: "FORECASTED",
            comparisonOperator: "GREATER_THAN",
            threshold: 100,
            thresholdType: "PERCENTAGE",
            subscriberSnsTopicArns: notify,
          },
        ],
      });
    }
  }
}
