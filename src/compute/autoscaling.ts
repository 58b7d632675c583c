import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";

export interface WorkerAutoscalingProps {
  readonly clusterName: string;
  readonly serviceName: string;
  readonly minCount: number;
  readonly maxCount: number;
  /** Average CPU utilization (%) the scaler aims for. */
  readonly cpuTarget: number;
  /** Average memory utilization (%) the scaler aims for. */
  readonly memoryTarget: number;
  /** Seconds between scale-outs. @default 60 */
  readonly scaleOutCooldown?: number;
  /** Seconds between scale-ins; longer, so a busy worker is not stopped between polls. @default 300 */
  readonly scaleInCooldown?: number;
}

/** Target tracking on the worker service's average CPU and memory. */
export class WorkerAutoscaling extends Construct {
  readonly target: AppautoscalingTarget;

  constructor(scope: Construct, id: string, props: WorkerAutoscalingProps) {
    super(scope, id);
    this.target = new AppautoscalingTarget(this, "target", {
      serviceNamespace: "ecs",
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      scalableDimension: "ecs:service:DesiredCount",
      minCapacity: props.minCount,
      maxCapacity: props.maxCount,
    });
    const policy = (name: string, metric: string, targetValue: number) =>
      new AppautoscalingPolicy(this, `${name}_policy`, {
        name: `${props.serviceName}-${name}`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.target.serviceNamespace,
        resourceId: this.target.resourceId,
        scalableDimension: this.target.scalableDimension,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: metric },
          targetValue,
          scaleOutCooldown: props.scaleOutCooldown ?? 60,
          scaleInCooldown: props.scaleInCooldown ?? 300,
        },
      });
    policy("cpu", "ECSServiceAverageCPUUtilization", props.cpuTarget);
    policy("memory", "ECSServiceAverageMemoryUtilization", props.memoryTarget);
  }
}
