import { Netmask } from "netmask";

/**
 * Subnet layout inside the VPC, derived only from the VPC CIDR and the AZ index so that adding an
 * AZ never moves an existing subnet. The VPC is cut into 16 equal blocks (4 extra prefix bits):
 * blocks 0-7 are private subnets, blocks 8-15 public ones; AZ i gets private block i and public block 8+i.
 */
export const SUBNET_NEWBITS = 4;
export const MAX_AZS = 8;
/** Smallest subnet AWS allows is /28, so the VPC may be at most /24. */
export const VPC_PREFIX_RANGE = { min: 16, max: 28 - SUBNET_NEWBITS } as const;

export interface SubnetPlan {
  readonly privateCidrs: string[];
  readonly publicCidrs: string[];
}

/** Returns an error sentence for a bad VPC CIDR, or undefined when it is usable. */
export function vpcCidrError(key: string, cidr: string): string | undefined {
  const allowed = `an IPv4 network address with a prefix from /${VPC_PREFIX_RANGE.min} to /${VPC_PREFIX_RANGE.max}, e.g. "10.0.0.0/16"`;
  // netmask reads "010" as octal; AWS wants plain decimal octets.
  if (!/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/\d{1,2}$/.test(cidr)) {
    return `${key} = "${cidr}" is not a CIDR block; use ${allowed}`;
  }
  let block: Netmask;
  try {
    block = new Netmask(cidr);
  } catch {
    return `${key} = "${cidr}" is not a CIDR block; use ${allowed}`;
  }
  if (!cidr.includes("/") || block.toString() !== cidr) {
    return `${key} = "${cidr}" is not a network address (did you mean "${block.toString()}"?); use ${allowed}`;
  }
  if (block.bitmask < VPC_PREFIX_RANGE.min || block.bitmask > VPC_PREFIX_RANGE.max) {
    return `${key} = "${cidr}" has prefix /${block.bitmask}; use ${allowed}`;
  }
  return undefined;
}

export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
  if (azCount < 1 || azCount > MAX_AZS) throw new Error(`azCount must be 1..${MAX_AZS}, got ${azCount}`);
  const vpc = new Netmask(vpcCidr);
  const first = new Netmask(vpc.base, vpc.bitmask + SUBNET_NEWBITS);
  const block = (i: number) => (i === 0 ? first : first.next(i)).toString();
  return {
    privateCidrs: Array.from({ length: azCount }, (_, i) => block(i)),
    publicCidrs: Array.from({ length: azCount }, (_, i) => block(MAX_AZS + i)),
  };
}
