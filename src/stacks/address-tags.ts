import { Aspects, type IAspect, TerraformResource, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { ADDRESS_TAG, STACK_TAG } from "../naming";

/** AWS's longest tag value (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html). */
const MAX_TAG_VALUE = 256;

/** The Terraform address of a resource in a stack's root module: `aws_vpc.network_vpc`. */
export const resourceAddress = (resource: TerraformResource): string => `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;

/** Whether a generated provider class has a `tags` map (not every resource type can carry tags). */
function hasTagsMap(
  resource: TerraformResource,
): resource is TerraformResource & { tags: Record<string, string>; tagsInput?: Record<string, string> } {
  for (let proto: object | null = Object.getPrototypeOf(resource); proto; proto = Object.getPrototypeOf(proto)) {
    const setter = Object.getOwnPropertyDescriptor(proto, "tags")?.set;
    if (setter) return true;
  }
  return false;
}

/**
 * Tags every taggable resource with its stack and Terraform address, beside the provider's default tags, so a
 * resource an interrupted apply created but never recorded in the state is found by what it is, never guessed
 * at by name (npm run deploy adopts it; src/recovery/). Resources that cannot carry tags are found by name.
 */
export class AddressTags implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !hasTagsMap(node)) return;
    const address = resourceAddress(node);
    if (address.length > MAX_TAG_VALUE) throw new Error(`${address} is longer than a tag value may be (${MAX_TAG_VALUE}); shorten its construct ids`);
    node.tags = { ...node.tagsInput, [STACK_TAG]: TerraformStack.of(node).node.id, [ADDRESS_TAG]: address };
  }
}

/** Adds AddressTags to a stack. */
export const tagAddresses = (stack: TerraformStack): void => Aspects.of(stack).add(new AddressTags());
