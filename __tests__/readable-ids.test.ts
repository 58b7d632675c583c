import { App, TerraformLocal, Testing } from "cdktf";
import { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { ReadableIdStack } from "../src/stacks/readable-id-stack";
import { synth } from "./support/synth";

class TwoPaths extends ReadableIdStack {
  constructor(scope: Construct, first: string[], second: string[]) {
    super(scope, "ids");
    for (const path of [first, second]) {
      const parent = path.slice(0, -1).reduce<Construct>((scope, id) => (scope.node.tryFindChild(id) as Construct) ?? new Construct(scope, id), this);
      new TerraformLocal(parent, path.at(-1)!, path.join("/"));
    }
  }
}

describe("the readable id policy", () => {
  it("GIVEN flow_run/task_queue and flow/run_task_queue WHEN synthesized THEN synth fails naming both construct paths", () => {
    const stack = new TwoPaths(Testing.app(), ["flow_run", "task_queue"], ["flow", "run_task_queue"]);
    expect(() => Testing.synth(stack)).toThrow(
      'Two constructs would share the Terraform id "flow_run_task_queue": ids/flow_run/task_queue and ids/flow/run_task_queue',
    );
  });

  it("GIVEN paths that join to different ids WHEN synthesized THEN each keeps its readable id", () => {
    const stack = new TwoPaths(new App(), ["flow_run", "task_queue"], ["flow", "run_queue"]);
    expect(Object.keys(JSON.parse(Testing.synth(stack)).locals).sort()).toEqual(["flow_run_queue", "flow_run_task_queue"]);
  });

  it("GIVEN EFS, interface endpoints, autoscaling, ECS Exec and a namespace WHEN synthesized THEN no two constructs collide and the VPC and service ids are their construct paths", () => {
    const { json } = synth({
      flow_run_efs: true,
      vpc_interface_endpoints: true,
      worker_max_count: 3,
      enable_ecs_exec: true,
      service_discovery_namespace: "prefect.internal",
    });
    expect(Object.keys(json.resource.aws_vpc)).toEqual(["network_vpc"]);
    expect(Object.keys(json.resource.aws_ecs_service)).toEqual(["worker_service"]);
  });
});
