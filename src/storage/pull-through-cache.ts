import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { EcrPullThroughCacheRule } from "@cdktf/provider-aws/lib/ecr-pull-through-cache-rule";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { policyDocument } from "../security/iam-policy";

export type PullThroughUpstream = "docker_hub" | "ecr_public";

/**
 * ECR repository prefixes of the cache rules. A rule is per account and region, not per stack, so the prefix
 * is fixed: one stack per account and region turns the cache on, and the others may use its image references.
 */
export const PULL_THROUGH_PREFIX: Readonly<Record<PullThroughUpstream, string>> = { docker_hub: "docker-hub", ecr_public: "ecr-public" };
const UPSTREAM_URL: Readonly<Record<PullThroughUpstream, string>> = { docker_hub: "registry-1.docker.io", ecr_public: "public.ecr.aws" };
/** Secrets Manager name prefix ECR requires for an upstream registry credential. */
export const PULL_THROUGH_SECRET_PREFIX = "ecr-pullthroughcache/";

/**
 * The cached form of an image reference, or the reference unchanged when the cache does not serve its registry.
 * Docker Hub official images (`python:3.12`) live under `library/`.
 */
export function cachedImage(image: string, upstream: PullThroughUpstream, registryHost: string): string {
  const prefix = PULL_THROUGH_PREFIX[upstream];
  const [first, ...rest] = image.split("/");
  const hasRegistry = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (upstream === "ecr_public") return hasRegistry && first === "public.ecr.aws" ? `${registryHost}/${prefix}/${rest.join("/")}` : image;
  if (hasRegistry && !["docker.io", "index.docker.io", "registry-1.docker.io"].includes(first)) return image;
  const path = hasRegistry ? rest : [first, ...rest];
  return `${registryHost}/${prefix}/${path.length === 1 ? `library/${path[0]}` : path.join("/")}`;
}

export interface PullThroughCacheProps {
  readonly upstream: PullThroughUpstream;
  readonly region: string;
  readonly partition: string;
  /** Secrets Manager ARN of the Docker Hub user name and access token (required for Docker Hub). */
  readonly credentialArn?: string;
  /** Execution roles that pull through the cache: the first pull of an image creates its repository. */
  readonly executionRoles: readonly IamRole[];
}

/** An ECR pull-through cache rule, and the rights the execution roles need to fill it on a first pull. */
export class PullThroughCache extends Construct {
  /** `<account>.dkr.ecr.<region>.amazonaws.com` */
  readonly registryHost: string;
  readonly policies: IamRolePolicy[];
  private readonly policy: string;

  constructor(scope: Construct, id: string, props: PullThroughCacheProps) {
    super(scope, id);
    const prefix = PULL_THROUGH_PREFIX[props.upstream];
    new EcrPullThroughCacheRule(this, "rule", {
      ecrRepositoryPrefix: prefix,
      upstreamRegistryUrl: UPSTREAM_URL[props.upstream],
      credentialArn: props.credentialArn,
    });
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    this.registryHost = `${account}.dkr.ecr.${props.region}.amazonaws.com${props.region.startsWith("cn-") ? ".cn" : ""}`;
    this.policy = policyDocument([
      {
        Sid: "FillPullThroughCache",
        Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        Resource: `arn:${props.partition}:ecr:${props.region}:${account}:repository/${prefix}/*`,
      },
    ]);
    this.policies = props.executionRoles.map(
      (role, index) => new IamRolePolicy(this, `policy_${index}`, { name: "pull-through-cache", role: role.name, policy: this.policy }),
    );
  }

  /** Lets one more execution role fill the cache (a role created after this construct). */
  grant(id: string, role: IamRole): IamRolePolicy {
    const policy = new IamRolePolicy(this, `policy_${id}`, { name: "pull-through-cache", role: role.name, policy: this.policy });
    this.policies.push(policy);
    return policy;
  }
}
