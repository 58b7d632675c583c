/**
 * What an interrupted apply left behind, found before the next one: for every resource the configuration declares
 * and the state does not hold, whether AWS already has it (src/recovery/catalog.ts says how each type is looked
 * for). A leftover that carries this stack's tags (or sits inside a parent this stack owns) is adopted through a
 * Terraform import block; one that does not is a conflict, never adopted; several with one address are duplicates.
 */
import { ADDRESS_TAG, STACK_TAG } from "../naming";
import { HOURS_PER_MONTH, pricesFor } from "../review/price-table";
import { APPROACHES } from "./catalog";
import { type Candidate, type LookupContext, describeEc2Tagged, foundByEc2Tags, lookupFor } from "./lookups";
import { type ConfiguredResource, configuredResources, stateResources } from "./terraform-files";

export interface Adoption {
  readonly address: string;
  readonly id: string;
  /** "its tags", or why an untaggable one is known to be this stack's. */
  readonly proof: string;
}
export interface Conflict {
  readonly address: string;
  readonly id: string;
  readonly problem: string;
}
export interface Duplicate {
  readonly address: string;
  readonly id: string;
  /** What it costs a month while it stays (USD), when its type has a price. */
  readonly monthlyUsd?: number;
}
export interface Recovery {
  readonly adoptions: Adoption[];
  readonly conflicts: Conflict[];
  readonly duplicates: Duplicate[];
  /** Resources to be created whose type recovery does not look up. */
  readonly unchecked: string[];
  /** How many resources the state does not hold (each looked for, unless its way needs no lookup). */
  readonly missing: number;
}

export interface RecoveryInput {
  /** cdk.tf.json, parsed. */
  readonly config: unknown;
  /** `terraform state pull`, parsed (undefined when there is no state yet). */
  readonly state: unknown;
  readonly region: string;
  readonly stack: string;
  /** For tests: EC2 resources by address tag (defaults to DescribeTags). */
  readonly ec2Tagged?: () => Promise<Map<string, string[]>>;
}

/** Parents first: a route is looked for in its route table, which may be adopted in this same pass. */
const ORDER = (resource: ConfiguredResource) => (APPROACHES[resource.type]?.way === "parent" ? 1 : 0);

export async function findLeftovers(input: RecoveryInput): Promise<Recovery> {
  const resources = configuredResources(input.config);
  const state = stateResources(input.state);
  const byAddress = new Map(resources.map((r) => [r.address, r]));
  const unknown = resources.filter((r) => !Object.hasOwn(APPROACHES, r.type)).map((r) => r.type);
  if (unknown.length) throw new Error(`recovery has no approach for ${[...new Set(unknown)].join(", ")} (src/recovery/catalog.ts)`);

  let ec2: Promise<Map<string, string[]>> | undefined;
  const adoptions: Adoption[] = [];
  const conflicts: Conflict[] = [];
  const context: LookupContext = {
    region: input.region,
    stack: input.stack,
    idOf: (address) => {
      const id = state.get(address)?.id;
      return typeof id === "string" ? id : adoptions.find((a) => a.address === address)?.id;
    },
    configOf: (address) => byAddress.get(address),
    ec2Tagged: () => (ec2 ??= (input.ec2Tagged ?? (() => describeEc2Tagged(input.region, input.stack)))()),
  };

  const unchecked: string[] = [];
  let missing = 0;
  for (const resource of [...resources].sort((a, b) => ORDER(a) - ORDER(b))) {
    if (state.has(resource.address)) continue;
    missing++;
    const approach = APPROACHES[resource.type];
    if (approach.way === "unchecked") unchecked.push(resource.address);
    const lookup = lookupFor(resource.type);
    if (!lookup) continue;
    const decision = decide(resource, await lookup(resource, context), input.stack);
    if (decision && "proof" in decision) adoptions.push(decision);
    else if (decision) conflicts.push(decision);
  }

  // Duplicates: EC2 resources with an address tag the state (or an adoption) already answers with another id. Looked
  // for on every run (one DescribeTags scan), since they outlive the run that could have adopted them.
  const tagged = resources.some((r) => foundByEc2Tags(r.type)) ? await context.ec2Tagged() : new Map<string, string[]>();
  const duplicates: Duplicate[] = [];
  for (const [address, ids] of tagged) {
    const kept = context.idOf(address);
    const resource = byAddress.get(address);
    // The VPC's default security group is AWS's own and goes with its VPC; only resources the stack creates count.
    if (kept === undefined || !resource || APPROACHES[resource.type].way !== "tag") continue;
    for (const id of ids) if (id !== kept) duplicates.push({ address, id, monthlyUsd: monthlyCost(resource, input.region) });
  }
  return { adoptions, conflicts, duplicates, unchecked, missing };
}

/** Adopt, refuse, or nothing to do, for one resource and what AWS holds in its place. */
export function decide(resource: ConfiguredResource, candidates: Candidate[], stack: string): Adoption | Conflict | undefined {
  if (!candidates.length) return undefined;
  const { address } = resource;
  if (candidates.length > 1) {
    return {
      address,
      id: candidates.map((c) => c.id).join(", "),
      problem: `${candidates.length} resources carry this address: an earlier run created it more than once. Delete all but one (or all), then deploy again`,
    };
  }
  const [candidate] = candidates;
  if (candidate.tags === undefined) return { address, id: candidate.id, proof: "found in a parent this stack owns; it cannot carry tags" };
  const owner = candidate.tags[STACK_TAG];
  const claimed = candidate.tags[ADDRESS_TAG];
  if (owner !== stack || claimed !== address) {
    const whose =
      owner === undefined
        ? "it has no prefect-ecs:stack tag, so nothing says it is this stack's"
        : owner !== stack
          ? `its ${STACK_TAG} tag names another stack (${owner})`
          : `its ${ADDRESS_TAG} tag names ${claimed ?? "nothing"}`;
    return {
      address,
      id: candidate.id,
      problem: `exists in AWS and is not adopted: ${whose}. If it is this stack's (made before these tags existed), tag it ${STACK_TAG}=${stack} and ${ADDRESS_TAG}=${address} and deploy again; otherwise rename or delete it`,
    };
  }
  if (candidate.blocked) return { address, id: candidate.id, problem: `is this stack's but ${candidate.blocked}` };
  return { address, id: candidate.id, proof: "its tags" };
}

/** What a leftover costs a month: the types that bill by the hour whether used or not. */
function monthlyCost({ type, config }: ConfiguredResource, region: string): number | undefined {
  const { prices } = pricesFor(region);
  if (type === "aws_nat_gateway") return prices.nat_gateway_hour * HOURS_PER_MONTH;
  if (type === "aws_eip") return prices.public_ipv4_hour * HOURS_PER_MONTH;
  if (type === "aws_vpc_endpoint") {
    // Gateway endpoints (S3) are free; an interface endpoint bills per AZ, one per subnet.
    const subnets = Array.isArray(config.subnet_ids) ? config.subnet_ids.length : 1;
    return config.vpc_endpoint_type === "Interface" ? prices.interface_endpoint_hour_per_az * subnets * HOURS_PER_MONTH : 0;
  }
  if (["aws_vpc", "aws_subnet", "aws_route_table", "aws_security_group", "aws_internet_gateway"].includes(type)) return 0;
  return undefined;
}

/** Terraform import blocks (JSON syntax) for the adoptions; ids are template-escaped, since they come from AWS. */
export function importBlocks(adoptions: readonly Adoption[]): { import: { to: string; id: string }[] } {
  const escape = (id: string) => id.replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
  return { import: adoptions.map(({ address, id }) => ({ to: address, id: escape(id) })) };
}
