import { describe, expect, it } from "vitest";
import { ADDRESS_TAG, STACK_TAG } from "../src/naming";
import { parseSettings, SettingsError } from "../src/settings";
import { EVERYTHING_ON, synth, synthState, VARIANTS, valuesFor } from "./support/synth";

/**
 * Resource types the stack emits whose AWS provider schema (5.100.0) has no `tags` argument: policies,
 * attachments, associations, routes and other sub-resources, the ASG (tag blocks, not a map) and null_resource.
 * Written out from the provider's documentation, not computed the way the aspect decides.
 */
const UNTAGGABLE = new Set([
  "aws_appautoscaling_policy",
  "aws_autoscaling_group",
  "aws_cloudwatch_event_target",
  "aws_ecr_lifecycle_policy",
  "aws_ecr_pull_through_cache_rule",
  "aws_ecs_cluster_capacity_providers",
  "aws_efs_file_system_policy",
  "aws_efs_mount_target",
  "aws_iam_role_policy",
  "aws_iam_role_policy_attachment",
  "aws_route",
  "aws_route_table_association",
  "aws_s3_bucket_lifecycle_configuration",
  "aws_s3_bucket_ownership_controls",
  "aws_s3_bucket_policy",
  "aws_s3_bucket_public_access_block",
  "aws_s3_bucket_server_side_encryption_configuration",
  "aws_s3_bucket_versioning",
  "aws_secretsmanager_secret_version",
  "aws_sns_topic_policy",
  "aws_sns_topic_subscription",
  "aws_sqs_queue_policy",
  "null_resource",
]);

describe("every resource can be found by what it is", () => {
  it.each([
    ["the default stack", {}],
    ["every feature on", EVERYTHING_ON],
    ["an existing VPC", VARIANTS.existing_vpc],
  ])("GIVEN %s THEN each taggable resource carries its stack and its own Terraform address", (_, overrides) => {
    const { json } = synth(overrides);
    const seen = new Set<string>();
    for (const [type, byId] of Object.entries(json.resource)) {
      for (const [id, resource] of Object.entries(byId)) {
        if (UNTAGGABLE.has(type)) {
          expect(resource.tags, `${type}.${id}`).toBeUndefined();
          continue;
        }
        expect(resource.tags, `${type}.${id}`).toMatchObject({ [STACK_TAG]: "prefect-ecs-dev", [ADDRESS_TAG]: `${type}.${id}` });
        seen.add(resource.tags[ADDRESS_TAG]);
      }
    }
    // One address per resource: no two resources share the tag that tells orphans apart.
    expect(seen.size).toBe(
      Object.entries(json.resource)
        .filter(([type]) => !UNTAGGABLE.has(type))
        .reduce((n, [, byId]) => n + Object.keys(byId).length, 0),
    );
  });

  it("GIVEN a resource with its own tags THEN the address tags are added beside them, not instead", () => {
    const { json } = synth({});
    expect(json.resource.aws_vpc.network_vpc.tags).toEqual({
      Name: "prefect-ecs-dev",
      [STACK_TAG]: "prefect-ecs-dev",
      [ADDRESS_TAG]: "aws_vpc.network_vpc",
    });
  });

  it("GIVEN the state bootstrap stack THEN its bucket carries the state stack's name and its address", () => {
    const { json } = synthState({ state_bucket: "acme-prefect-ecs-state" });
    const [id, bucket] = Object.entries(json.resource.aws_s3_bucket)[0];
    expect(bucket.tags).toMatchObject({ [STACK_TAG]: "prefect-ecs-state", [ADDRESS_TAG]: `aws_s3_bucket.${id}` });
  });

  it.each([STACK_TAG, ADDRESS_TAG.toUpperCase()])("GIVEN a user tag named %s THEN it is refused as the stack's own", (key) => {
    expect(() => parseSettings(valuesFor({ tags: { [key]: "x" } }), "test")).toThrow(SettingsError);
    expect(() => parseSettings(valuesFor({ tags: { [key]: "x" } }), "test")).toThrow(new RegExp(`is the stack's own ${ADDRESS_TAG.split(":")[0]}`));
  });
});
