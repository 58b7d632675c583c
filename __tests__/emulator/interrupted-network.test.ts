import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../support/emulator";
import { type AwsClients, awsClients, type Inventory, inventory } from "../support/emulator-aws";
import {
  created,
  DEPLOY,
  DESTROY,
  destroyed,
  expectExactlyOneOfEverything,
  expectNothingLeft,
  natInterfaces,
  tail,
  TFVARS,
} from "../support/interrupted";
import { OperatorProject } from "../support/operator-project";

/**
 * A first deploy killed early (Terraform and its providers, SIGKILL, as a lost runner) while the network is being
 * built, then `npm run deploy` again; then a destroy killed half way, and `npm run destroy` again.
 */
let emulator: Emulator;
let aws: AwsClients;
let project: OperatorProject;
let baseline: Inventory;
const nat: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  aws = awsClients(emulator.endpoint);
  baseline = await inventory(aws);
  project = new OperatorProject(emulator, TFVARS, "interrupted-network");
});
afterAll(async () => {
  project?.remove();
  await emulator?.stop();
});

describe("a first deploy killed while the network is built", () => {
  it("GIVEN Terraform is killed after the first subnets exist THEN it stopped with resources the state does not hold", async () => {
    const first = await project.run(DEPLOY, { killWhen: (output) => created(output, "aws_subnet") >= 2 });
    expect(first.killed, tail(first)).toBe(true);
    expect(first.code).not.toBe(0);
  });

  it("WHEN npm run deploy runs again THEN it adopts what the killed run left and completes", async () => {
    const second = await project.run(DEPLOY);
    expect(second.code, tail(second)).toBe(0);
    expect(second.output).toMatch(/Adopting \d+ resource\(s\) an interrupted deploy created/);
    expect(second.output).toMatch(/aws_(vpc|subnet|internet_gateway|route_table)\.network_\w+ {2}\S+ {2}\(its tags\)/);
  });

  it("THEN the emulator holds exactly one of everything", async () => {
    await expectExactlyOneOfEverything(aws, baseline, project);
    nat.push(...(await natInterfaces(aws)));
  });
});

describe("a destroy killed half way", () => {
  it("GIVEN Terraform is killed after ten resources are destroyed THEN it stopped", async () => {
    const first = await project.run(DESTROY, { killWhen: (output) => destroyed(output) >= 10 });
    expect(first.killed, tail(first)).toBe(true);
  });

  // A destroy that refreshes and plans the whole stack took over 200 s with the tier's other lanes beside it.
  it("WHEN npm run destroy runs again THEN it completes", { timeout: 450_000 }, async () => {
    const second = await project.run(DESTROY);
    expect(second.code, tail(second)).toBe(0);
  });

  it("THEN nothing the stack made is left", async () => {
    await expectNothingLeft(aws, baseline, nat);
  });
});
