/**
 * Terraform reads `${` and `%{` in every JSON string of cdk.tf.json as template syntax, so a setting that
 * holds them could call a Terraform function. Doubling them (`$${`, `%%{`) makes Terraform print them as-is.
 * cdktf leaves both forms alone; its own `${TfToken[…]}` markers are refused in settings before they get here.
 */
export function literal(text: string): string {
  // Replacement functions: in a replacement string "$$" would itself mean "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
