import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { describeAppliedStack, describeReplanAndDestroy } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";
import { VARIANTS } from "../support/synth";

/** A self-hosted Prefect server on port 4200 with basic auth (PREFECT_API_AUTH_STRING in Secrets Manager). */
const lane = new EmulatorLane("self-hosted");

beforeAll(() => lane.deploy(VARIANTS.self_hosted), DEPLOY_TIMEOUT);
afterAll(() => lane.close());

describeAppliedStack(lane);

describe("a self-hosted Prefect server", () => {
  it("GIVEN prefect_api_url THEN the worker is pointed at it, and carries no Prefect Cloud key", async () => {
    const { ecs } = lane.aws;
    const service = (await ecs.send(new DescribeServicesCommand({ cluster: lane.outputs.cluster_arn, services: [lane.outputs.worker_service_name] })))
      .services![0];
    const container = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition!
      .containerDefinitions![0];
    expect(container.environment).toContainEqual({ name: "PREFECT_API_URL", value: VARIANTS.self_hosted.prefect_api_url });
    expect(JSON.stringify(container)).not.toContain("PREFECT_API_KEY");
  });
});

describeReplanAndDestroy(lane);
