import { BatchDeleteImageCommand, DescribeImagesCommand, DescribeRepositoriesCommand, PutImageCommand } from "@aws-sdk/client-ecr";
import { afterAll, describe, expect, it } from "vitest";
import { destroyLeavesNothing } from "../support/emulator-checks";
import { DEPLOY_TIMEOUT, EmulatorLane } from "../support/emulator-lane";

/**
 * README's destroy blocker for images: with ecr_force_delete = false (the default) a repository that
 * still holds images stops the destroy; with true, destroy removes it with its images. Two scenarios,
 * each from an empty emulator. The observer is off: it plays no part here and its SQS waits would only
 * slow the lane.
 */
const lane = new EmulatorLane("blockers-ecr");
const VALUES = { ecs_event_observer: false };
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 7023, digest: `sha256:${"b".repeat(64)}` },
  layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 32654, digest: `sha256:${"e".repeat(64)}` }],
});

/** Deploys from an empty emulator and pushes one image to the flows repository; returns the repository's name. */
async function deployWithAnImage(values: Record<string, unknown>): Promise<string> {
  await lane.open();
  await lane.deploy(values);
  const repository = lane.outputs.flows_repository_url.split("/").slice(1).join("/");
  await lane.aws.ecr.send(new PutImageCommand({ repositoryName: repository, imageManifest: MANIFEST, imageTag: "2026-01-01" }));
  return repository;
}

afterAll(() => lane.close());

describe("a repository that still holds images", () => {
  it(
    "GIVEN an image in the flows repository and ecr_force_delete = false WHEN destroying THEN the destroy stops at that repository, which keeps its image",
    async () => {
      const repository = await deployWithAnImage(VALUES);
      const run = await lane.stack.destroy();
      expect(run.status).toBe(1);
      expect(run.output).toContain("RepositoryNotEmptyException");
      expect(run.output).toContain(repository);
      const left = await lane.stack.stateList();
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^aws_ecr_repository\./);
      expect((await lane.aws.ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName)).toEqual([repository]);
      expect((await lane.aws.ecr.send(new DescribeImagesCommand({ repositoryName: repository }))).imageDetails).toHaveLength(1);

      // The operator removes the images; the next destroy finishes.
      await lane.aws.ecr.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [{ imageTag: "2026-01-01" }] }));
      await destroyLeavesNothing(lane);
    },
    DEPLOY_TIMEOUT,
  );

  it(
    "GIVEN an image in the flows repository and ecr_force_delete = true WHEN destroying THEN the repository goes with its image, and nothing of the stack is left",
    async () => {
      await deployWithAnImage({ ...VALUES, ecr_force_delete: true });
      await destroyLeavesNothing(lane);
    },
    DEPLOY_TIMEOUT,
  );

  it("GIVEN both scenarios THEN the emulator was never asked for an operation it does not implement", () => {
    expect([...lane.emulator.notImplemented]).toEqual([]);
  });
});
