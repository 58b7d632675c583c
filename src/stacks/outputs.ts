import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";

/**
 * A stack output named `name` in Terraform, declared beside the construct it describes. Construct ids share a
 * namespace with the stack's variables (one per setting) and Terraform's outputs do not, so the id is set here.
 */
export function stackOutput(scope: Construct, name: string, value: unknown, description: string): TerraformOutput {
  const output = new TerraformOutput(scope, `output_${name}`, { value, description });
  output.overrideLogicalId(name);
  return output;
}
