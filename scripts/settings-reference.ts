import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "../src/cli";
import { settingsReference } from "../src/settings/reference";

const ROOT = join(__dirname, "..");

/** docs/settings.md as the generator writes it, from the schema's source and terraform.tfvars.example. */
export function currentSettingsReference(root = ROOT): string {
  return settingsReference(
    readFileSync(join(root, "src", "settings", "schema.ts"), "utf8"),
    readFileSync(join(root, "terraform.tfvars.example"), "utf8"),
  );
}

if (require.main === module) {
  runScript({
    usage: "npm run docs:settings",
    description: "Writes docs/settings.md, the settings reference, from the zod schema (src/settings/schema.ts) and terraform.tfvars.example.",
    run: async () => {
      writeFileSync(join(ROOT, "docs", "settings.md"), currentSettingsReference());
      console.log("wrote docs/settings.md");
    },
  });
}
