import { Alarms } from "../monitoring/alarms";
import type { FeatureContext } from "./context";
import type { TaskNetwork } from "./network";
import type { Platform } from "./platform";
import type { InStackServer } from "./prefect-server";
import type { Worker } from "./worker";

/** What tells the operator something is wrong (alarms): the worker, the event queue, the NAT instance, the server, the budget. */
export class Operations {
  readonly alarms?: Alarms;

  constructor({ stack, settings, partition }: FeatureContext, network: TaskNetwork, platform: Platform, worker: Worker, server?: InStackServer) {
    if (!settings.alarms) return;
    const { cluster, observer } = platform;
    this.alarms = new Alarms(stack, "alarms", {
      namePrefix: settings.name_prefix,
      partition,
      clusterArn: cluster.cluster.arn,
      clusterName: cluster.cluster.name,
      serviceName: worker.service.service.name,
      email: settings.alarm_email,
      existingTopicArn: settings.alarm_sns_topic_arn,
      workerMinRunning: settings.worker_autoscaling ? settings.worker_min_count : settings.worker_desired_count,
      workerDownMinutes: settings.alarm_worker_down_minutes,
      containerInsights: settings.container_insights,
      observer: observer && {
        queueName: observer.queue.name,
        deadLetterQueueName: observer.deadLetterQueue.name,
        maxAgeMinutes: settings.alarm_queue_age_minutes,
      },
      natInstanceGroupName: network.vpc?.natInstance?.autoscalingGroup.name,
      server: server && { serviceName: server.server.service.name, databaseIdentifier: server.database.instance.identifier },
      budget: settings.monthly_budget_usd !== undefined ? { monthlyUsd: settings.monthly_budget_usd, projectName: settings.project_name } : undefined,
    });
  }
}
