import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { groupMembers, isAlive } from "../../src/sandbox/processes";
import { copyProject } from "../support/project";
import { terraformTooling } from "../support/terraform";

/**
 * `npm run sandbox`, end to end as a newcomer runs it in a fresh copy of the project: moto, the real Prefect server
 * and worker, the real Terraform provider. Then `status`, a refused second sandbox, and `down`, after which no
 * process it started runs, its ports are closed and its folder is gone.
 */
const ROOT = join(__dirname, "..", "..");
const project = copyProject(ROOT, "prefect-ecs-sandbox-");

function npm(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The machine's provider mirror when it has one (no registry here); users' machines take the registry.
  const mirror = terraformTooling().mirrorRoot;
  if (mirror) env.PREFECT_ECS_PROVIDER_MIRROR = mirror;
  delete env.TF_CLI_CONFIG_FILE;
  for (const name of ["PREFECT_API_URL", "PREFECT_API_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"]) delete env[name];
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "sandbox", "--", ...args], { cwd: project, env });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The TCP addresses the processes of these groups listen on, from /proc: each member's socket inodes, matched with
 * /proc/net/tcp and tcp6 rows in state 0A (LISTEN). Addresses are shown as the kernel writes them (hex).
 */
function listening(groups: number[]): { pid: number; address: string }[] {
  const rows = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === "0A")
      .map((fields) => ({ address: fields[1], inode: fields[9] })),
  );
  return groups.flatMap(groupMembers).flatMap((pid) => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
    const inodes = new Set(
      fds.flatMap((fd) => {
        try {
          return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ""];
        } catch {
          return [];
        }
      }),
    );
    return rows.filter((row) => inodes.has(row.inode)).map((row) => ({ pid, address: row.address }));
  });
}
/** 127.0.0.0/8 in /proc/net/tcp's little-endian hex, or ::1 (and ::ffff:127.x) in tcp6's. */
const LOOPBACK = /^([0-9A-F]{6}7F|0{24}01000000|0{16}FFFF0000[0-9A-F]{6}7F):/;

let recorded: { name: string; pid: number }[] = [];
let ports: number[] = [];
afterAll(async () => {
  // Whatever a failed test left: down is the cleanup it documents.
  if (existsSync(join(project, ".sandbox"))) await npm(["down"], 300_000);
  rmSync(project, { recursive: true, force: true });
});

describe("npm run sandbox", () => {
  it("GIVEN a fresh copy of the project THEN it applies the stack to the emulator, the worker submits a flow run to ECS there, and the status is green", async () => {
    const up = await npm([], 600_000);
    expect(up.code, up.output).toBe(0);
    expect(up.output).toMatch(/✓ stack applied to the emulator at http:\/\/127\.0\.0\.1:\d+ \(\d+ resources\)/);
    expect(up.output).toMatch(/✓ work pool sandbox-prefect-ecs created by the stack's (null_resource|own pool command)/);
    expect(up.output).toContain("✓ the worker submitted it to ECS in the emulator");
    expect(up.output).toMatch(/cluster: +arn:aws:ecs:us-east-1:\d{12}:cluster\/prefect-ecs-sandbox/);
    expect(up.output).toMatch(/security groups: +sg-[0-9a-f]+ \(public IP DISABLED\)/);
    expect(up.output).toMatch(/execution role: +arn:aws:iam::\d{12}:role\/prefect-ecs-sandbox-flow-run-execution/);
    expect(up.output).toContain("log group:       /ecs/prefect-ecs-sandbox/flow-runs");
    expect(up.output).toContain("The emulator runs no containers");
    expect(up.output).toContain("OK: the worker runs and polls its pool");
    const state = JSON.parse(readFileSync(join(project, ".sandbox", "state.json"), "utf8"));
    recorded = state.processes;
    expect(recorded.map((p) => p.name)).toEqual(expect.arrayContaining(["moto", "prefect server", "ecs proxy", "prefect worker"]));
    ports = [state.endpoint, state.prefectApiUrl, state.proxyEndpoint].map((url: string) => Number(new URL(url).port));
    for (const url of [state.endpoint, state.prefectApiUrl, state.proxyEndpoint]) expect(new URL(url).hostname).toBe("127.0.0.1");
    // Every socket any of its processes listens on is a loopback one (the worker's health server included).
    const sockets = listening(recorded.map((p) => p.pid));
    expect(sockets.length).toBeGreaterThanOrEqual(4);
    expect(sockets.filter((s) => !LOOPBACK.test(s.address))).toEqual([]);
  });

  it("GIVEN it runs THEN status is green again, and a second sandbox is refused", async () => {
    const status = await npm(["status"], 120_000);
    expect(status.code, status.output).toBe(0);
    expect(status.output).toContain("Work pool sandbox-prefect-ecs: READY");
    const second = await npm([], 120_000);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain("a sandbox is already running");
  });

  it("GIVEN down THEN the stack is destroyed in the emulator, every process it started is stopped, its ports closed and .sandbox/ removed", async () => {
    const down = await npm(["down"], 300_000);
    expect(down.code, down.output).toBe(0);
    expect(down.output).toContain("✓ stack prefect-ecs-sandbox destroyed in the emulator");
    for (const started of recorded) {
      expect(isAlive(started.pid), started.name).toBe(false);
      expect(groupMembers(started.pid), started.name).toEqual([]);
    }
    for (const port of ports) await expect(fetch(`http://127.0.0.1:${port}/`), String(port)).rejects.toThrow();
    expect(existsSync(join(project, ".sandbox"))).toBe(false);
  });
});
