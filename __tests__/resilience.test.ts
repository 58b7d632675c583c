import { describe, expect, it } from "vitest";
import { OBSERVER_QUEUE_ENV } from "../src/compute/event-observer";
import { only, resources, synth } from "./support/synth";

const containerOf = (json: any) => JSON.parse(only(json, "aws_ecs_task_definition").container_definitions)[0];

describe("worker autoscaling", () => {
  const { json } = synth({ worker_min_count: 1, worker_max_count: 4, worker_cpu_target: 60 });

  it("is off when max equals min (the default)", () => {
    const plain = synth().json;
    expect(resources(plain, "aws_appautoscaling_target")).toEqual({});
    expect(only(plain, "aws_ecs_service").lifecycle).toBeUndefined();
  });

  it("registers the worker service as a scalable target between min and max", () => {
    expect(only(json, "aws_appautoscaling_target")).toMatchObject({
      service_namespace: "ecs",
      resource_id: "service/${aws_ecs_cluster.cluster_cluster.name}/${aws_ecs_service.worker_service.name}",
      scalable_dimension: "ecs:service:DesiredCount",
      min_capacity: 1,
      max_capacity: 4,
    });
  });

  it("tracks CPU and memory targets with cooldowns", () => {
    const policies = Object.values(resources(json, "aws_appautoscaling_policy")).map((p) => p.target_tracking_scaling_policy_configuration);
    expect(policies).toEqual([
      {
        predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
        target_value: 60,
        scale_out_cooldown: 60,
        scale_in_cooldown: 300,
      },
      {
        predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageMemoryUtilization" },
        target_value: 80,
        scale_out_cooldown: 60,
        scale_in_cooldown: 300,
      },
    ]);
  });

  it("lets the scaler own desired_count, so a re-apply does not fight it", () => {
    expect(only(json, "aws_ecs_service").lifecycle).toEqual({ ignore_changes: ["desired_count"] });
  });
});

describe("ECS event observer", () => {
  const { json } = synth();
  const queues = resources(json, "aws_sqs_queue");

  it("creates an encrypted queue with a dead-letter queue", () => {
    expect(queues.ecs_events_queue).toMatchObject({ name: "prefect-ecs-dev-ecs-events", sqs_managed_sse_enabled: true });
    expect(queues.ecs_events_dead_letter_queue.sqs_managed_sse_enabled).toBe(true);
    expect(JSON.parse(queues.ecs_events_queue.redrive_policy)).toEqual({
      deadLetterTargetArn: "${aws_sqs_queue.ecs_events_dead_letter_queue.arn}",
      maxReceiveCount: 5,
    });
  });

  it("matches ECS task state changes of this cluster only", () => {
    expect(JSON.parse(only(json, "aws_cloudwatch_event_rule").event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: { clusterArn: ["${aws_ecs_cluster.cluster_cluster.arn}"] },
    });
    expect(only(json, "aws_cloudwatch_event_target").arn).toBe("${aws_sqs_queue.ecs_events_queue.arn}");
  });

  it("lets only that rule send to the queue", () => {
    expect(JSON.parse(only(json, "aws_sqs_queue_policy").policy).Statement).toEqual([
      {
        Sid: "OnlyThisRuleSends",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: "${aws_sqs_queue.ecs_events_queue.arn}",
        Condition: { ArnEquals: { "aws:SourceArn": "${aws_cloudwatch_event_rule.ecs_events_rule.arn}" } },
      },
    ]);
  });

  it("lets the worker read, delete and hold messages on that queue only (observers/ecs.py 265, 295, 313, 328)", () => {
    const policy = JSON.parse(resources(json, "aws_iam_role_policy").iam_worker_task_prefect_ecs_worker_policy.policy);
    expect(policy.Statement.find((s: any) => s.Sid === "ReadEcsEventQueue")).toEqual({
      Effect: "Allow",
      Sid: "ReadEcsEventQueue",
      Action: ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
      Resource: "${aws_sqs_queue.ecs_events_queue.arn}",
    });
  });

  it("points the worker at the queue by name", () => {
    expect(containerOf(json).environment).toContainEqual({ name: OBSERVER_QUEUE_ENV, value: "${aws_sqs_queue.ecs_events_queue.name}" });
  });

  it("GIVEN ecs_event_observer = false THEN none of it exists", () => {
    const off = synth({ ecs_event_observer: false }).json;
    expect(resources(off, "aws_sqs_queue")).toEqual({});
    expect(resources(off, "aws_cloudwatch_event_rule")).toEqual({});
    expect(containerOf(off).environment.map((e: any) => e.name)).not.toContain(OBSERVER_QUEUE_ENV);
  });
});
