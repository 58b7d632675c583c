import { rmSync } from "node:fs";
import { join } from "node:path";
import { DescribeInstancesCommand, DescribeNatGatewaysCommand, type Instance } from "@aws-sdk/client-ec2";
import { FLOW_RUN_INSTANCES_SUFFIX } from "../../src/naming";
import { parseSettings, type Settings } from "../../src/settings";
import { type Emulator, startEmulator } from "./emulator";
import { type AwsClients, awsClients, type Inventory, inventory } from "./emulator-aws";
import { EmulatedStack } from "./emulator-stack";
import { synth, synthState, type TerraformJson, valuesFor } from "./synth";

export const ROOT = join(__dirname, "..", "..");

/** Generous limits: an apply waits on SQS propagation (about 25 s per queue step) and shares 2 cores with other lanes. */
export const DEPLOY_TIMEOUT = 420_000;
export const STEP_TIMEOUT = 300_000;

/**
 * One lane of the emulator tier: its own moto server, reset before each scenario, and one stack
 * applied against it. Lanes run side by side (one test file each); nothing is shared between them.
 */
export class EmulatorLane {
  emulator!: Emulator;
  aws!: AwsClients;
  stack!: EmulatedStack;
  /** The validated settings the stack was synthesized from. */
  settings!: Settings;
  /** The synthesized stack, work pool included (the applied copy sets it aside). */
  json!: TerraformJson;
  /** What the emulator held before the stack was applied. */
  baseline!: Inventory;
  outputs: Record<string, any> = {};
  /** Network interfaces of the stack's NAT gateways and NAT instances, which moto keeps after deleting them (see MOTO_LEFTOVERS). */
  natInterfaces: string[] = [];
  /** The flow runs' EC2 instances and their primary interfaces, which moto keeps after force-deleting their group (MOTO_LEFTOVERS). */
  flowRunInstances: string[] = [];
  flowRunInterfaces: string[] = [];
  /** Every stack this lane applied, for the timing report. */
  private readonly stacks: EmulatedStack[] = [];

  constructor(readonly name: string) {}

  /** Starts this lane's emulator (once) and empties it: one scenario never sees another's resources. */
  async open(): Promise<this> {
    if (!this.emulator) {
      this.emulator = await startEmulator();
      this.aws = awsClients(this.emulator.endpoint);
    }
    await this.emulator.reset();
    return this;
  }

  /** Synthesizes the stack for these settings and writes it (work pool set aside) with the emulator override. */
  async prepare(values: Record<string, unknown>, options: { backend?: Record<string, unknown>; stack?: "worker" | "state"; name?: string } = {}) {
    // A lane that is already open keeps what the test placed in the emulator first (an existing VPC or secret).
    if (!this.emulator) await this.open();
    this.settings = parseSettings(valuesFor(values), "test").settings;
    this.json = options.stack === "state" ? synthState(values).json : synth(values).json;
    this.baseline = await inventory(this.aws);
    this.stack = new EmulatedStack(`${options.name ?? this.name}${this.stacks.length ? `-${this.stacks.length + 1}` : ""}`, this.emulator).configure(
      this.json,
      options.backend,
    );
    this.stacks.push(this.stack);
    await this.stack.init();
    return this;
  }

  /** prepare(), then apply, and read the outputs and what moto keeps of NAT gateways. */
  async deploy(values: Record<string, unknown>, options: Parameters<EmulatorLane["prepare"]>[1] = {}): Promise<this> {
    await this.prepare(values, options);
    await this.stack.apply();
    await this.refreshOutputs();
    return this;
  }

  async refreshOutputs(): Promise<void> {
    this.outputs = await this.stack.outputs();
    const gateways = (await this.aws.ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways ?? [];
    const natInstances = await this.instancesNamed(`${this.settings.name_prefix}-nat`);
    const flowRunInstances = await this.instancesNamed(`${this.settings.name_prefix}${FLOW_RUN_INSTANCES_SUFFIX}`);
    const add = (known: string[], more: string[]) => [...new Set([...known, ...more])];
    this.natInterfaces = add(this.natInterfaces, [
      ...gateways.flatMap((g) => (g.NatGatewayAddresses ?? []).map((a) => a.NetworkInterfaceId!)),
      ...primaryInterfaces(natInstances),
    ]);
    this.flowRunInstances = add(
      this.flowRunInstances,
      flowRunInstances.map((i) => i.InstanceId!),
    );
    this.flowRunInterfaces = add(this.flowRunInterfaces, primaryInterfaces(flowRunInstances));
  }

  /** The instances whose Name tag is `name`. */
  private async instancesNamed(name: string): Promise<Instance[]> {
    const answer = await this.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:Name", Values: [name] }] }));
    return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  /** Re-synthesizes with new settings in the same working directory and state (a change to the deployed stack). */
  reconfigure(values: Record<string, unknown>, backend?: Record<string, unknown>): void {
    this.settings = parseSettings(valuesFor(values), "test").settings;
    this.json = synth(values).json;
    this.stack.configure(this.json, backend);
  }

  async close(): Promise<void> {
    await this.emulator?.stop();
    for (const stack of this.stacks) {
      stack.saveTimings(ROOT);
      // The working folder holds the provider's lock, plans and state: nothing a later run reads.
      rmSync(stack.dir, { recursive: true, force: true });
    }
  }
}

/**
 * What moto keeps after a delete that AWS cleans up. Each entry says how to recognise the leftover,
 * with the evidence; anything else left after a destroy fails the test.
 */
export const MOTO_LEFTOVERS = [
  {
    kind: "ec2 network interfaces",
    what: "the network interface of each NAT gateway the stack created",
    evidence:
      "moto/ec2/models/nat_gateways.py:31-33 creates an interface for every NAT gateway; delete_nat_gateway (147-150) only sets " +
      'state "deleted" and leaves it. AWS deletes a NAT gateway\'s interface with it (and would refuse to delete its subnet otherwise).',
  },
  {
    kind: "ec2 network interfaces",
    what: "the primary network interface of each NAT instance the Auto Scaling group launched",
    evidence:
      "moto/ec2/models/instances.py:609-621 builds an instance's primary interface without its launch template's NetworkInterfaces, so " +
      "DeleteOnTermination is false (676), and terminate (506-512) keeps it. The launch template sets DeleteOnTermination = true.",
  },
  {
    kind: "ec2 instances",
    what: "the flow runs' EC2 instances (protected from scale-in), with their primary interfaces, after their group is force-deleted",
    evidence:
      "moto/autoscaling/responses.py:259-262 reads no ForceDelete; moto/autoscaling/models.py:1496-1503 scales the group to 0 and drops it, " +
      "and 1046-1049 terminates only instances not protected from scale-in. AWS's ForceDelete deletes the group with all its instances.",
  },
] as const;

/** Each instance's primary (device 0) network interface. */
const primaryInterfaces = (instances: Instance[]): string[] =>
  instances.flatMap((i) => (i.NetworkInterfaces ?? []).filter((n) => n.Attachment?.DeviceIndex === 0).map((n) => n.NetworkInterfaceId!));

/** What a destroy left behind (compared with the lane's baseline, or another), once moto's known leftovers are taken out. */
export function leftBehind(lane: EmulatorLane, after: Inventory, baseline: Inventory = lane.baseline): Inventory {
  const out: Inventory = {};
  for (const [kind, items] of Object.entries(after)) {
    const fresh = items.filter(
      (item) =>
        !(baseline[kind] ?? []).includes(item) &&
        !(kind === "ec2 network interfaces" && [...lane.natInterfaces, ...lane.flowRunInterfaces].includes(item)) &&
        !(kind === "ec2 instances" && lane.flowRunInstances.includes(item)),
    );
    if (fresh.length) out[kind] = fresh;
  }
  return out;
}
