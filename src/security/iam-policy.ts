/** Small helpers for IAM JSON documents built at synth time. */

export interface Statement {
  readonly Sid?: string;
  readonly Effect?: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * Renders a policy as JSON text. Resource ARNs may be cdktf string tokens: they become Terraform
 * interpolations inside the string, so reviewers read the policy as JSON in cdk.tf.json.
 */
export function policyDocument(statements: Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) });
}

/** Trust policy for roles assumed by a single AWS service principal. */
export function assumedBy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** The SSM channels ECS Exec opens from inside a task (its agent calls them with the task role). */
export const ECS_EXEC_CHANNELS: Statement = {
  Sid: "EcsExecChannels",
  Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
  Resource: "*",
};
