import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "../src/cli";
import { settingsReference } from "../src/settings/reference";
import { recoveryTable } from "../src/recovery/catalog";

const ROOT = join(__dirname, "..");

/** docs/settings.md as the generator writes it, from the schema's source and terraform.tfvars.example. */
export function currentSettingsReference(root = ROOT): string {
  return settingsReference(
    readFileSync(join(root, "src", "settings", "schema.ts"), "utf8"),
    readFileSync(join(root, "terraform.tfvars.example"), "utf8"),
  );
}

const TABLE_START = "<!-- recovery table: written by npm run docs:settings from src/recovery/catalog.ts -->";
const TABLE_END = "<!-- end of recovery table -->";

/** docs/operations.md with its recovery table as src/recovery/catalog.ts says. */
export function currentOperationsDoc(root = ROOT): string {
  const doc = readFileSync(join(root, "docs", "operations.md"), "utf8");
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/operations.md has lost its recovery table markers: ${TABLE_START} … ${TABLE_END}`);
  return `${doc.slice(0, start)}${TABLE_START}\n${recoveryTable()}\n${doc.slice(end)}`;
}

if (require.main === module) {
  runScript({
    usage: "npm run docs:settings",
    description:
      "Writes the generated reference: docs/settings.md from the zod schema (src/settings/schema.ts) and terraform.tfvars.example, and the recovery table in docs/operations.md from src/recovery/catalog.ts.",
    run: async () => {
      writeFileSync(join(ROOT, "docs", "settings.md"), currentSettingsReference());
      writeFileSync(join(ROOT, "docs", "operations.md"), currentOperationsDoc());
      console.log("wrote docs/settings.md and the recovery table in docs/operations.md");
    },
  });
}
