import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MUTATIONS } from "../scripts/mutations";

const ROOT = join(__dirname, "..");

describe("npm run mutate's list of planted bugs", () => {
  it.each(MUTATIONS.map((m) => [m.behaviour, m] as const))("%s: the code it mutates is still there, exactly once", (_, mutation) => {
    const text = readFileSync(join(ROOT, mutation.file), "utf8");
    expect(text.split(mutation.find).length - 1).toBe(1);
    expect(mutation.replace).not.toBe(mutation.find);
  });

  it("names each bug once and only test files that exist", () => {
    expect(new Set(MUTATIONS.map((m) => m.behaviour)).size).toBe(MUTATIONS.length);
    for (const file of MUTATIONS.flatMap((m) => m.tests)) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});
