/**
 * Flow images: the base they build from and how they are tagged. Provider-free: the flow commands, the
 * registry's lifecycle policy and the tests all read these.
 */
import { PREFECT_IMAGE } from "../versions";

/** The plain Prefect image flows build from, at the worker's Prefect version (client/server skew breaks runs). */
export const FLOW_BASE_IMAGE = PREFECT_IMAGE;

/**
 * Commit tags are `sha-<12 hex>`. The prefix lets the ECR lifecycle policy select exactly these images: a
 * bare hex tag cannot be told apart from other tags with ECR's prefix or wildcard selectors.
 */
export const FLOW_IMAGE_TAG_PREFIX = "sha-";
export const COMMIT_TAG_LENGTH = 12;

export function commitTag(commit: string): string {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) throw new Error(`"${commit}" is not a git commit id`);
  return `${FLOW_IMAGE_TAG_PREFIX}${commit.slice(0, COMMIT_TAG_LENGTH)}`;
}

/** Docker's platform string for an ECS cpuArchitecture. */
export function dockerPlatform(cpuArchitecture: string): "linux/amd64" | "linux/arm64" {
  if (cpuArchitecture === "X86_64") return "linux/amd64";
  if (cpuArchitecture === "ARM64") return "linux/arm64";
  throw new Error(`flow_run_cpu_architecture "${cpuArchitecture}" is not X86_64 or ARM64`);
}

/** The lifecycle rules of the flows repository (see Registry). */
export function flowsLifecycleRules(keepCommitImages: number, untaggedExpireDays: number) {
  return [
    {
      rulePriority: 1,
      description: `Expire untagged images after ${untaggedExpireDays} days`,
      selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedExpireDays },
      action: { type: "expire" },
    },
    {
      // Counts only commit-tagged images, so untagged leftovers never push out an image a deployment names;
      // images with other tags are never expired.
      rulePriority: 2,
      description: `Keep the last ${keepCommitImages} commit-tagged (${FLOW_IMAGE_TAG_PREFIX}…) images`,
      selection: { tagStatus: "tagged", tagPrefixList: [FLOW_IMAGE_TAG_PREFIX], countType: "imageCountMoreThan", countNumber: keepCommitImages },
      action: { type: "expire" },
    },
  ];
}

/**
 * The pool's default image. Deployments registered by `npm run flow-deploy` name their own commit-tagged image,
 * so the default only serves deployments that name none: flow_run_image, else the flows repository at
 * flow_run_image_tag when one is set, else the pinned Prefect image (it exists from the start, unlike any tag of
 * an empty IMMUTABLE repository).
 */
export function flowRunDefaultImage(
  settings: { readonly flow_run_image?: string; readonly flow_run_image_tag?: string },
  flowsRepositoryUrl: string,
): string {
  if (settings.flow_run_image) return settings.flow_run_image;
  if (settings.flow_run_image_tag) return `${flowsRepositoryUrl}:${settings.flow_run_image_tag}`;
  return FLOW_BASE_IMAGE;
}
