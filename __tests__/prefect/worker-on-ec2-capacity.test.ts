import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { RegisterContainerInstanceCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEPLOY_TIMEOUT } from "../support/emulator-lane";
import { api } from "../support/prefect-real";
import { StackWorker } from "../support/stack-worker";

/**
 * flow_run_capacity = "ec2" with the real prefect-aws worker: the stack applied to moto, its pool created by the
 * stack's own command, and a flow run submitted by the worker. What the worker sends ECS is read from the recording
 * proxy. The test plays the ECS agent's one part here: it registers the group's instance with the cluster, as the
 * agent does when the instance boots (moto runs no agent, and its RunTask places a task without a launch type only
 * on a registered instance; it ignores the strategy itself, moto/ecs/responses.py run_task).
 */
const POOL = "worker-ec2-pool";
const server = inject("prefectServer");
const stack = new StackWorker("worker-on-ec2-capacity", server, POOL, "pnu_worker_on_ec2_dummy_key");
const { lane } = stack;
let deploymentId = "";

beforeAll(async () => {
  await stack.start({ flow_run_capacity: "ec2" });
  const group = `${lane.settings.name_prefix}-flow-runs`;
  const [instance] = (await lane.aws.ec2Autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })))
    .AutoScalingGroups![0].Instances!;
  await lane.aws.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: lane.outputs.cluster_arn,
      instanceIdentityDocument: JSON.stringify({ instanceId: instance.InstanceId, region: lane.settings.aws_region }),
      totalResources: [
        { name: "CPU", type: "INTEGER", integerValue: 2048 },
        { name: "MEMORY", type: "INTEGER", integerValue: 7372 },
      ],
    }),
  );
  // A deployment on the pool, as `prefect deploy` registers one (no flow code runs: moto starts no container).
  const flow = await api(server, "POST", "/flows/", { name: "ec2-capacity-check" });
  const deployment = await api(server, "POST", "/deployments/", {
    name: "ec2-capacity-check",
    flow_id: flow.json.id,
    work_pool_name: POOL,
    job_variables: { image: `${lane.outputs.flows_repository_url}:ec2-capacity` },
  });
  expect(deployment.status, JSON.stringify(deployment.json).slice(0, 500)).toBeLessThan(300);
  deploymentId = deployment.json.id;
}, DEPLOY_TIMEOUT);

afterAll(() => stack.stop());

describe("the real ECS worker with the EC2 capacity template", () => {
  it("GIVEN a flow run WHEN the worker submits it THEN it registers an EC2, awsvpc task definition and sends RunTask to the instances' capacity provider", async () => {
    await stack.createFlowRun(deploymentId);
    const [runTask] = await stack.runTasks(1);
    const [registration] = stack.recorder!.of("RegisterTaskDefinition");
    expect(registration.body.requiresCompatibilities).toEqual(["EC2"]);
    expect(registration.body.networkMode).toBe("awsvpc");

    const request = runTask.body;
    expect(request.capacityProviderStrategy).toEqual([{ capacityProvider: `${lane.settings.name_prefix}-flow-runs`, weight: 1, base: 0 }]);
    // The worker drops launchType when a strategy is given (ecs_worker.py, _prepare_task_run_request).
    expect(request.launchType).toBeUndefined();
    expect(request.cluster).toBe(lane.outputs.cluster_arn);
    expect(request.networkConfiguration.awsvpcConfiguration).toEqual({
      subnets: lane.outputs.private_subnet_ids,
      securityGroups: [lane.outputs.flow_run_security_group_id],
      assignPublicIp: "DISABLED",
    });
    expect(runTask.status, `${JSON.stringify(runTask.response)}\n${stack.logTail()}`).toBe(200);
  });
});
