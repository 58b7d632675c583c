import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS_TAG, STACK_TAG } from "../src/naming";
import { HOURS_PER_MONTH, pricesFor } from "../src/review/price-table";
import { APPROACHES } from "../src/recovery/catalog";
import { repairCutLocalState } from "../src/recovery/local-state";
import { foundByEc2Tags, lookupFor } from "../src/recovery/lookups";
import { decide, findLeftovers, importBlocks, type Recovery } from "../src/recovery/recover";
import { REMOVABLE_TYPES } from "../src/recovery/remove-duplicates";
import { terraformStillRunning } from "../src/recovery/still-running";
import { recoveryReport } from "../src/recovery/report";
import { configuredResources, referencedAddress, stateResources } from "../src/recovery/terraform-files";
import { EVERYTHING_ON, synth, synthState, VARIANTS } from "./support/synth";

/** recovery (src/recovery/): what an interrupted deploy left, found and decided on without AWS. */

const STACK = "prefect-ecs-dev";
const ours = (address: string) => ({ [STACK_TAG]: STACK, [ADDRESS_TAG]: address });

describe("every resource type the stack creates has a way to be found", () => {
  const configurations: [string, () => { resource: Record<string, Record<string, Record<string, unknown>>> }][] = [
    ...Object.entries(VARIANTS).map(([name, values]) => [`the ${name} variant`, () => synth(values).json] as [string, () => never]),
    ["every feature on", () => synth(EVERYTHING_ON).json],
    ["the state stack", () => synthState({ state_bucket: "acme-prefect-ecs-state" }).json],
  ];

  it.each(configurations)("GIVEN %s THEN recovery knows each of its types, and the ones it looks up have a lookup", (_, configuration) => {
    const json = configuration();
    for (const { type, address, config } of configuredResources(json)) {
      expect(APPROACHES, `${address}: add ${type} to src/recovery/catalog.ts`).toHaveProperty(type);
      const { way } = APPROACHES[type];
      if (way === "tag" || way === "name" || way === "parent") expect(lookupFor(type), type).toBeDefined();
      else expect(lookupFor(type), type).toBeUndefined();
      // Found by its address tag only when it carries one, and by its parent only when it cannot.
      if (way === "tag") expect((config.tags as Record<string, string>)[ADDRESS_TAG], address).toBe(address);
      if (way === "parent") expect(config.tags, address).toBeUndefined();
    }
  });

  it("GIVEN the EC2 types found by their tags THEN each of them can be removed as a duplicate, and nothing else can", () => {
    const byTag = Object.keys(APPROACHES).filter(foundByEc2Tags);
    expect(byTag.length).toBeGreaterThan(5);
    expect([...REMOVABLE_TYPES].sort()).toEqual(byTag.sort());
  });
});

describe("deciding on what AWS holds at an address the state does not", () => {
  const role = { address: "aws_iam_role.iam_worker_task_role", type: "aws_iam_role", name: "iam_worker_task_role", config: {} };

  it("GIVEN nothing there THEN there is nothing to do", () => {
    expect(decide(role, [], STACK)).toBeUndefined();
  });

  it("GIVEN one carrying this stack's tags and this address THEN it is adopted", () => {
    expect(decide(role, [{ id: "prefect-ecs-dev-worker-task", tags: ours(role.address) }], STACK)).toEqual({
      address: role.address,
      id: "prefect-ecs-dev-worker-task",
      proof: "its tags",
    });
  });

  it("GIVEN one without the stack tag (made by hand) THEN it is a conflict that says how to adopt it or what else to do", () => {
    const decision = decide(role, [{ id: "prefect-ecs-dev-worker-task", tags: { team: "data" } }], STACK);
    expect(decision).toHaveProperty("problem");
    const { problem } = decision as { problem: string };
    expect(problem).toContain("it has no prefect-ecs:stack tag");
    expect(problem).toContain(`tag it ${STACK_TAG}=${STACK} and ${ADDRESS_TAG}=${role.address}`);
    expect(problem).toContain("otherwise rename or delete it");
  });

  it("GIVEN one another stack owns THEN it is a conflict naming that stack", () => {
    const decision = decide(role, [{ id: "x", tags: { ...ours(role.address), [STACK_TAG]: "prefect-ecs-prod" } }], STACK);
    expect((decision as { problem: string }).problem).toContain("names another stack (prefect-ecs-prod)");
  });

  it("GIVEN one of this stack's tagged with another address THEN it is a conflict naming that address", () => {
    const decision = decide(role, [{ id: "x", tags: ours("aws_iam_role.iam_flow_run_task_role") }], STACK);
    expect((decision as { problem: string }).problem).toContain(`its ${ADDRESS_TAG} tag names aws_iam_role.iam_flow_run_task_role`);
  });

  it("GIVEN two carrying the address THEN neither is adopted: both ids are named", () => {
    const decision = decide(
      role,
      [
        { id: "a", tags: ours(role.address) },
        { id: "b", tags: ours(role.address) },
      ],
      STACK,
    );
    expect(decision).toMatchObject({ id: "a, b" });
    expect((decision as { problem: string }).problem).toMatch(/^2 resources carry this address/);
  });

  it("GIVEN this stack's secret scheduled for deletion THEN it is a conflict that says so, not an adoption", () => {
    const secret = { ...role, address: "aws_secretsmanager_secret.secrets_secret", type: "aws_secretsmanager_secret" };
    const decision = decide(secret, [{ id: "arn:secret", tags: ours(secret.address), blocked: "is scheduled for deletion" }], STACK);
    expect((decision as { problem: string }).problem).toBe("is this stack's but is scheduled for deletion");
  });

  it("GIVEN an untaggable resource found in a parent the stack owns THEN it is adopted for that reason", () => {
    const route = { ...role, address: "aws_route.network_public_default_route", type: "aws_route" };
    expect(decide(route, [{ id: "r-rtb-1_0.0.0.0/0", tags: undefined }], STACK)).toMatchObject({ proof: expect.stringContaining("parent") });
  });
});

describe("finding leftovers among EC2 resources", () => {
  const config = {
    resource: {
      aws_vpc: { network_vpc: { cidr_block: "10.0.0.0/16" } },
      aws_eip: { network_nat_eip_0: { domain: "vpc" } },
      aws_nat_gateway: { network_nat_gateway_0: { allocation_id: "${aws_eip.network_nat_eip_0.id}" } },
    },
  };
  const state = (held: Record<string, string>) => ({
    version: 4,
    resources: Object.entries(held).map(([address, id]) => {
      const [type, name] = address.split(".");
      return { mode: "managed", type, name, instances: [{ attributes: { id } }] };
    }),
  });
  const tagged = (entries: Record<string, string[]>) => async () => new Map(Object.entries(entries));
  const run = (held: Record<string, string> | undefined, inAws: Record<string, string[]>): Promise<Recovery> =>
    findLeftovers({ config, state: held && state(held), region: "us-east-1", stack: STACK, ec2Tagged: tagged(inAws) });

  it("GIVEN a killed first deploy whose VPC and address exist THEN both are adopted and the gateway is left to be created", async () => {
    const found = await run(undefined, { "aws_vpc.network_vpc": ["vpc-1"], "aws_eip.network_nat_eip_0": ["eipalloc-1"] });
    expect(found.adoptions).toEqual([
      { address: "aws_vpc.network_vpc", id: "vpc-1", proof: "its tags" },
      { address: "aws_eip.network_nat_eip_0", id: "eipalloc-1", proof: "its tags" },
    ]);
    expect(found).toMatchObject({ conflicts: [], duplicates: [], missing: 3 });
  });

  it("GIVEN the state holds everything and an earlier run left a second NAT gateway THEN it is a duplicate with its monthly cost", async () => {
    const found = await run(
      { "aws_vpc.network_vpc": "vpc-1", "aws_eip.network_nat_eip_0": "eipalloc-1", "aws_nat_gateway.network_nat_gateway_0": "nat-1" },
      { "aws_vpc.network_vpc": ["vpc-1"], "aws_eip.network_nat_eip_0": ["eipalloc-1"], "aws_nat_gateway.network_nat_gateway_0": ["nat-1", "nat-2"] },
    );
    const { prices } = pricesFor("us-east-1");
    expect(found.duplicates).toEqual([
      { address: "aws_nat_gateway.network_nat_gateway_0", id: "nat-2", monthlyUsd: prices.nat_gateway_hour * HOURS_PER_MONTH },
    ]);
    expect(found).toMatchObject({ adoptions: [], conflicts: [], missing: 0 });
  });

  it("GIVEN a second VPC with this stack's address THEN it is a duplicate at no hourly cost", async () => {
    const found = await run({ "aws_vpc.network_vpc": "vpc-1" }, { "aws_vpc.network_vpc": ["vpc-1", "vpc-2"] });
    expect(found.duplicates).toEqual([{ address: "aws_vpc.network_vpc", id: "vpc-2", monthlyUsd: 0 }]);
  });

  it("GIVEN two addresses tagged for one resource the state lacks THEN the deploy is refused for it", async () => {
    const found = await run({ "aws_vpc.network_vpc": "vpc-1" }, { "aws_eip.network_nat_eip_0": ["eipalloc-1", "eipalloc-2"] });
    expect(found.adoptions).toEqual([]);
    expect(found.conflicts).toEqual([expect.objectContaining({ address: "aws_eip.network_nat_eip_0", id: "eipalloc-1, eipalloc-2" })]);
  });

  it("GIVEN a type recovery has no approach for THEN it refuses rather than guess", async () => {
    await expect(
      findLeftovers({ config: { resource: { aws_made_up: { x: {} } } }, state: undefined, region: "us-east-1", stack: STACK, ec2Tagged: tagged({}) }),
    ).rejects.toThrow("recovery has no approach for aws_made_up");
  });
});

describe("what recovery writes and says", () => {
  it("GIVEN ids from AWS that look like Terraform templates THEN the import blocks carry them literally", () => {
    expect(importBlocks([{ address: "aws_vpc.network_vpc", id: 'vpc-${file("/etc/passwd")}%{if x}', proof: "its tags" }])).toEqual({
      import: [{ to: "aws_vpc.network_vpc", id: 'vpc-$${file("/etc/passwd")}%%{if x}' }],
    });
  });

  it("GIVEN ids with control characters THEN the report shows none of them", () => {
    const lines = recoveryReport(
      {
        adoptions: [{ address: "aws_vpc.network_vpc", id: "vpc-1\u001b[2J\u0007", proof: "its tags" }],
        conflicts: [{ address: "aws_iam_role.r", id: "role\r\nfake line", problem: "exists" }],
        duplicates: [],
        unchecked: [],
        missing: 2,
      },
      { removeDuplicates: false, command: "deploy" },
    );
    // No control character but the newlines joining the lines.
    expect([...lines.join("\n")].filter((c) => c !== "\n" && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))).toEqual([]);
    expect(lines).toContain("  aws_vpc.network_vpc  vpc-1?[2J?  (its tags)");
    expect(lines).toContain("  aws_iam_role.r  role??fake line: exists");
    expect(lines[2]).toMatch(/^Refusing to deploy: 1 resource\(s\).*Nothing was changed\.$/);
  });

  it("GIVEN duplicates and no --remove-duplicates THEN they are listed with their cost, left alone, and the flag is named", () => {
    const lines = recoveryReport(
      { adoptions: [], conflicts: [], duplicates: [{ address: "aws_nat_gateway.n", id: "nat-2", monthlyUsd: 32.85 }], unchecked: [], missing: 0 },
      { removeDuplicates: false, command: "destroy" },
    );
    expect(lines).toEqual([
      expect.stringMatching(/^1 duplicate\(s\) .*about \$32\.85 a month/),
      "  aws_nat_gateway.n  nat-2  $32.85/month",
      "  They are left alone. To delete them: npm run destroy -- [environment] --remove-duplicates",
    ]);
  });
});

describe("reading Terraform's files", () => {
  it("GIVEN a resource an apply was still creating (no instance) THEN the state does not hold it", () => {
    const held = stateResources({
      version: 4,
      resources: [
        { mode: "managed", type: "aws_vpc", name: "v", instances: [{ attributes: { id: "vpc-1" } }] },
        { mode: "managed", type: "aws_subnet", name: "s", instances: [] },
        { mode: "data", type: "aws_region", name: "r", instances: [{ attributes: { id: "us-east-1" } }] },
        { mode: "managed", module: "module.m", type: "aws_vpc", name: "v", instances: [{ attributes: { id: "vpc-9" } }] },
      ],
    });
    expect([...held.keys()]).toEqual(["aws_vpc.v"]);
  });

  it("GIVEN no state THEN it holds nothing; GIVEN another format THEN it is refused", () => {
    expect(stateResources(undefined).size).toBe(0);
    expect(() => stateResources({ version: 3, modules: [] })).toThrow("not Terraform state format version 4");
  });

  it("GIVEN whole-value references THEN the address they point at is read, and nothing else is", () => {
    expect(referencedAddress("${aws_route_table.network_public_route_table.id}")).toEqual({
      address: "aws_route_table.network_public_route_table",
      attribute: "id",
    });
    expect(referencedAddress("rtb-1")).toBeUndefined();
    expect(referencedAddress("x-${aws_vpc.v.id}")).toBeUndefined();
  });
});

describe("a local state file a killed run cut short", () => {
  let dir: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const setUp = () => {
    dir = mkdtempSync(join(tmpdir(), "cut-state-"));
    lines.length = 0;
    return join(dir, "terraform.prefect-ecs-dev.tfstate");
  };
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const STATE = JSON.stringify({ version: 4, serial: 7, resources: [] });

  it("GIVEN a readable state THEN it is left as it is", () => {
    const file = setUp();
    writeFileSync(file, STATE);
    expect(repairCutLocalState(file, log)).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(STATE);
    expect(lines).toEqual([]);
  });

  it("GIVEN an empty state and its backup THEN the backup is put back and the cut file kept beside it", () => {
    const file = setUp();
    writeFileSync(file, "");
    writeFileSync(`${file}.backup`, STATE);
    expect(repairCutLocalState(file, log)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(STATE);
    expect(readdirSync(dir).filter((name) => name.includes(".cut-"))).toHaveLength(1);
    expect(lines[0]).toContain("was empty: a run was killed while writing it. Restored");
  });

  it("GIVEN a state cut short in the middle THEN it is repaired the same way", () => {
    const file = setUp();
    writeFileSync(file, STATE.slice(0, 20));
    writeFileSync(`${file}.backup`, STATE);
    expect(repairCutLocalState(file, log)).toBe(true);
    expect(lines[0]).toContain("was cut short");
  });

  it("GIVEN an empty state and no backup (a first deploy killed early) THEN the state starts empty and the cut file is kept", () => {
    const file = setUp();
    writeFileSync(file, "");
    expect(repairCutLocalState(file, log)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes(".cut-"))).toHaveLength(1);
    expect(lines[0]).toContain("has no");
    expect(lines[0]).toContain("looked up in AWS");
  });

  it("GIVEN no state file THEN nothing happens", () => {
    expect(repairCutLocalState(setUp(), log)).toBe(false);
    expect(lines).toEqual([]);
  });
});

describe("a Terraform an earlier run left working", () => {
  it.runIf(process.platform === "linux")(
    "GIVEN a process named terraform working in the stack's directory THEN it is found by PID, and nothing once it is gone",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "still-running-"));
      try {
        // A stand-in named terraform: /proc/<pid>/comm is the name it was started by.
        symlinkSync("/bin/sleep", join(dir, "terraform"));
        const child = spawn(join(dir, "terraform"), ["30"], { cwd: dir, stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 200));
        expect(terraformStillRunning(dir)).toEqual([{ pid: child.pid, command: "terraform" }]);
        expect(terraformStillRunning(tmpdir())).not.toContainEqual(expect.objectContaining({ pid: child.pid }));
        const exited = new Promise((r) => child.on("exit", r));
        child.kill("SIGKILL");
        await exited;
        expect(terraformStillRunning(dir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
