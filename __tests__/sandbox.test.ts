import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { interpreterOf, missingPrerequisites, MOTO_HINT, PREFECT_HINT, TERRAFORM_HINT } from "../src/sandbox/prerequisites";
import { groupMembers, isAlive } from "../src/sandbox/processes";
import { SANDBOX_DIR, sandboxDeployment, sandboxDown, sandboxUp } from "../src/sandbox/sandbox";
import { PREFECT_AWS_VERSION, PREFECT_VERSION } from "../src/versions";

/**
 * npm run sandbox, the parts that need no emulator or Prefect: its prerequisite lines, its settings, the refusal of a
 * second sandbox, and `down` stopping what a sandbox recorded. The real-Prefect tier runs it end to end.
 */
const shPath = (...tools: string[]) => {
  // A bin/ with only the named tools of this machine (and stand-ins written below), so each can be left out.
  const bin = mkdtempSync(join(tmpdir(), "prefect-ecs-sandbox-bin-"));
  for (const tool of tools) {
    const found = spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  return bin;
};

function standIn(bin: string, name: string, script: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, name), 0o755);
}

describe("the sandbox's prerequisites", () => {
  it("GIVEN none of Terraform, Prefect and moto THEN each is one line saying how to get it", () => {
    const bin = shPath();
    expect(missingPrerequisites({ path: bin })).toEqual([
      `${TERRAFORM_HINT} (no terraform on PATH)`,
      `${PREFECT_HINT} (no prefect on PATH)`,
      MOTO_HINT,
    ]);
    expect(PREFECT_HINT).toContain(`pip install 'prefect==${PREFECT_VERSION}' 'prefect-aws==${PREFECT_AWS_VERSION}'`);
    expect(MOTO_HINT).toContain('pip install "moto[server]==5.2.1"');
  });

  it("GIVEN an endpoint of the user's THEN moto is not needed", () => {
    expect(missingPrerequisites({ path: shPath(), endpoint: "http://127.0.0.1:4566" })).not.toContain(MOTO_HINT);
  });

  it("GIVEN Terraform older than 1.11 THEN it names the version found", () => {
    const bin = shPath();
    standIn(bin, "terraform", `echo '{"terraform_version": "1.9.8"}'`);
    expect(missingPrerequisites({ path: bin })[0]).toBe(`${TERRAFORM_HINT} (found 1.9.8)`);
    standIn(bin, "terraform", `echo '{"terraform_version": "1.11.4"}'`);
    expect(missingPrerequisites({ path: bin })[0]).not.toContain("Terraform");
  });

  it("GIVEN another Prefect on PATH THEN it names what it found", () => {
    const bin = shPath();
    standIn(bin, "prefect", "exit 0");
    standIn(bin, "prefect-python", `printf '3.6.28\\n0.7.7\\n'`);
    expect(missingPrerequisites({ path: bin })).toContain(`${PREFECT_HINT} (found prefect 3.6.28 with prefect-aws 0.7.7 at ${join(bin, "prefect")})`);
  });
});

describe("the sandbox's settings", () => {
  it("GIVEN the local server's port THEN the stack is a sandbox environment whose worker calls the server on 127.0.0.1", () => {
    const { settings } = sandboxDeployment(43123);
    expect(settings.environment).toBe("sandbox");
    expect(settings.name_prefix).toBe("prefect-ecs-sandbox");
    expect(settings.prefect_api_url).toBe("http://127.0.0.1:43123/api");
    expect(settings.prefect_target).toBe("self_hosted");
    // Deletable at once: a sandbox leaves nothing scheduled for deletion behind.
    expect(settings.ecr_force_delete).toBe(true);
    expect(settings.secret_recovery_window_days).toBe(0);
  });
});

describe("one sandbox at a time, and down", () => {
  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-sandbox-project-"));
    mkdirSync(join(dir, SANDBOX_DIR));
    return dir;
  };
  const state = (dir: string, processes: { name: string; pid: number; log: string }[]) =>
    writeFileSync(join(dir, SANDBOX_DIR, "state.json"), JSON.stringify({ startedAt: "2026-12-07T04:00:00.000Z", processes }));

  it("GIVEN a running sandbox THEN a second one is refused, naming what runs and how to stop it", async () => {
    const dir = project();
    state(dir, [{ name: "moto", pid: process.pid, log: "x" }]);
    await expect(sandboxUp(dir, { log: () => {} })).rejects.toThrow(
      "a sandbox is already running (started 2026-12-07T04:00:00.000Z; moto); stop it first with: npm run sandbox -- down",
    );
  });

  it("GIVEN a sandbox that stopped half-way THEN up says to clean it with down", async () => {
    const dir = project();
    state(dir, [{ name: "moto", pid: 2 ** 22 + 1, log: "x" }]);
    await expect(sandboxUp(dir, { log: () => {} })).rejects.toThrow("did not finish and left .sandbox/; clean it up with: npm run sandbox -- down");
  });

  it("GIVEN recorded processes THEN down stops each by its process group and removes .sandbox/", async () => {
    const dir = project();
    // A process that starts a child of its own: the group is stopped, the child with it.
    const child = spawn("/bin/sh", ["-c", "sleep 600 & wait"], { detached: true, stdio: "ignore" });
    child.unref();
    // Running members of the group (zombies, which hold nothing, left aside): the shell and its sleep.
    const members = () => groupMembers(child.pid!);
    await new Promise((r) => setTimeout(r, 200));
    expect(members()).toHaveLength(2);
    state(dir, [{ name: "a shell", pid: child.pid!, log: "x" }]);
    const lines: string[] = [];
    await sandboxDown(dir, (line) => lines.push(line));
    expect(isAlive(child.pid!)).toBe(false);
    expect(members()).toEqual([]);
    expect(existsSync(join(dir, SANDBOX_DIR))).toBe(false);
    expect(lines.at(-1)).toBe("Sandbox removed (.sandbox/).");
  });

  it("GIVEN no sandbox THEN down says so and leaves nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-sandbox-project-"));
    const lines: string[] = [];
    await sandboxDown(dir, (line) => lines.push(line));
    expect(lines).toEqual(["No sandbox is running here."]);
  });
});

describe("the Python behind a prefect launcher", () => {
  it.each([
    ["#!/opt/venv/bin/python3\nimport sys\n", ["/opt/venv/bin/python3"]],
    ["#!/usr/bin/env python3\nimport sys\n", ["python3"]],
    // pip's launcher for an interpreter path with spaces (or over 127 bytes).
    [`#!/bin/sh\n'''exec' "/Users/Jane Doe/venv/bin/python3" "$0" "$@"\n' '''\n`, ["/Users/Jane Doe/venv/bin/python3"]],
    ["#!/usr/bin/env bash\nexec python3 -m prefect\n", ["python3"]],
  ])("GIVEN %j THEN it is %j", (script, python) => {
    expect(interpreterOf(script)).toEqual(python);
  });
});
