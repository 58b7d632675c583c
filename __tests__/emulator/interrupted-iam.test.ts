import { CreateRoleCommand, DeleteRoleCommand } from "@aws-sdk/client-iam";
import { configuredResources } from "../../src/recovery/terraform-files";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../support/emulator";
import { type AwsClients, added, awsClients, type Inventory, inventory } from "../support/emulator-aws";
import { created, DEPLOY, DESTROY, expectExactlyOneOfEverything, expectNothingLeft, natInterfaces, tail, TFVARS } from "../support/interrupted";
import { OperatorProject } from "../support/operator-project";

/**
 * An orphan that is not the stack's (an IAM role made by hand with the stack's name) refuses the deploy; then a first
 * deploy killed (SIGKILL to Terraform, its providers and the command) once IAM roles and the secret exist, and
 * `npm run deploy` again; then a deploy stopped with Ctrl-C, whose state holds everything it created.
 */
let emulator: Emulator;
let aws: AwsClients;
let project: OperatorProject;
let baseline: Inventory;
const ROLE = "prefect-ecs-dev-worker-task";

beforeAll(async () => {
  emulator = await startEmulator();
  aws = awsClients(emulator.endpoint);
  baseline = await inventory(aws);
  // This lane deploys again after a destroy: a secret in its recovery window would (rightly) refuse that deploy.
  project = new OperatorProject(emulator, `${TFVARS}secret_recovery_window_days = 0\n`, "interrupted-iam");
});
afterAll(async () => {
  project?.remove();
  await emulator?.stop();
});

describe("a resource with the stack's name that is not the stack's", () => {
  it("GIVEN an IAM role made by hand with the worker task role's name WHEN npm run deploy runs THEN it refuses, naming the role and what to do", async () => {
    await aws.iam.send(new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }));
    const result = await project.run(DEPLOY);
    expect(result.code, tail(result)).toBe(1);
    expect(result.output).toContain(
      "Refusing to deploy: 1 resource(s) the stack would create already exist and are not adopted. Nothing was changed.",
    );
    expect(result.output).toContain(
      `aws_iam_role.iam_worker_task_role  ${ROLE}: exists in AWS and is not adopted: it has no prefect-ecs:stack tag, so nothing says it is this stack's. ` +
        "If it is this stack's (made before these tags existed), tag it prefect-ecs:stack=prefect-ecs-dev and prefect-ecs:address=aws_iam_role.iam_worker_task_role and deploy again; otherwise rename or delete it",
    );
  });

  it("THEN nothing was created or changed: the emulator holds only the hand-made role", async () => {
    expect(added(baseline, await inventory(aws))).toEqual({ "iam roles": [ROLE] });
  });
});

describe("a first deploy killed once IAM roles and the secret exist", () => {
  it("GIVEN the hand-made role is gone WHEN Terraform is killed after three roles and the secret are created THEN it stopped", async () => {
    await aws.iam.send(new DeleteRoleCommand({ RoleName: ROLE }));
    const first = await project.run(DEPLOY, {
      killWhen: (output) => created(output, "aws_iam_role") >= 3 && created(output, "aws_secretsmanager_secret") >= 1,
    });
    expect(first.killed, tail(first)).toBe(true);
    expect(first.code).not.toBe(0);
  });

  it("WHEN npm run deploy runs again THEN it completes without an error", async () => {
    const second = await project.run(DEPLOY);
    expect(second.code, tail(second)).toBe(0);
    expect(second.output).not.toMatch(/EntityAlreadyExists|ResourceExists|AlreadyExists/);
  });

  it("THEN the emulator holds exactly one of everything, and the destroy leaves nothing", async () => {
    await expectExactlyOneOfEverything(aws, baseline, project);
    const nat = await natInterfaces(aws);
    const destroy = await project.run(DESTROY);
    expect(destroy.code, tail(destroy)).toBe(0);
    await expectNothingLeft(aws, baseline, nat);
  });
});

describe("a deploy stopped with Ctrl-C", () => {
  let stopped: Awaited<ReturnType<OperatorProject["run"]>>;

  it("GIVEN twenty resources are created WHEN the operator presses Ctrl-C THEN the deploy stops with 130 and the state holds every resource it created", async () => {
    stopped = await project.run(DEPLOY, { interruptWhen: (output) => (output.match(/: Creation complete/g) ?? []).length >= 20 });
    expect(stopped.code, tail(stopped)).toBe(130);
    expect(stopped.output).toContain("Stopping (SIGINT): Terraform is finishing what it started and writing its state.");
    const addresses = [...stopped.output.matchAll(/(aws_[a-z0-9_]+\.[A-Za-z0-9_]+)(?: \([^)]*\))?: Creation complete/g)].map((m) => m[1]);
    expect(addresses.length).toBeGreaterThanOrEqual(20);
    const held = new Set(project.stateAddresses());
    expect(addresses.filter((address) => !held.has(address))).toEqual([]);
    // It stopped early: not everything the configuration declares was created.
    expect(held.size).toBeLessThan(configuredResources(project.config()).length);
  });

  it("WHEN npm run deploy runs again THEN it adopts only what Terraform was still creating when stopped, and completes with exactly one of everything", async () => {
    const again = await project.run(DEPLOY);
    expect(again.code, tail(again)).toBe(0);
    // Terraform cancels the calls in flight: a resource AWS made before its call was cancelled may be missing from
    // the state (measured: an EventBridge rule whose wait was cancelled), and recovery adopts it. Nothing else.
    const adopted = [...again.output.matchAll(/^ {2}(aws_[a-z0-9_]+\.[A-Za-z0-9_]+) {2}\S+ {2}\(its tags\)$/gm)].map((m) => m[1]);
    const said = (address: string, what: string) => new RegExp(`${address.replace(".", "\\.")}(?: \\([^)]*\\))?: ${what}`).test(stopped.output);
    const inFlight = (address: string) => said(address, "Creating\\.\\.\\.") && !said(address, "Creation complete");
    for (const address of adopted) expect(inFlight(address), `${address} was adopted but was not in flight`).toBe(true);
    await expectExactlyOneOfEverything(aws, baseline, project);
    const nat = await natInterfaces(aws);
    const destroy = await project.run(DESTROY);
    expect(destroy.code, tail(destroy)).toBe(0);
    await expectNothingLeft(aws, baseline, nat);
  });
});
