import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AWS_PROVIDER_VERSION, ensureAwsProvider, makeTooling, MIRROR_INSTRUCTION } from "./support/terraform";

const scratch = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe("Terraform providers for the tests, with or without a mirror", () => {
  it("GIVEN no mirror THEN providers come from the registry through one shared plugin cache", () => {
    const cache = scratch("prefect-ecs-plugin-cache-");
    const tooling = makeTooling({ ...process.env, PREFECT_ECS_PROVIDER_MIRROR: "none", TF_PLUGIN_CACHE_DIR: cache });
    expect(tooling.mirrorRoot).toBeUndefined();
    expect(readFileSync(tooling.env.TF_CLI_CONFIG_FILE!, "utf8")).toBe(`plugin_cache_dir = ${JSON.stringify(cache)}\n`);
    // The tests' directories have no lock file; without this Terraform would download again for each.
    expect(tooling.env.TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE).toBe("1");
  });

  it("GIVEN no mirror and a registry that cannot be reached THEN it stops with the one-line mirror instruction", () => {
    // Stand-in for a machine without network: every HTTPS request goes to a closed local port.
    const tooling = makeTooling({
      ...process.env,
      PREFECT_ECS_PROVIDER_MIRROR: "none",
      HTTPS_PROXY: "http://127.0.0.1:9",
      TF_PLUGIN_CACHE_DIR: scratch("prefect-ecs-plugin-cache-"),
    });
    expect(() => ensureAwsProvider(tooling)).toThrow(MIRROR_INSTRUCTION);
    expect(MIRROR_INSTRUCTION).not.toContain("\n");
    expect(MIRROR_INSTRUCTION).toMatch(/providers mirror .*PREFECT_ECS_PROVIDER_MIRROR/);
  });

  it("GIVEN PREFECT_ECS_PROVIDER_MIRROR naming a folder without hashicorp/aws THEN it says so, with the instruction", () => {
    const empty = scratch("prefect-ecs-empty-mirror-");
    expect(() => makeTooling({ ...process.env, PREFECT_ECS_PROVIDER_MIRROR: empty })).toThrow(
      `PREFECT_ECS_PROVIDER_MIRROR=${empty} holds no registry.terraform.io/hashicorp/aws/${AWS_PROVIDER_VERSION}; ${MIRROR_INSTRUCTION}`,
    );
  });

  it("GIVEN PREFECT_ECS_PROVIDER_MIRROR naming a mirror THEN the CLI configuration installs from it alone", () => {
    // Deeper than the machine-wide search looks (4 levels), so no other test run takes it for the real mirror.
    const mirror = join(scratch("prefect-ecs-mirror-"), "deeper", "mirror");
    mkdirSync(join(mirror, "registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER_VERSION), { recursive: true });
    const tooling = makeTooling({ ...process.env, PREFECT_ECS_PROVIDER_MIRROR: mirror });
    expect(tooling.mirrorRoot).toBe(mirror);
    expect(readFileSync(tooling.env.TF_CLI_CONFIG_FILE!, "utf8")).toBe(
      `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n`,
    );
  });
});
