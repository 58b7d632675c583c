import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ago, gatherStatus, prefectTarget, renderStatus } from "../src/operations/status";
import { parseSettings } from "../src/settings";

const settingsOf = (values: Record<string, unknown>) => parseSettings(values).settings;
const ACCOUNT = "0b5c1a2e-1111-4222-8333-944455556666";
const WORKSPACE = "0b5c1a2e-1111-4222-8333-944455556667";

describe("npm run status: where Prefect is and how it authenticates", () => {
  it("GIVEN Prefect Cloud ids and a key in the environment THEN it calls the workspace's API with a bearer token", () => {
    const { target } = prefectTarget(settingsOf({}), {
      TF_VAR_prefect_account_id: ACCOUNT,
      TF_VAR_prefect_workspace_id: WORKSPACE,
      PREFECT_API_KEY: "pnu_k",
    });
    expect(target).toEqual({ apiUrl: `https://api.prefect.cloud/api/accounts/${ACCOUNT}/workspaces/${WORKSPACE}`, authorization: "Bearer pnu_k" });
  });

  it("GIVEN a self-hosted server with an auth string THEN it uses HTTP basic auth, as Prefect's client does", () => {
    const settings = settingsOf({ prefect_api_url: "https://prefect.example.com/api", self_hosted_auth: "auth_string" });
    const { target } = prefectTarget(settings, { TF_VAR_prefect_api_auth_string: "admin:s3cret" });
    expect(target).toEqual({ apiUrl: "https://prefect.example.com/api", authorization: `Basic ${Buffer.from("admin:s3cret").toString("base64")}` });
  });

  it("GIVEN PREFECT_API_URL THEN it replaces the stack's URL (e.g. an SSM tunnel to a private server)", () => {
    const { target } = prefectTarget(settingsOf({ prefect_api_url: "http://prefect.internal:4200/api" }), {
      PREFECT_API_URL: "http://127.0.0.1:4200/api/",
    });
    expect(target?.apiUrl).toBe("http://127.0.0.1:4200/api");
  });

  it("GIVEN the in-stack server THEN it asks for a port forward, and through one it sends no Prefect Cloud key", () => {
    const settings = settingsOf({ prefect_server: true, availability_zones: ["us-east-1a", "us-east-1b"] });
    expect(prefectTarget(settings, { PREFECT_API_KEY: "pnu_k" }).missing).toContain("the in-stack server is private; open a port forward");
    expect(prefectTarget(settings, { PREFECT_API_URL: "http://localhost:4200/api", PREFECT_API_KEY: "pnu_k" }).target).toEqual({
      apiUrl: "http://localhost:4200/api",
      authorization: undefined,
    });
  });

  it("GIVEN Prefect Cloud without ids THEN it says which variables to set", () => {
    expect(prefectTarget(settingsOf({}), {}).missing).toBe(
      "Prefect: no API URL: set TF_VAR_prefect_account_id and TF_VAR_prefect_workspace_id (or PREFECT_API_URL)",
    );
  });
});

describe("npm run status: credentials stay with their server", () => {
  const cloud = { TF_VAR_prefect_account_id: ACCOUNT, TF_VAR_prefect_workspace_id: WORKSPACE, PREFECT_API_KEY: "pnu_cloud" };
  const CLOUD_URL = `https://api.prefect.cloud/api/accounts/${ACCOUNT}/workspaces/${WORKSPACE}`;

  it.each([
    ["a local server left exported (plain HTTP)", "http://localhost:4200/api", "is not this stack's Prefect Cloud workspace"],
    ["another workspace", `https://api.prefect.cloud/api/accounts/${ACCOUNT}/workspaces/${ACCOUNT}`, "is not this stack's Prefect Cloud workspace"],
    ["another server over HTTPS", "https://prefect.example.com/api", "is not this stack's Prefect Cloud workspace"],
  ])("GIVEN a Prefect Cloud stack and PREFECT_API_URL at %s THEN it is reported, and the key is sent nowhere", (_, url, expected) => {
    const result = prefectTarget(settingsOf({}), { ...cloud, PREFECT_API_URL: url });
    expect(result.target).toBeUndefined();
    expect(result.missing).toContain(expected);
    expect(result.missing).not.toContain("pnu_cloud");
  });

  it("GIVEN a Prefect Cloud stack and PREFECT_API_URL at its own workspace THEN the key goes there", () => {
    expect(prefectTarget(settingsOf({}), { ...cloud, PREFECT_API_URL: `${CLOUD_URL}/` }).target).toEqual({
      apiUrl: CLOUD_URL,
      authorization: "Bearer pnu_cloud",
    });
  });

  it.each([
    ["its own URL", "https://prefect.example.com/api", true],
    ["a port forward on loopback", "http://127.0.0.1:4200/api", true],
    ["another public server", "https://other.example.com/api", false],
    ["a private address that is not the stack's server", "http://10.0.0.5:4200/api", false],
  ])(
    "GIVEN a self-hosted stack with an auth string and PREFECT_API_URL at %s THEN the auth string is sent only if it is the stack's server",
    (_, url, sent) => {
      const settings = settingsOf({ prefect_api_url: "https://prefect.example.com/api", self_hosted_auth: "auth_string" });
      const result = prefectTarget(settings, { PREFECT_API_AUTH_STRING: "admin:pw", PREFECT_API_URL: url });
      expect(result.target?.authorization !== undefined).toBe(sent);
      if (!sent)
        expect(result.missing).toContain("is neither this stack's server (https://prefect.example.com/api) nor a port forward on this machine");
    },
  );

  it("GIVEN a self-hosted server without an auth string THEN no credential is sent, even with PREFECT_API_KEY in the shell", () => {
    const { target } = prefectTarget(settingsOf({ prefect_api_url: "https://prefect.example.com/api" }), { PREFECT_API_KEY: "pnu_cloud" });
    expect(target).toEqual({ apiUrl: "https://prefect.example.com/api", authorization: undefined });
  });

  it("GIVEN a self-hosted server with an auth string and a Cloud key in the shell THEN only the auth string is sent", () => {
    const settings = settingsOf({ prefect_api_url: "https://prefect.example.com/api", self_hosted_auth: "auth_string" });
    const { target } = prefectTarget(settings, { PREFECT_API_KEY: "pnu_cloud", PREFECT_API_AUTH_STRING: "admin:pw" });
    expect(target?.authorization).toBe(`Basic ${Buffer.from("admin:pw").toString("base64")}`);
  });

  it.each([
    ["https://user:s3cret@prefect.example.com/api", "it holds a user name or password", "s3cret"],
    ["https://prefect.example.com/api?token=t0ken", "a query or fragment", "t0ken"],
    ["http://prefect.example.com/api", "plain HTTP to a public host", undefined],
  ])("GIVEN PREFECT_API_URL = %s THEN it is not used, and no secret is echoed", (url, message, secret) => {
    const { target, missing } = prefectTarget(settingsOf({}), { PREFECT_API_URL: url, PREFECT_API_KEY: "pnu_k" });
    expect(target).toBeUndefined();
    expect(missing).toContain(message);
    if (secret) expect(missing).not.toContain(secret);
  });
});

describe("npm run status: the last line", () => {
  it("GIVEN no problem THEN the last line is OK; GIVEN problems THEN it names the first and counts the rest", () => {
    expect(renderStatus({ lines: ["a"], problems: [] })).toEqual({ text: "a\nOK: the worker runs and polls its pool", ok: true });
    const bad = renderStatus({ lines: ["a"], problems: ["first", "second"] }, ["third"]);
    expect(bad.ok).toBe(false);
    expect(bad.text.split("\n").at(-1)).toBe("NOT OK: first (and 2 more above)");
    expect(bad.text).toContain("  - third");
  });
});

describe("npm run status: the in-stack server", () => {
  it("GIVEN prefect_server and a server service running nothing THEN the server's line and a problem naming its log group appear", async () => {
    const settings = settingsOf({ prefect_server: true, availability_zones: ["us-east-1a", "us-east-1b"] });
    const asked: string[][] = [];
    // Stand-ins for the ECS and CloudWatch clients: only the calls status makes, answered as AWS would.
    const ecs = {
      send: async (command: { input: { services?: string[] } }) => {
        asked.push(command.input.services ?? []);
        return {
          services: [
            {
              serviceName: "prefect-ecs-dev-worker",
              status: "ACTIVE",
              desiredCount: 1,
              runningCount: 1,
              pendingCount: 0,
              deployments: [],
              events: [],
            },
            { serviceName: "prefect-ecs-dev-prefect-server", status: "ACTIVE", desiredCount: 1, runningCount: 0 },
          ],
        };
      },
    };
    const cloudwatch = { send: async () => ({ MetricAlarms: [] }) };
    const report = await gatherStatus(settings, { ecs, cloudwatch } as never);
    expect(asked[0]).toEqual(["prefect-ecs-dev-worker", "prefect-ecs-dev-prefect-server"]);
    expect(report.lines).toContain("Prefect server service prefect-ecs-dev-prefect-server: desired 1, running 0");
    expect(report.problems).toContain("the Prefect server runs no task: read its log group /ecs/prefect-ecs-dev/prefect-server");
    expect(report.problems.join("\n")).not.toContain("worker service runs");
  });
});

describe("npm run status: one side unreachable", () => {
  it("GIVEN AWS unreachable THEN it says so in one line without the error's text, and still checks Prefect", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566 (https://secret-token@example)"), {
      cause: { code: "ECONNREFUSED" },
    });
    const ecs = { send: async () => Promise.reject(refused) };
    // A port that was just free: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const report = await gatherStatus(settingsOf({}), {
      ecs,
      cloudwatch: ecs,
      prefect: { apiUrl: `http://127.0.0.1:${closed}/api`, authorization: undefined },
    } as never);
    expect(report.problems).toEqual([
      "AWS: cannot read the stack (ECONNREFUSED); check the network, AWS_ENDPOINT_URL and the region",
      `Prefect: cannot reach http://127.0.0.1:${closed}/api (ECONNREFUSED)`,
    ]);
    expect(report.problems.join("\n")).not.toContain("secret-token");
  });
});

describe("ages in the status screen", () => {
  it("GIVEN a heartbeat stamped just after the command read its clock THEN it reads 0 s ago, never a negative age", () => {
    // Seen with a real server: the worker's heartbeat landed between the command's clock read and its request.
    const now = new Date("2026-12-07T05:00:00.000Z");
    expect(ago(new Date("2026-12-07T05:00:00.800Z"), now)).toBe("0 s ago");
    expect(ago(new Date("2026-12-07T04:59:49.600Z"), now)).toBe("10 s ago");
    expect(ago(undefined, now)).toBe("never");
  });
});
