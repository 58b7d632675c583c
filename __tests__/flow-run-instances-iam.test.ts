import { describe, expect, it } from "vitest";
import { ACCOUNT, FakeAwsValues, policyProblems, roleUnderTest, simulate } from "./support/iam-simulation";
import { synth, VARIANTS } from "./support/synth";

/**
 * The flow-run instances' role (flow_run_capacity = "ec2"), evaluated by a real IAM policy simulator
 * (@cloud-copilot/iam-simulate) with AWS's AmazonEC2ContainerServiceforEC2Role: the calls the ECS agent makes on a
 * container instance (AWS: Amazon ECS container instance IAM role, instance_IAM_role.html) are allowed, and what a
 * flow run's own roles do (start tasks, pass roles, read secrets, reach S3) is not: a task in awsvpc mode cannot
 * reach these credentials, and they could not do those things if it did.
 */
const { json } = synth(VARIANTS.ec2_capacity);
const fake = new FakeAwsValues(json);
const role = roleUnderTest(json, fake, "cluster_flow_run_instances_role");
const CLUSTER = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prefect-ecs-dev`;
const INSTANCE = `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/prefect-ecs-dev/0123456789abcdef0123456789abcdef`;
const REPOSITORY = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/prefect-ecs-dev/flows`;

const decide = async (action: string, resource: string, context: Record<string, string> = {}) =>
  (await simulate(role.sessionArn, { action, resource, context }, role.policies)).decision;

describe("the flow-run instances' role, simulated", () => {
  it("GIVEN its policies THEN they are exactly AWS's managed policy for the agent, whose one finding is AWS's own wildcard", async () => {
    expect(role.policies.map((p) => p.name)).toEqual(["cluster_flow_run_instances_agent_policy"]);
    // The stack's own policies name every action; AWS's document grants the agent's state reports as ecs:Submit*.
    expect(await policyProblems(role.policies[0].policy, "identity", role.sessionArn)).toEqual(["statement 0: wildcard action ecs:Submit*"]);
  });

  it.each([
    ["ecs:DiscoverPollEndpoint", "*"],
    ["ecs:RegisterContainerInstance", CLUSTER],
    ["ecs:Poll", INSTANCE],
    ["ecs:StartTelemetrySession", INSTANCE],
    ["ecs:SubmitTaskStateChange", CLUSTER],
    ["ecs:SubmitContainerStateChange", CLUSTER],
    ["ecs:DeregisterContainerInstance", CLUSTER],
    ["ecr:GetAuthorizationToken", "*"],
    ["ecr:BatchGetImage", REPOSITORY],
    ["ecr:GetDownloadUrlForLayer", REPOSITORY],
  ])("GIVEN the ECS agent's call %s on %s THEN it is allowed", async (action, resource) => {
    expect(await decide(action, resource)).toBe("Allowed");
  });

  it.each([
    ["ecs:RunTask", `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/prefect_flow:1`, "starting tasks is the worker's"],
    ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/prefect-ecs-dev-flow-run-task`, "passing roles is the worker's"],
    [
      "secretsmanager:GetSecretValue",
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prefect-ecs-dev/prefect-api-key-AbCdEf`,
      "the Prefect key is the execution role's",
    ],
    ["s3:GetObject", "arn:aws:s3:::acme-data/key", "flow code's rights are the flow-run task role's"],
    ["ecr:PutImage", REPOSITORY, "pushing images is the flows pipeline's"],
    ["ecs:TagResource", INSTANCE, "tagging outside registration"],
  ])("GIVEN %s on %s THEN it is denied (%s)", async (action, resource, _why) => {
    expect(await decide(action, resource)).toBe("ImplicitlyDenied");
  });
});
