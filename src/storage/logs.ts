import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { stackOutput } from "../stacks/outputs";

export interface LogsProps {
  readonly namePrefix: string;
  /** Days to keep worker and flow-run logs. */
  readonly retentionDays: number;
}

/** Log groups for the worker and for the flow runs it starts. */
export class Logs extends Construct {
  readonly workerLogGroup: CloudwatchLogGroup;
  readonly flowRunLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: LogsProps) {
    super(scope, id);
    this.workerLogGroup = new CloudwatchLogGroup(this, "worker_log_group", {
      name: `/ecs/${props.namePrefix}/worker`,
      retentionInDays: props.retentionDays,
    });
    this.flowRunLogGroup = new CloudwatchLogGroup(this, "flow_run_log_group", {
      name: `/ecs/${props.namePrefix}/flow-runs`,
      retentionInDays: props.retentionDays,
    });
    stackOutput(this, "worker_log_group", this.workerLogGroup.name, "CloudWatch log group of the worker");
    stackOutput(this, "flow_run_log_group", this.flowRunLogGroup.name, "CloudWatch log group for flow runs");
  }
}
