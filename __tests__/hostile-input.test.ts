import { describe, expect, it } from "vitest";
import { parseSettings, SECRET_KEYS, SETTING_KEYS } from "../src/settings";
import { missingPlanTimeValues } from "../src/settings/plan-time";
import { redactUrl } from "../src/settings/service-rules";
import { settingsProblems, VARIANTS } from "./support/synth";

/** Control characters an attacker or a careless paste brings: ESC (terminal sequences), newline, tab, NUL, DEL, C1 CSI. */
const CONTROLS = ["\u001b[31m", "\n", "\t", "\u0000", "\u007f", "\u009b"];

describe("control characters in settings", () => {
  it.each(SETTING_KEYS.filter((key) => !SECRET_KEYS.includes(key)))(
    "GIVEN one in %s (a string, a list item, a map key or value) THEN it is refused without echoing it",
    (key) => {
      for (const control of CONTROLS) {
        for (const value of [`https://prefect.example.com/api${control}`, [`a${control}`], { Team: `a${control}` }, { [`a${control}`]: "b" }]) {
          const problems = settingsProblems({ [key]: value });
          expect(problems, JSON.stringify(value)).toContain(`${key} holds a control character (such as a newline, a tab or ESC)`);
          // One problem line, and none of the value: a message's own newlines separate lines, nothing else does.
          expect(problems.split("\n")).toHaveLength(2);
          expect(problems.replace(/\n {2}- /g, "")).not.toContain(control);
        }
      }
    },
  );
});

describe("credentials pasted with a newline or spaces", () => {
  it.each([
    ["prefect_api_key", {}],
    ["prefect_api_auth_string", VARIANTS.self_hosted],
  ] as const)(
    "GIVEN %s ending in a newline in terraform.tfvars (a heredoc) THEN it is refused, hidden, before the secret keeps it",
    (key, variant) => {
      for (const value of ["pnu_abc\n", " pnu_abc", "pnu_abc "]) {
        const problems = settingsProblems({ ...variant, [key]: value });
        expect(problems).toContain(
          `${key} = (hidden) is not valid: it starts or ends with a space or a newline (a heredoc or a copied line?); remove it`,
        );
        expect(problems).not.toContain("pnu_abc");
      }
    },
  );

  it("GIVEN a key with a trailing newline in TF_VAR_prefect_api_key THEN npm run deploy's check refuses it, hidden", () => {
    const ids = {
      TF_VAR_prefect_account_id: "0b5c1a2e-1111-4222-8333-944455556666",
      TF_VAR_prefect_workspace_id: "1b5c1a2e-1111-4222-8333-944455556666",
    };
    const problems = missingPlanTimeValues(parseSettings({}), { ...ids, TF_VAR_prefect_api_key: "pnu_abc\n" }, "terraform.tfvars");
    expect(problems).toEqual([
      "prefect_api_key (in TF_VAR_prefect_api_key) is not valid: it starts or ends with a space or a newline (a heredoc or a copied line?); remove it",
    ]);
  });
});

describe("URLs in messages", () => {
  it.each([
    ["https://prefect.example.com/api?token=s3cret", "https://prefect.example.com/api?***"],
    ["https://prefect.example.com/api#s3cret", "https://prefect.example.com/api#***"],
    ["https://admin:s3cret@prefect.example.com/api?token=s3cret", "https://***@prefect.example.com/api?***"],
    ["https://prefect.example.com/api?next=a@b", "https://prefect.example.com/api?***"],
    ["https://prefect.example.com/api", "https://prefect.example.com/api"],
  ])("GIVEN %s THEN a message shows %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it("GIVEN a refused URL with a token in its query THEN the message masks the query", () => {
    const problems = settingsProblems({ prefect_api_url: "https://prefect.example.com/api?token=s3cret" });
    expect(problems).toContain('prefect_api_url = "https://prefect.example.com/api?***" is not valid');
    expect(problems).not.toContain("s3cret");
  });
});

describe("database values RDS refuses at apply, refused at synth", () => {
  const server = { prefect_server: true };

  it.each([
    [20, 21, "use 22 or more, or 20 to turn autoscaling off"],
    [100, 109, "use 110 or more, or 100 to turn autoscaling off"],
  ])("GIVEN %i GiB allocated and a %i GiB maximum THEN it is refused: RDS wants the maximum at least 10 %% above", (storage, max, fix) => {
    const problems = settingsProblems({ ...server, prefect_server_db_storage_gb: storage, prefect_server_db_max_storage_gb: max });
    expect(problems).toContain("which RDS refuses for storage autoscaling");
    expect(problems).toContain(fix);
  });

  it.each([
    [20, 20],
    [20, 22],
    [100, 110],
  ])("GIVEN %i GiB allocated and a %i GiB maximum THEN it is accepted (equal turns autoscaling off)", (storage, max) => {
    expect(settingsProblems({ ...server, prefect_server_db_storage_gb: storage, prefect_server_db_max_storage_gb: max })).toBe("");
  });

  // RDS DBSnapshotIdentifier: letters, digits and hyphens, starting with a letter, no "--", no trailing "-".
  it.each(["a--b", "snap-", "rds:snap-", "rds:a--b", "1snap", "arn:aws:rds:us-east-1:123456789012:snapshot:a--b", `a${"b".repeat(255)}`])(
    "GIVEN the restore snapshot %s THEN it is refused with RDS's identifier rule",
    (snapshot) => {
      expect(settingsProblems({ ...server, prefect_server_db_restore_snapshot: snapshot })).toContain(
        "single hyphens, starting with a letter and not ending with a hyphen",
      );
    },
  );

  it.each([
    "prefect-ecs-dev-prefect-final",
    "rds:prefect-ecs-dev-prefect-2026-11-23-05-10",
    "a",
    "arn:aws:rds:us-east-1:123456789012:snapshot:rds:a-b-1",
  ])("GIVEN the restore snapshot %s THEN it is accepted", (snapshot) => {
    expect(settingsProblems({ ...server, prefect_server_db_restore_snapshot: snapshot })).toBe("");
  });
});
