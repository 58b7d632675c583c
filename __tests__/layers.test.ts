import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(__dirname, "..", "src");

/**
 * src/ from the bottom up: pure rules and helpers, then settings, then what reads settings without building
 * anything (flow commands, plan and cost review); above them the constructs by AWS area, the features and the
 * stacks. Each of these lower layers imports only from itself and the layers listed for it.
 */
const LOWER_LAYERS: Readonly<Record<string, readonly string[]>> = {
  rules: [],
  naming: [],
  versions: [],
  literal: [],
  markdown: [],
  settings: ["rules", "naming", "versions", "markdown"],
  flows: ["settings", "rules", "naming", "versions", "literal"],
  review: ["settings", "naming", "markdown"],
};

/** The entry of src/ (a folder, or a file without its extension) each relative import of a file lands in. */
function importedAreas(file: string): string[] {
  const specifiers = [...readFileSync(file, "utf8").matchAll(/(?:from |import\()"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((specifier) => relative(SRC, join(dirname(file), specifier)).split("/")[0]);
}

function filesOf(area: string): string[] {
  if (existsSync(join(SRC, `${area}.ts`))) return [join(SRC, `${area}.ts`)];
  return readdirSync(join(SRC, area), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(SRC, area, name));
}

describe("the layers of src/", () => {
  it.each(Object.entries(LOWER_LAYERS))("GIVEN %s THEN it imports nothing from a layer above it", (area, allowed) => {
    const upward = filesOf(area).flatMap((file) =>
      importedAreas(file)
        .filter((target) => target !== area && !allowed.includes(target))
        .map((target) => `${relative(SRC, file)} imports from ${target}`),
    );
    expect(upward).toEqual([]);
  });
});
