import { Construct } from "constructs";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import type { Statement } from "../security/iam-policy";
import { stackOutput } from "../stacks/outputs";

/** The worker setting that points prefect-aws's ECS observer at its queue. */
export const OBSERVER_QUEUE_ENV = "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME";

export interface EcsEventObserverProps {
  readonly namePrefix: string;
  readonly clusterArn: string;
  /** Deliveries a message may fail before it moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * ECS task state changes of this cluster, delivered to an SQS queue the worker reads: prefect-aws's
 * observer uses them to mark flow runs whose containers crashed or were stopped.
 */
export class EcsEventObserver extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: EcsEventObserverProps) {
    super(scope, id);
    this.deadLetterQueue = new SqsQueue(this, "dead_letter_queue", {
      name: `${props.namePrefix}-ecs-events-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    this.queue = new SqsQueue(this, "queue", {
      name: `${props.namePrefix}-ecs-events`,
      sqsManagedSseEnabled: true,
      // Task events matter only while their flow runs are live.
      messageRetentionSeconds: 24 * 3600,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxReceiveCount ?? 5 }),
    });
    this.rule = new CloudwatchEventRule(this, "rule", {
      name: `${props.namePrefix}-ecs-task-state`,
      description: "ECS task state changes in this cluster, for the Prefect worker's observer",
      eventPattern: JSON.stringify({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: { clusterArn: [props.clusterArn] },
      }),
    });
    stackOutput(this, "ecs_events_queue_name", this.queue.name, "SQS queue of ECS task state changes the worker observes");
    new CloudwatchEventTarget(this, "target", { rule: this.rule.name, arn: this.queue.arn, targetId: "prefect-worker-queue" });
    new SqsQueuePolicy(this, "queue_policy", {
      queueUrl: this.queue.url,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "OnlyThisRuleSends",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: this.queue.arn,
            Condition: { ArnEquals: { "aws:SourceArn": this.rule.arn } },
          },
        ],
      }),
    });
  }

  /**
   * Exactly the SQS calls of prefect-aws's observer (prefect_aws/observers/ecs.py, PrefectHQ/prefect@ce79dd3),
   * on this queue only: get_queue_url (line 265), receive_message (295), delete_message (313) and
   * change_message_visibility (328), which keeps a message hidden while slow handlers run. It never reads
   * queue attributes.
   */
  consumerStatement(): Statement {
    return {
      Sid: "ReadEcsEventQueue",
      Action: ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
      Resource: this.queue.arn,
    };
  }
}
