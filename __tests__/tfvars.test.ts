import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSettings, SETTING_KEYS, SettingsError } from "../src/settings";
import { readTfvars } from "../src/settings/tfvars";

const dir = mkdtempSync(join(tmpdir(), "tfvars-"));
const fileWith = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as SettingsError;
  }
  throw new Error("expected a SettingsError");
};

describe("reading terraform.tfvars", () => {
  it("GIVEN no file THEN all defaults apply", async () => {
    expect(await readTfvars(join(dir, "missing.tfvars"))).toEqual({});
  });

  it("GIVEN HCL with lists, maps and comments THEN values come back typed", async () => {
    const path = fileWith(
      "ok.tfvars",
      '# comment\nworker_cpu = 1024\navailability_zones = ["us-east-1a", "us-east-1b"]\ntags = { Team = "data" }\nenable_ecs_exec = true\n',
    );
    expect(await readTfvars(path)).toEqual({
      worker_cpu: 1024,
      availability_zones: ["us-east-1a", "us-east-1b"],
      tags: { Team: "data" },
      enable_ecs_exec: true,
    });
  });

  it("GIVEN malformed HCL THEN the error names the file and the line", async () => {
    const path = fileWith("bad.tfvars", 'environment = "dev"\nworker_cpu = \n');
    const error = await errorOf(readTfvars(path));
    expect(error.message).toMatch(/bad.tfvars has a problem:\n {2}- is not valid HCL: line 2, column \d+: Invalid expression/);
  });

  it("GIVEN an interpolation THEN it is refused: tfvars values must be literal", async () => {
    const path = fileWith("expr.tfvars", 'environment = "${var.x}"\n');
    expect((await errorOf(readTfvars(path))).problems[0]).toMatch(/environment uses an expression/);
  });
});

describe("terraform.tfvars.example", () => {
  const example = readFileSync(join(__dirname, "..", "terraform.tfvars.example"), "utf8");
  const reference = readFileSync(join(__dirname, "..", "docs", "settings.md"), "utf8");

  it("documents every settings key, and the settings reference (docs/settings.md) has a row for each", () => {
    for (const key of SETTING_KEYS) {
      expect(example, `terraform.tfvars.example lacks ${key}`).toMatch(new RegExp(`^#? ?${key}\\s+=`, "m"));
      expect(reference, `docs/settings.md lacks ${key}`).toContain(`| \`${key}\``);
    }
  });

  it("GIVEN the example copied as terraform.tfvars THEN it passes validation as it is (the quick start synthesizes right after)", async () => {
    const values = await readTfvars(fileWith("terraform.tfvars", example));
    expect(Object.keys(values).length).toBeGreaterThanOrEqual(2);
    expect(() => parseSettings(values, "terraform.tfvars")).not.toThrow();
  });

  it("GIVEN the example's Prefect id placeholders uncommented THEN each is refused, naming where the real ids are", async () => {
    const ids = example
      .split("\n")
      .filter((line) => /^# (prefect_account_id|prefect_workspace_id)\s+=/.test(line))
      .map((line) => line.slice(2));
    expect(ids).toHaveLength(2);
    const values = await readTfvars(fileWith("placeholders.tfvars", ids.join("\n")));
    const message = (() => {
      try {
        parseSettings(values, "terraform.tfvars");
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const key of ["prefect_account_id", "prefect_workspace_id"])
      expect(message).toMatch(new RegExp(`${key} = "0{8}-[^"]+" is not valid: it is a placeholder, not an id; copy yours from the workspace URL`));
  });
});

describe("reading .tfvars the way Terraform does", () => {
  it.each([
    ['pass = "admin:pa$${x}"\n', "admin:pa${x}"],
    ['pass = "100%%{ok}"\n', "100%{ok}"],
  ])("GIVEN HCL's escape in %j WHEN read THEN the value is the literal Terraform sees", async (text, expected) => {
    expect((await readTfvars(fileWith("escape.tfvars", text))).pass).toBe(expected);
  });

  it("GIVEN a template directive WHEN read THEN it is refused like an interpolation", async () => {
    await expect(readTfvars(fileWith("directive.tfvars", 'x = "%{ if true }a%{ endif }"\n'))).rejects.toThrow(
      /x uses an expression, interpolation or directive/,
    );
  });

  it("GIVEN terraform.tfvars as a link to a missing file WHEN read THEN it is refused instead of read as all defaults", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-link-"));
    symlinkSync(join(dir, "nowhere.tfvars"), join(dir, "terraform.tfvars"));
    await expect(readTfvars(join(dir, "terraform.tfvars"))).rejects.toThrow(/is a link to a file that does not exist/);
  });
});
