import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PREFECT_AWS_VERSION, PREFECT_VERSION, PYTHON_VERSION } from "../src/versions";
import { SECRET_KEYS } from "../src/settings";
import { settingsProblems } from "./support/synth";

const ROOT = join(__dirname, "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const VALIDATOR = join(ROOT, "node_modules", ".bin", "action-validator");
const ACTIONS = join(ROOT, ".github", "actions");
const FILES = [
  ...readdirSync(WORKFLOWS).map((name) => join(WORKFLOWS, name)),
  ...readdirSync(ACTIONS).map((name) => join(ACTIONS, name, "action.yml")),
];
const PINS_FILE = join(ROOT, ".github", "action-pins.json");

const validate = (file: string) => spawnSync(VALIDATOR, [file], { encoding: "utf8" });
const workflow = (name: string) => parse(readFileSync(join(WORKFLOWS, name), "utf8"));
const stepsOf = (job: any): any[] => job.steps;
const uses = (job: any, action: string) => stepsOf(job).find((s) => s.uses?.startsWith(`${action}@`));
const named = (job: any, name: string) => stepsOf(job).find((s) => s.name === name);
const allJobs = () =>
  readdirSync(WORKFLOWS).flatMap((name) => Object.entries<any>(workflow(name).jobs).map(([id, job]) => [`${name}: ${id}`, job] as const));

/** Runs a github-script step's script with stand-ins for its `github`, `context` and `core`. */
async function runScript(script: string, github: any, context: any, env: Record<string, string> = {}) {
  const outputs: Record<string, string> = {};
  const infos: string[] = [];
  const core = {
    setOutput: (k: string, v: string) => (outputs[k] = v),
    info: (m: string) => infos.push(m),
    setFailed: (m: string) => infos.push(`failed: ${m}`),
  };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    await new AsyncFunction("github", "context", "core", "require", "process", script)(github, context, core, require, process);
  } finally {
    for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
    Object.assign(process.env, saved);
  }
  return { outputs, infos };
}

/** A row of .github/action-pins.json: a release of an action, the commit it is pinned to, and its action.yml's `runs.using`. */
interface Pin {
  action: string;
  version: string;
  sha: string;
  runs_using: string;
}
const PINS: Pin[] = JSON.parse(readFileSync(PINS_FILE, "utf8"));

/** A copy of `file` with `edit` applied, in a temporary directory: a broken variant for a check to catch. */
function brokenCopy(file: string, edit: (text: string) => string) {
  const copy = join(mkdtempSync(join(tmpdir(), "wf-")), file.endsWith("action.yml") ? "action.yml" : "broken.yml");
  const text = readFileSync(file, "utf8");
  const edited = edit(text);
  expect(edited, "the edit changed nothing").not.toBe(text);
  writeFileSync(copy, edited);
  return copy;
}

/** The steps of a parsed workflow, by job id, or of a composite action (as one job named after the action). */
const jobSteps = (doc: any): [string, any[]][] =>
  doc.runs
    ? [[doc.name, doc.runs.steps]]
    : Object.entries<any>(doc.jobs).map(([id, job]) => [id, [...(job.uses ? [{ uses: job.uses }] : []), ...(job.steps ?? [])]]);

/** Each `uses:` line of a workflow or composite action: the reference, unquoted, and the rest of the line. */
const usesLines = (text: string) => [...text.matchAll(/^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?(.*)$/gm)].map(([, ref, rest]) => ({ ref, rest }));

/**
 * What is wrong with the `uses:` of a workflow or composite action file: each remote action must be
 * `owner/repo[/path]@<40-hex commit SHA> # vX.Y.Z`, and that action and SHA a row of `pins` with that version.
 */
function pinProblems(file: string, pins: Pin[] = PINS): string[] {
  const text = readFileSync(file, "utf8");
  const lines = usesLines(text);
  const problems: string[] = [];
  // Every `uses:` the YAML holds is on a line of its own the scan sees (none in a flow mapping, none missed).
  const parsed = jobSteps(parse(text)).flatMap(([, steps]) => steps.map((s) => s.uses).filter(Boolean));
  if (
    [...parsed].sort().join() !==
    lines
      .map((l) => l.ref)
      .sort()
      .join()
  )
    problems.push(`uses: lines and parsed uses: differ in ${file}`);
  for (const { ref, rest } of lines) {
    if (ref.startsWith("./")) continue;
    const pin = /^([\w.-]+\/[\w.-]+(?:\/[^@\s]+)?)@([0-9a-f]{40})$/.exec(ref);
    const version = /^\s+#\s*(v\d+\.\d+\.\d+)\s*$/.exec(rest)?.[1];
    if (!pin) problems.push(`${ref}: not pinned to a full commit SHA (owner/repo[/path]@<40 hex digits>)`);
    else if (!version) problems.push(`${ref}: no "# vX.Y.Z" comment naming the release of that commit`);
    else {
      const row = pins.find((p) => p.action === pin[1] && p.sha === pin[2]);
      if (!row) problems.push(`${pin[1]}@${pin[2]} (${version}): not in .github/action-pins.json; add its action, version, sha and runs_using`);
      else if (row.version !== version) problems.push(`${ref}: the comment says ${version}, .github/action-pins.json ${row.version}`);
    }
  }
  return problems;
}

/** What is wrong with rows of .github/action-pins.json: malformed, or an action that runs on Node 20 or older. */
const tableProblems = (pins: Pin[]) =>
  pins.flatMap((p) => {
    const problems: string[] = [];
    if (!/^[0-9a-f]{40}$/.test(p.sha)) problems.push(`${p.action} ${p.version}: sha ${p.sha} is not a full commit SHA`);
    if (!/^v\d+\.\d+\.\d+$/.test(p.version)) problems.push(`${p.action}: version ${p.version} is not vX.Y.Z`);
    const node = /^node(\d+)$/.exec(p.runs_using);
    if (node ? Number(node[1]) < 24 : !["composite", "docker"].includes(p.runs_using))
      problems.push(`${p.action} ${p.version}: runs.using ${p.runs_using}; take a release that runs on node24`);
    return problems;
  });

/** The ids of jobs (or the composite action) with an actions/checkout step that keeps the token, unless the job pushes to git. */
const persistedCheckouts = (doc: any) =>
  jobSteps(doc)
    .filter(([, steps]) => !steps.some((s) => /\bgit\s+push\b/.test(s.run ?? "")))
    .filter(([, steps]) => steps.some((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["persist-credentials"] !== false))
    .map(([id]) => id);

/** The node-version of each actions/setup-node step that does not set up Node 24. */
const otherNodes = (doc: any) =>
  jobSteps(doc).flatMap(([id, steps]) =>
    steps
      .filter((s) => s.uses?.startsWith("actions/setup-node@") && String(s.with?.["node-version"]) !== "24")
      .map((s) => `${id}: ${s.with?.["node-version"]}`),
  );

/**
 * What is wrong with a Dependabot configuration: it must be version 2 and update npm (the project's root) and
 * GitHub Actions (the workflows, "/", and each local composite action's directory) weekly, each ecosystem's
 * updates grouped into one pull request.
 */
function dependabotProblems(config: any, actionDirs = readdirSync(ACTIONS).map((name) => `/.github/actions/${name}`)): string[] {
  const problems: string[] = [];
  if (config?.version !== 2) problems.push(`version ${config?.version}, not 2`);
  for (const [ecosystem, dirs] of [
    ["npm", ["/"]],
    ["github-actions", ["/", ...actionDirs]],
  ] as const) {
    const entry = (config?.updates ?? []).find((u: any) => u["package-ecosystem"] === ecosystem);
    if (!entry) {
      problems.push(`${ecosystem}: no entry`);
      continue;
    }
    const covered = [entry.directory, ...(entry.directories ?? [])];
    for (const dir of dirs) if (!covered.includes(dir)) problems.push(`${ecosystem}: ${dir} is not covered`);
    if (entry.schedule?.interval !== "weekly") problems.push(`${ecosystem}: interval ${entry.schedule?.interval}, not weekly`);
    if (!Object.values<any>(entry.groups ?? {}).some((g) => g?.patterns?.includes("*"))) problems.push(`${ecosystem}: no group of every update`);
  }
  return problems;
}

describe("GitHub Actions files", () => {
  it.each(FILES.map((file) => [file.slice(ROOT.length + 1), file]))("%s passes action-validator's schema check", (_name, file) => {
    const result = validate(file);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it("the validator rejects a broken workflow (so a pass means something)", () => {
    const broken = join(mkdtempSync(join(tmpdir(), "wf-")), "broken.yml");
    writeFileSync(broken, readFileSync(join(WORKFLOWS, "plan.yml"), "utf8").replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest"));
    expect(validate(broken).status).not.toBe(0);
  });

  it("installs with npm ci, never npm install", () => {
    for (const file of FILES) {
      const commands = readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("#"));
      expect(
        commands.filter((line) => /npm (install|i)\b/.test(line)),
        file,
      ).toEqual([]);
    }
  });

  it("gives every job a timeout", () => {
    for (const [name, job] of allJobs()) expect(job["timeout-minutes"], name).toBeGreaterThan(0);
  });

  it("pins the Prefect CLI to src/versions.ts's Prefect and prefect-aws, with its Python, wherever it is installed", () => {
    const installs = FILES.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/pip install ([^\n]+)/g)].map(([, args]) => [file.slice(ROOT.length + 1), args] as const),
    );
    expect(installs.length).toBeGreaterThanOrEqual(2);
    // Other pip installs are pinned too, but are not the Prefect CLI.
    const prefect = installs.filter(([, args]) => args.includes("prefect"));
    expect(prefect.length).toBeGreaterThanOrEqual(2);
    for (const [file, args] of prefect) expect(args, file).toBe(`"prefect==${PREFECT_VERSION}" "prefect-aws==${PREFECT_AWS_VERSION}"`);
    for (const [name, job] of allJobs()) {
      const python = uses(job, "actions/setup-python");
      if (python) expect(python.with["python-version"], name).toBe(PYTHON_VERSION);
    }
  });
});

describe("pinned actions (.github/action-pins.json)", () => {
  it("pins every remote action to a full commit SHA with its release in a comment, as the table records it", () => {
    expect(FILES.flatMap((file) => pinProblems(file))).toEqual([]);
    const remote = FILES.flatMap((file) => usesLines(readFileSync(file, "utf8")).filter(({ ref }) => !ref.startsWith("./")));
    expect(remote.length).toBeGreaterThan(20);
  });

  it("GIVEN a tag pin, a short SHA, a missing or wrong version comment, or a SHA the table lacks THEN the check says so", () => {
    const plan = join(WORKFLOWS, "plan.yml");
    const checkout = PINS.find((p) => p.action === "actions/checkout")!;
    const line = `actions/checkout@${checkout.sha} # ${checkout.version}`;
    const variant = (replacement: string) => pinProblems(brokenCopy(plan, (text) => text.replace(line, replacement)));
    expect(variant("actions/checkout@v7")).toEqual(["actions/checkout@v7: not pinned to a full commit SHA (owner/repo[/path]@<40 hex digits>)"]);
    expect(variant(`actions/checkout@${checkout.sha.slice(0, 7)} # ${checkout.version}`)[0]).toContain("not pinned to a full commit SHA");
    expect(variant(`actions/checkout@${checkout.sha}`)).toEqual([
      `actions/checkout@${checkout.sha}: no "# vX.Y.Z" comment naming the release of that commit`,
    ]);
    expect(variant(`actions/checkout@${checkout.sha} # v7`)[0]).toContain('no "# vX.Y.Z" comment');
    expect(variant(`actions/checkout@${checkout.sha} # v1.2.3`)).toEqual([
      `actions/checkout@${checkout.sha}: the comment says v1.2.3, .github/action-pins.json ${checkout.version}`,
    ]);
    expect(variant(`actions/checkout@${"a".repeat(40)} # ${checkout.version}`)[0]).toContain("not in .github/action-pins.json");
    // The same action and SHA under another name is not the table's row.
    expect(variant(`actions/checkout-fork@${checkout.sha} # ${checkout.version}`)[0]).toContain("not in .github/action-pins.json");
    // A composite action's steps are checked the same way, quoted references too.
    const prepare = join(ACTIONS, "prepare", "action.yml");
    const node = PINS.find((p) => p.action === "actions/setup-node")!;
    expect(
      pinProblems(brokenCopy(prepare, (text) => text.replace(`actions/setup-node@${node.sha} # ${node.version}`, '"actions/setup-node@v7"'))),
    ).toEqual(["actions/setup-node@v7: not pinned to a full commit SHA (owner/repo[/path]@<40 hex digits>)"]);
    // A `uses:` the line scan would miss is reported too.
    const hidden = brokenCopy(plan, (text) =>
      text.replace("      - name: Lint\n", "      - { name: Hidden, uses: actions/checkout@v7 }\n      - name: Lint\n"),
    );
    expect(pinProblems(hidden)[0]).toContain("uses: lines and parsed uses: differ");
  });

  it("records each pinned release once, uses every row, and has no action that runs on Node 20 or older", () => {
    expect(tableProblems(PINS)).toEqual([]);
    const key = (action: string, sha: string) => `${action}@${sha}`;
    expect(new Set(PINS.map((p) => key(p.action, p.sha))).size).toBe(PINS.length);
    const used = new Set(
      FILES.flatMap((file) => usesLines(readFileSync(file, "utf8")))
        .map(({ ref }) => ref)
        .filter((ref) => !ref.startsWith("./")),
    );
    expect([...used].sort()).toEqual(PINS.map((p) => key(p.action, p.sha)).sort());
  });

  it("GIVEN a row that runs on node20, node16 or node12, or a malformed row THEN the table check says so", () => {
    const row = PINS[0];
    for (const old of ["node20", "node16", "node12"])
      expect(tableProblems([{ ...row, runs_using: old }])).toEqual([
        `${row.action} ${row.version}: runs.using ${old}; take a release that runs on node24`,
      ]);
    expect(
      tableProblems([
        { ...row, runs_using: "composite" },
        { ...row, runs_using: "docker" },
        { ...row, runs_using: "node24" },
      ]),
    ).toEqual([]);
    expect(tableProblems([{ ...row, sha: row.sha.slice(0, 7), version: "v7" }])).toHaveLength(2);
  });
});

describe("checkouts and Node", () => {
  const docs = FILES.map((file) => [file.slice(ROOT.length + 1), parse(readFileSync(file, "utf8"))] as const);

  it("keeps the token out of every checkout: no job pushes to git", () => {
    for (const [name, doc] of docs) expect(persistedCheckouts(doc), name).toEqual([]);
    const checkouts = docs.flatMap(([, doc]) => jobSteps(doc).flatMap(([, steps]) => steps.filter((s) => s.uses?.startsWith("actions/checkout@"))));
    expect(checkouts.length).toBeGreaterThanOrEqual(6);
    expect(FILES.filter((file) => /\bgit\s+push\b/.test(readFileSync(file, "utf8")))).toEqual([]);
  });

  it("GIVEN a checkout without persist-credentials: false THEN it is reported, unless its job pushes to git", () => {
    const broken = parse(
      readFileSync(
        brokenCopy(join(WORKFLOWS, "plan.yml"), (text) => text.replace(/^ +persist-credentials: false\n/gm, "")),
        "utf8",
      ),
    );
    expect(persistedCheckouts(broken)).toEqual(["test", "plan"]);
    broken.jobs.test.steps.push({ run: "git push origin HEAD" });
    expect(persistedCheckouts(broken)).toEqual(["plan"]);
  });

  it("sets up Node 24 wherever actions/setup-node runs", () => {
    for (const [name, doc] of docs) expect(otherNodes(doc), name).toEqual([]);
    const setups = docs.flatMap(([, doc]) => jobSteps(doc).flatMap(([, steps]) => steps.filter((s) => s.uses?.startsWith("actions/setup-node@"))));
    expect(setups.length).toBeGreaterThanOrEqual(2);
    const prepare = brokenCopy(join(ACTIONS, "prepare", "action.yml"), (text) => text.replace("node-version: 24", "node-version: 20"));
    expect(otherNodes(parse(readFileSync(prepare, "utf8")))).toEqual(["Prepare prefect-ecs: 20"]);
  });
});

describe("Dependabot (.github/dependabot.yml)", () => {
  const file = join(ROOT, ".github", "dependabot.yml");

  it("updates npm and the GitHub Actions pins, composite actions included, weekly, each ecosystem in one grouped pull request", () => {
    expect(existsSync(file)).toBe(true);
    expect(dependabotProblems(parse(readFileSync(file, "utf8")))).toEqual([]);
  });

  it("GIVEN a missing ecosystem, directory or group, another interval or version THEN the check says so", () => {
    const config = () => parse(readFileSync(file, "utf8"));
    const entry = (c: any, ecosystem: string) => c.updates.find((u: any) => u["package-ecosystem"] === ecosystem);
    const withoutNpm = config();
    withoutNpm.updates = withoutNpm.updates.filter((u: any) => u["package-ecosystem"] !== "npm");
    expect(dependabotProblems(withoutNpm)).toEqual(["npm: no entry"]);
    const daily = config();
    entry(daily, "github-actions").schedule.interval = "daily";
    expect(dependabotProblems(daily)).toEqual(["github-actions: interval daily, not weekly"]);
    const ungrouped = config();
    delete entry(ungrouped, "npm").groups;
    expect(dependabotProblems(ungrouped)).toEqual(["npm: no group of every update"]);
    const rootOnly = config();
    Object.assign(entry(rootOnly, "github-actions"), { directory: "/", directories: undefined });
    expect(dependabotProblems(rootOnly)).toEqual(["github-actions: /.github/actions/prepare is not covered"]);
    expect(dependabotProblems({ ...config(), version: 1 })).toEqual(["version 1, not 2"]);
  });
});

describe("plan workflow", () => {
  const wf = workflow("plan.yml");
  const comment = () => named(wf.jobs.plan, "Comment on the pull request");

  it("runs on pull requests, with no default token permissions", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({});
  });

  it("tests first: npm ci and the documented npm test, with Terraform pinned and a cached provider mirror", () => {
    const runs = stepsOf(wf.jobs.test).map((s) => s.run ?? "");
    expect(runs).toContain("npm test");
    expect(runs.some((r) => /^npm ci --no-audit --no-fund$/m.test(r))).toBe(true);
    expect(runs.some((r) => r.includes("git diff --exit-code -- package-lock.json"))).toBe(true);
    const mirror = named(wf.jobs.test, "Provider mirror for the offline test tier");
    expect(mirror.run).toContain("terraform providers mirror");
    const cache = uses(wf.jobs.test, "actions/cache");
    expect(cache.with.key).toContain("hashFiles('package-lock.json')");
    expect(mirror.if).toBe(`steps.${cache.id}.outputs.cache-hit != 'true'`);
    expect(uses(wf.jobs.test, "hashicorp/setup-terraform").with.terraform_version).toBe("1.11.4");
    expect(wf.jobs.test.permissions).toEqual({ contents: "read" });
  });

  it("gets AWS credentials through OIDC from a role in a repository variable, never long-lived keys", () => {
    const aws = uses(wf.jobs.plan, "aws-actions/configure-aws-credentials");
    expect(aws.with).toEqual({ "role-to-assume": "${{ vars.AWS_PLAN_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}" });
    expect(wf.jobs.plan.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(JSON.stringify(wf)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
  });

  it("never gives a pull request's code a credential: plans run with a placeholder for every secret setting", () => {
    expect(JSON.stringify(wf)).not.toContain("secrets.");
    for (const key of SECRET_KEYS) expect(wf.jobs.plan.env[`TF_VAR_${key}`], key).toMatch(/^placeholder/);
  });

  it("GIVEN the placeholders THEN each passes its setting's rule, so a plan of a stack that needs it gets past validation", () => {
    for (const key of SECRET_KEYS) {
      const values = {
        [key]: wf.jobs.plan.env[`TF_VAR_${key}`],
        ...(key === "prefect_api_auth_string" ? { self_hosted_auth: "auth_string", prefect_server: true } : {}),
        ...(key === "prefect_server_db_password" ? { prefect_server: true } : {}),
      };
      expect(settingsProblems(values), key).toBe("");
    }
  });

  it("plans only branches of this repository; a fork's pull request gets a notice saying why", () => {
    expect(wf.jobs.plan.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(wf.jobs.fork.if).toBe("github.event.pull_request.head.repo.full_name != github.repository");
    expect(wf.jobs.fork.permissions).toEqual({});
    const notice = stepsOf(wf.jobs.fork)[0].run;
    expect(notice).toContain("No Terraform plan for pull requests from forks");
    expect(notice).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("runs one plan per pull request, outside the deploy group, waiting for the state lock instead", () => {
    expect(wf.jobs.plan.concurrency).toEqual({ group: "prefect-ecs-plan-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    expect(named(wf.jobs.plan, "Plan").run).toContain("-lock-timeout=10m");
  });

  it("plans with the real backend, summarizes with the commit and run, and uploads the plan with what it was made from", () => {
    const plan = named(wf.jobs.plan, "Plan");
    expect(plan.run).toMatch(/terraform init -input=false\n/);
    expect(plan.run).toContain("-out=plan.bin");
    expect(plan.run).toContain("npx tsx scripts/plan-metadata.ts write");
    expect(plan.run).toContain("cp plan.bin .terraform.lock.hcl ../../../plan-artifact/");
    const summarize = named(wf.jobs.plan, "Summarize");
    expect(summarize.run).toContain('npm run --silent plan-summary -- "cdktf.out/stacks/$STACK/plan.json" --commit "$COMMIT" --run-url "$RUN_URL"');
    expect(summarize.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(summarize.env.COMMIT).toBe("${{ github.event.pull_request.head.sha }}");
    // The deploy workflow looks this artifact up by name.
    expect(uses(wf.jobs.plan, "actions/upload-artifact").with).toMatchObject({
      name: "plan-${{ steps.prepare.outputs.stack }}",
      path: "plan-artifact/",
      "include-hidden-files": true,
    });
    expect(workflow("deploy.yml").jobs.plan.steps.find((s: any) => s.name === "Find the pull request's plan").env.ARTIFACT).toBe(
      "plan-${{ steps.prepare.outputs.stack }}",
    );
  });

  describe("the pull-request comment", () => {
    const marker = "<!-- prefect-ecs-plan -->";
    const env = (outcome: string) => ({
      SUMMARY_OUTCOME: outcome,
      COMMIT: "0123456789abcdef0123456789abcdef01234567",
      RUN_URL: "https://github.com/acme/infra/actions/runs/42",
    });
    const github = (existing: any[]) => {
      const calls: { method: string; args: any }[] = [];
      return {
        calls,
        paginate: async (_: unknown, args: any) => (calls.push({ method: "listComments", args }), existing),
        rest: {
          issues: {
            listComments: {},
            updateComment: async (args: any) => calls.push({ method: "updateComment", args }),
            createComment: async (args: any) => calls.push({ method: "createComment", args }),
          },
        },
      };
    };
    const context = { repo: { owner: "acme", repo: "infra" }, issue: { number: 5 } };

    /** Runs the comment script in a directory holding (or not) a summary, as the job leaves it. */
    async function post(outcome: string, existing: any[], summary?: string) {
      const dir = mkdtempSync(join(tmpdir(), "wf-comment-"));
      if (summary !== undefined) {
        mkdirSync(join(dir, "plan-artifact"));
        writeFileSync(join(dir, "plan-artifact", "plan-summary.md"), summary);
      }
      const gh = github(existing);
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        await runScript(comment().with.script, gh, context, env(outcome));
      } finally {
        process.chdir(cwd);
      }
      return gh.calls.filter((c) => c.method !== "listComments");
    }

    it("runs whatever happened before it, unless the run was cancelled", () => {
      expect(comment().if).toBe("${{ !cancelled() }}");
      expect(comment().env.SUMMARY_OUTCOME).toBe("${{ steps.summarize.outcome }}");
    });

    it("GIVEN a summary THEN it updates this bot's earlier comment with it, keeping the marker", async () => {
      const calls = await post(
        "success",
        [
          { id: 1, user: { type: "User" }, body: `${marker}\nby hand` },
          { id: 2, user: { type: "Bot" }, body: `${marker}\nold` },
        ],
        "## Terraform plan\n\nnew\n",
      );
      expect(calls).toEqual([
        { method: "updateComment", args: { owner: "acme", repo: "infra", comment_id: 2, body: `${marker}\n## Terraform plan\n\nnew\n` } },
      ]);
    });

    it("GIVEN no earlier comment THEN it creates one", async () => {
      const calls = await post("success", [], "## Terraform plan\n");
      expect(calls.map((c) => c.method)).toEqual(["createComment"]);
      expect(calls[0].args.issue_number).toBe(5);
    });

    it("GIVEN a failed plan THEN the comment says so, with the commit and the run, and shows no older summary", async () => {
      const calls = await post("skipped", [{ id: 2, user: { type: "Bot" }, body: `${marker}\nold summary` }]);
      expect(calls).toHaveLength(1);
      expect(calls[0].method).toBe("updateComment");
      expect(calls[0].args.body).toContain("❌ **The plan failed** for commit `0123456789ab`");
      expect(calls[0].args.body).toContain("[the workflow run](<https://github.com/acme/infra/actions/runs/42>)");
      expect(calls[0].args.body).not.toContain("old summary");
    });

    it("GIVEN a summary left from an earlier step but a failed summarize THEN it reports the failure, not the file", async () => {
      const calls = await post("failure", [], "## Terraform plan\n\nstale\n");
      expect(calls[0].args.body).toContain("The plan failed");
      expect(calls[0].args.body).not.toContain("stale");
    });
  });
});

describe("shared preparation", () => {
  const action = parse(readFileSync(join(ROOT, ".github", "actions", "prepare", "action.yml"), "utf8"));
  const synthStep = action.runs.steps.find((s: any) => s.id === "synth");

  it("stops when the stack name cannot be found, instead of going on with an empty name", () => {
    expect(synthStep.run).toMatch(/^stack=\$\(npm run --silent stack-name -- \$ENVIRONMENT\)$/m);
  });

  it("refuses to run without remote state", () => {
    expect(synthStep.run).toContain("if (!j.terraform.backend.s3)");
    expect(synthStep.run).toContain("Set state_bucket in PREFECT_ECS_TFVARS");
  });

  it("installs with npm ci and fails if the lock file was rewritten", () => {
    const install = action.runs.steps.find((s: any) => s.name === "Install");
    expect(install.run).toMatch(/^npm ci --no-audit --no-fund$/m);
    expect(install.run).toContain("git diff --exit-code -- package-lock.json");
  });

  it("caches Terraform providers keyed on the lock file that pins them, and lets Terraform use the cache", () => {
    const cache = action.runs.steps.find((s: any) => s.uses?.startsWith("actions/cache@"));
    expect(cache.with).toEqual({
      path: "~/.terraform.d/plugin-cache",
      key: "terraform-providers-${{ runner.os }}-${{ hashFiles('package-lock.json') }}",
    });
    const settings = action.runs.steps.find((s: any) => s.name === "Terraform provider cache settings").run;
    expect(settings).toContain('TF_PLUGIN_CACHE_DIR=$HOME/.terraform.d/plugin-cache" >> "$GITHUB_ENV"');
    expect(settings).toContain("TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=true");
    // package-lock.json pins the provider bindings whose versions the stack requires.
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/@cdktf/provider-aws"].version).toBe("20.1.0");
    const steps = action.runs.steps.map((s: any) => s.name ?? s.uses);
    expect(steps.indexOf("Terraform provider cache settings")).toBeLessThan(steps.indexOf("Synthesize"));
  });
});

describe("deploy workflow: applies exactly the plan it showed", () => {
  const deploy = workflow("deploy.yml");
  const { plan, apply } = deploy.jobs;

  it("runs on pushes to main, one run at a time, never cancelled, sharing destroy's group", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(deploy.concurrency).toEqual({ group: "prefect-ecs-state", "cancel-in-progress": false });
    expect(workflow("destroy.yml").concurrency).toEqual(deploy.concurrency);
  });

  it("plans outside the production environment with a placeholder credential, and applies behind it with the real one", () => {
    expect(plan.environment).toBeUndefined();
    expect(JSON.stringify(plan)).not.toContain("secrets.");
    expect(plan.env.TF_VAR_prefect_api_key).toMatch(/^placeholder/);
    expect(apply.environment).toBe("production");
    expect(apply.needs).toBe("plan");
    expect(apply.env).toMatchObject({
      TF_VAR_prefect_api_key: "${{ secrets.PREFECT_API_KEY }}",
      PREFECT_API_KEY: "${{ secrets.PREFECT_API_KEY }}",
      TF_CLI_ARGS_apply: "-lock-timeout=10m",
    });
    // Every secret setting, so a stack that needs any of them (the in-stack server's password too) can apply.
    for (const key of SECRET_KEYS) expect(plan.env[`TF_VAR_${key}`], key).toMatch(/^placeholder/);
    for (const job of [apply, ...Object.values(workflow("destroy.yml").jobs as Record<string, any>).filter((j) => j.env)]) {
      for (const key of SECRET_KEYS) expect(job.env[`TF_VAR_${key}`], key).toBe(`\${{ secrets.${key.toUpperCase()} }}`);
    }
  });

  it("asks for approval only when the plan changes something", () => {
    expect(apply.if).toBe("needs.plan.outputs.changes == 'true'");
    expect(named(plan, "Plan").run).toContain('echo "changes=$(npx tsx scripts/plan-metadata.ts has-changes');
  });

  it("reuses the pull request's plan only when plan-metadata says main holds exactly what it planned, else plans main", () => {
    const run = named(plan, "Plan").run;
    expect(run).toContain('npx tsx scripts/plan-metadata.ts check "$SAVED/plan-meta.json"');
    expect(run).toContain("terraform plan -input=false -lock-timeout=10m $var_files -out=plan.bin");
    expect(run).toContain("terraform init -input=false -lockfile=readonly");
    const download = stepsOf(plan).find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(download.if).toBe("steps.find.outputs.run-id != ''");
    expect(plan.permissions).toEqual({ contents: "read", "id-token": "write", actions: "read", "pull-requests": "read" });
  });

  it("finds the merged pull request's latest successful plan run, and plans main when there is none", async () => {
    const script = named(plan, "Find the pull request's plan").with.script;
    const context = { repo: { owner: "acme", repo: "infra" }, sha: "merge-sha" };
    const calls: any[] = [];
    const github = (pulls: any[], runs: any[], artifacts: any[]) => ({
      rest: {
        repos: { listPullRequestsAssociatedWithCommit: async (a: any) => (calls.push(a), { data: pulls }) },
        actions: {
          listWorkflowRuns: async (a: any) => (calls.push(a), { data: { workflow_runs: runs } }),
          listWorkflowRunArtifacts: async (a: any) => (calls.push(a), { data: { artifacts } }),
        },
      },
    });
    const pr = { number: 7, merged_at: "2026-11-23T10:00:00Z", base: { ref: "main" }, head: { sha: "head-sha" } };
    const found = await runScript(script, github([pr], [{ id: 99, html_url: "https://x/99" }], [{ expired: false }]), context, {
      ARTIFACT: "plan-prefect-ecs-dev",
    });
    expect(found.outputs).toEqual({ "run-id": "99" });
    expect(calls[1]).toMatchObject({ workflow_id: "plan.yml", event: "pull_request", head_sha: "head-sha", status: "success" });
    expect(calls[2]).toMatchObject({ run_id: 99, name: "plan-prefect-ecs-dev" });
    expect((await runScript(script, github([], [], []), context)).outputs).toEqual({});
    expect((await runScript(script, github([{ ...pr, merged_at: null }], [], []), context)).outputs).toEqual({});
    expect((await runScript(script, github([pr], [{ id: 99 }], [{ expired: true }]), context, { ARTIFACT: "x" })).outputs).toEqual({});
  });

  it("applies the saved plan file, after showing its summary from that same file, and says so when the state moved", () => {
    const steps = stepsOf(apply);
    const show = steps.findIndex((s) => s.name === "Show the plan being applied");
    const applyStep = steps.findIndex((s) => s.name === "Apply the saved plan");
    expect(show).toBeGreaterThan(-1);
    expect(show).toBeLessThan(applyStep);
    expect(steps[show].run).toContain("terraform show -json plan.bin > plan.json");
    expect(steps[show].run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(steps[applyStep].run).toContain("terraform apply -input=false plan.bin");
    expect(steps[applyStep].run).not.toMatch(/auto-approve|terraform plan/);
    expect(steps[applyStep].run).toContain('grep -q "Saved plan is stale"');
    expect(steps[applyStep].run).toContain("Nothing was applied. Re-run this workflow to plan again");
    const download = steps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(download.with.name).toBe("deploy-plan-${{ needs.plan.outputs.stack }}");
  });

  /**
   * The apply step's own shell code, run by bash as GitHub runs a `run:` step (`bash --noprofile --norc -eo pipefail`),
   * with a stand-in for `terraform` on PATH. Like Terraform (checked for real in the emulator tier's Ctrl-C lane,
   * __tests__/emulator/interrupted-iam.test.ts), its first SIGINT starts a graceful stop that writes the state and
   * exits 1; a second interrupt exits at once without writing it.
   */
  const STAND_IN_TERRAFORM = `#!/usr/bin/env node
const fs = require("node:fs");
const record = (line) => fs.appendFileSync("signals", line + "\\n");
const mode = process.env.STAND_IN_MODE;
if (mode === "succeed") { console.log("Apply complete!"); process.exit(0); }
if (mode === "stale") { console.error("Error: Saved plan is stale"); process.exit(1); }
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    record(signal);
    if (stopping) process.exit(1);
    stopping = true;
    setTimeout(() => { fs.writeFileSync("state", "written"); process.exit(1); }, 500);
  });
fs.writeFileSync("started", "");
setInterval(() => {}, 1000);
`;

  const steps: ChildProcess[] = [];
  afterAll(() => {
    for (const step of steps) {
      try {
        process.kill(-step.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
  });

  function applyStep(mode: string, stopAfter: string) {
    const dir = mkdtempSync(join(tmpdir(), "apply-step-"));
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin", "terraform"), STAND_IN_TERRAFORM, { mode: 0o755 });
    writeFileSync(join(dir, "step.sh"), named(apply, "Apply the saved plan").run);
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "step.sh"], {
      cwd: dir,
      env: {
        ...process.env,
        ...named(apply, "Apply the saved plan").env,
        STOP_AFTER: stopAfter,
        STAND_IN_MODE: mode,
        PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so the test can stop whatever it left (the stand-in never ends by itself).
      detached: true,
    });
    steps.push(child);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : undefined);
    const started = async () => {
      for (let i = 0; i < 100 && !existsSync(join(dir, "started")); i++) await new Promise((r) => setTimeout(r, 50));
    };
    return { child, exited, read, started, output: () => output };
  }

  it("GIVEN a cancel (SIGINT to the step's shell, then SIGTERM) THEN Terraform gets one SIGINT, writes its state, and the step fails", async () => {
    const step = applyStep("slow", "10m");
    await step.started();
    step.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 200));
    step.child.kill("SIGTERM");
    expect(await step.exited).not.toBe(0);
    expect(step.read("signals")).toBe("SIGINT\n");
    expect(step.read("state")).toBe("written");
    expect(step.output()).toContain("Stopping: Terraform finishes what it started and writes its state.");
  });

  it("GIVEN an apply that runs past STOP_AFTER THEN Terraform gets one SIGINT before the job's timeout, and the step says so", async () => {
    const step = applyStep("slow", "1s");
    expect(await step.exited).toBe(1);
    expect(step.read("signals")).toBe("SIGINT\n");
    expect(step.read("state")).toBe("written");
    expect(step.output()).toContain("terraform apply ran past 1s and was stopped");
    // The stop comes with time to spare: STOP_AFTER plus STOP_GRACE end before the job's timeout.
    const minutes = (value: string) => Number(/^(\d+)m$/.exec(value)![1]);
    const { STOP_AFTER, STOP_GRACE } = named(apply, "Apply the saved plan").env;
    expect(minutes(STOP_AFTER) + minutes(STOP_GRACE)).toBeLessThan(apply["timeout-minutes"]);
  });

  it("GIVEN an apply that succeeds THEN the step succeeds; GIVEN a stale plan THEN it fails saying nothing was applied", async () => {
    const good = applyStep("succeed", "10m");
    expect(await good.exited).toBe(0);
    expect(good.output()).toContain("Apply complete!");
    expect(good.read("apply.log")).toContain("Apply complete!");
    const stale = applyStep("stale", "10m");
    expect(await stale.exited).toBe(1);
    expect(stale.output()).toContain("The state changed after this plan was made");
  });

  it("looks for what an interrupted deploy left before planning, and plans main instead of reusing a plan when it adopts something", () => {
    const steps = stepsOf(plan);
    const recover = steps.findIndex((s) => s.name === "Look for what an interrupted deploy left");
    expect(recover).toBeGreaterThan(steps.findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")));
    expect(recover).toBeLessThan(steps.findIndex((s) => s.name === "Plan"));
    expect(steps[recover].run).toBe("npm run --silent recover -- $ENVIRONMENT");
    expect(named(plan, "Plan").run).toContain('[ ! -f "$dir/recovery-imports.tf.json" ]');
  });

  it("carries the plan file, Terraform's lock file and the summary from the plan job to the apply job", () => {
    const upload = uses(plan, "actions/upload-artifact");
    expect(upload.with).toMatchObject({ name: "deploy-plan-${{ steps.prepare.outputs.stack }}", path: "deploy-plan/", "include-hidden-files": true });
    expect(named(plan, "Plan").run).toContain('cp "$dir/plan.bin" "$dir/.terraform.lock.hcl" deploy-plan/');
    expect(named(plan, "Summarize").run).toContain('--commit "$GITHUB_SHA" --run-url "$RUN_URL"');
  });

  it("gets AWS credentials through OIDC: the plan role to plan, the deploy role to apply", () => {
    expect(uses(plan, "aws-actions/configure-aws-credentials").with["role-to-assume"]).toBe("${{ vars.AWS_PLAN_ROLE_ARN }}");
    expect(uses(apply, "aws-actions/configure-aws-credentials").with["role-to-assume"]).toBe("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    expect(apply.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(deploy.permissions).toEqual({});
  });
});

describe("destroy workflow", () => {
  const destroy = workflow("destroy.yml");
  const job = destroy.jobs.destroy;

  it("destroys only by manual dispatch on main, after the stack name is typed", () => {
    expect(Object.keys(destroy.on)).toEqual(["workflow_dispatch"]);
    expect(destroy.on.workflow_dispatch.inputs.confirm.required).toBe(true);
    expect(job.if).toBe("github.ref == 'refs/heads/main'");
    expect(destroy.jobs["refuse-other-branches"].if).toBe("github.ref != 'refs/heads/main'");
    expect(stepsOf(destroy.jobs["refuse-other-branches"])[0].run).toContain("Destroy runs only from main");
    const steps = stepsOf(job);
    const guard = steps.findIndex((s) => s.name === "Check the typed confirmation");
    expect(guard).toBeGreaterThan(-1);
    expect(guard).toBeLessThan(steps.findIndex((s) => s.name === "Destroy"));
    expect(steps[guard].run).toContain('if [ "$CONFIRM" != "$STACK" ]');
  });

  it("waits for the state lock in terraform destroy, which reads TF_CLI_ARGS_destroy", () => {
    expect(job.env).toMatchObject({
      TF_CLI_ARGS_destroy: "-lock-timeout=10m",
      TF_CLI_ARGS_plan: "-lock-timeout=10m",
      TF_CLI_ARGS_apply: "-lock-timeout=10m",
    });
  });

  it("runs behind the production environment, giving the work pool's delete command its credential", () => {
    expect(job.environment).toBe("production");
    expect(job.env.PREFECT_API_KEY).toBe("${{ secrets.PREFECT_API_KEY }}");
    expect(stepsOf(job).at(-1).run).toBe(
      'exec timeout --signal=INT --kill-after="$STOP_GRACE" "$STOP_AFTER" npm run destroy -- $ENVIRONMENT --auto-approve --skip-synth',
    );
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(destroy.jobs["refuse-other-branches"].permissions).toEqual({});
  });
});
