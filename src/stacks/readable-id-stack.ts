import { TerraformElement, TerraformStack } from "cdktf";
import type { Construct, Node } from "constructs";
import { TERRAFORM_REQUIRED_VERSION } from "../versions";
import { tagAddresses } from "./address-tags";

/** A construct path as a Terraform id: `network/vpc` → `network_vpc`. */
export const readableId = (path: readonly string[]): string => path.join("_").replace(/[^A-Za-z0-9_-]/g, "_");

/**
 * What every stack here shares: the Terraform version it needs (TERRAFORM_REQUIRED_VERSION), and its id policy: a Terraform logical id is the element's construct path below the stack,
 * joined with `_` and without hashes, so a plan in a pull request reads like the code and ids survive refactors
 * that keep construct names; and every taggable resource carries its stack and address (AddressTags). Joining can make two paths one id (`flow_run/task_queue`, `flow/run_task_queue`),
 * and Terraform JSON would keep only one of them; such a pair fails synth here, naming both paths.
 */
export abstract class ReadableIdStack extends TerraformStack {
  private readonly idOwners = new Map<string, string>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.addOverride("terraform.required_version", TERRAFORM_REQUIRED_VERSION);
    tagAddresses(this);
  }

  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = element instanceof TerraformElement ? element.node : element;
    const below = node.scopes.slice(node.scopes.indexOf(this) + 1).map((scope) => scope.node.id);
    const id = readableId(below);
    const owner = this.idOwners.get(id);
    if (owner !== undefined && owner !== node.path) {
      throw new Error(`Two constructs would share the Terraform id "${id}": ${owner} and ${node.path}. Rename one of them.`);
    }
    this.idOwners.set(id, node.path);
    return id;
  }
}
