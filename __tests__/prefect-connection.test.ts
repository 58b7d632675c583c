import { describe, expect, it } from "vitest";
import { planPrefectConnection } from "../src/settings/prefect-connection";
import { parseSettings } from "../src/settings";

const plan = (values: Record<string, unknown>) => planPrefectConnection(parseSettings(values).settings);
const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/key-AbC123";

describe("the Prefect connection, decided in one place", () => {
  it.each([
    // [case, settings, needs at plan time (account+workspace, key, auth string), store, tasks get, pool command gets]
    ["Cloud, managed secret", {}, [true, true, false], "managed:PREFECT_API_KEY", "PREFECT_API_KEY", "PREFECT_API_KEY"],
    [
      "Cloud, managed secret, pool by hand",
      { manage_work_pool: false },
      [true, true, false],
      "managed:PREFECT_API_KEY",
      "PREFECT_API_KEY",
      undefined,
    ],
    [
      "Cloud, own secret, managed pool",
      { existing_api_key_secret_arn: SECRET },
      [true, true, false],
      "existing:PREFECT_API_KEY",
      "PREFECT_API_KEY",
      "PREFECT_API_KEY",
    ],
    [
      "Cloud, own secret, pool by hand",
      { existing_api_key_secret_arn: SECRET, manage_work_pool: false },
      [true, false, false],
      "existing:PREFECT_API_KEY",
      "PREFECT_API_KEY",
      undefined,
    ],
    ["self-hosted, no auth", { prefect_api_url: "https://p.example.com/api" }, [false, false, false], "none", undefined, undefined],
    [
      "self-hosted, auth string",
      { prefect_api_url: "https://p.example.com/api", self_hosted_auth: "auth_string" },
      [false, false, true],
      "managed:PREFECT_API_AUTH_STRING",
      "PREFECT_API_AUTH_STRING",
      "PREFECT_API_AUTH_STRING",
    ],
  ])("GIVEN %s THEN the credential is required, stored and passed as planned", (_case, values, required, store, task, pool) => {
    const connection = plan(values);
    expect([connection.required.accountAndWorkspace, connection.required.apiKey, connection.required.authString]).toEqual(required);
    expect(connection.store.kind === "none" ? "none" : `${connection.store.kind}:${connection.store.envName}`).toBe(store);
    expect(connection.taskCredential).toBe(task);
    expect(connection.poolCommandCredential?.envName).toBe(pool);
  });

  it.each([
    ["Prefect Cloud", {}, [443]],
    ["a self-hosted server on 443", { prefect_api_url: "https://p.example.com/api" }, [443]],
    ["a self-hosted server on its own port", { prefect_api_url: "http://prefect.internal:4200/api" }, [443, 4200]],
    ["plain HTTP on 80", { prefect_api_url: "http://prefect.internal/api" }, [443, 80]],
  ])("GIVEN %s THEN egress opens 443 (AWS APIs) and the API's port", (_case, values, ports) => {
    expect(plan(values).egressPorts).toEqual(ports);
  });

  it("GIVEN Prefect Cloud THEN the API URL has places for the plan-time account and workspace ids", () => {
    expect(plan({}).apiUrlTemplate).toBe("https://api.prefect.cloud/api/accounts/{account}/workspaces/{workspace}");
  });

  it("GIVEN a managed auth string THEN its secret name does not end in a hyphen and six characters (Secrets Manager's ARN suffix)", () => {
    const { store } = plan({ prefect_api_url: "https://p.example.com/api", self_hosted_auth: "auth_string" });
    expect(store.kind === "managed" && store.secretSuffix).not.toMatch(/-[A-Za-z0-9]{6}$/);
  });
});
