import { Construct } from "constructs";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { flowsLifecycleRules } from "../flows/images";
import { stackOutput } from "../stacks/outputs";

export interface RegistryProps {
  readonly namePrefix: string;
  /** IMMUTABLE stops a tag from being pushed twice (ECR.2); MUTABLE allows moving tags like `latest`. */
  readonly imageTagMutability: "IMMUTABLE" | "MUTABLE";
  /** Images kept in the worker repository; older ones expire. */
  readonly keepImageCount: number;
  /** Commit-tagged images kept in the flows repository; registered deployments name these, so only older ones expire. */
  readonly keepFlowImageCount: number;
  /** Untagged images (left behind by re-pushed tags or failed builds) expire after this many days. */
  readonly untaggedExpireDays: number;
  /** Lets `cdktf destroy` delete repositories that still hold images. */
  readonly forceDelete: boolean;
}

/** ECR repositories: one for a custom worker image, one for flow-run images. */
export class Registry extends Construct {
  readonly workerRepository: EcrRepository;
  readonly flowsRepository: EcrRepository;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const repository = (name: string, purpose: string, rules: object[]) => {
      const repo = new EcrRepository(this, `${name}_repository`, {
        name: `${props.namePrefix}/${name}`,
        imageTagMutability: props.imageTagMutability,
        imageScanningConfiguration: { scanOnPush: true },
        // AES256 is ECR's own at-rest encryption; a customer-managed KMS key adds cost without an FSBP control behind it.
        encryptionConfiguration: [{ encryptionType: "AES256" }],
        forceDelete: props.forceDelete,
        tags: { Purpose: purpose },
      });
      new EcrLifecyclePolicy(this, `${name}_lifecycle_policy`, {
        repository: repo.name,
        policy: JSON.stringify({ rules }),
      });
      return repo;
    };
    this.workerRepository = repository("worker", "Prefect worker image", [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${props.untaggedExpireDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: props.untaggedExpireDays },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the last ${props.keepImageCount} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: props.keepImageCount },
        action: { type: "expire" },
      },
    ]);
    this.flowsRepository = repository("flows", "Prefect flow-run images", flowsLifecycleRules(props.keepFlowImageCount, props.untaggedExpireDays));
    stackOutput(this, "worker_repository_url", this.workerRepository.repositoryUrl, "ECR repository for a custom worker image");
    stackOutput(this, "flows_repository_url", this.flowsRepository.repositoryUrl, "ECR repository for flow-run images");
  }
}
