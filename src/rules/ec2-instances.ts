/**
 * EC2 instance types the flow runs' capacity may use, with their vCPUs and memory, from Amazon EC2's instance type
 * specifications (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html, co.html, mo.html): families whose
 * Linux instances the ECS-optimized Amazon Linux 2023 image boots, x86_64 (Intel, AMD) or arm64 (Graviton, the "g"
 * in the family name), in the sizes every listed family offers. Within the m, c and r families a size has a fixed
 * vCPU count and 4, 2 or 8 GiB per vCPU; the burstable t families are listed size by size.
 */
import { listForHumans } from "./fargate";

export type CpuArchitecture = "X86_64" | "ARM64";

const X86_FAMILIES = ["m5", "m5a", "m6i", "m6a", "m7i", "m7a", "c5", "c5a", "c6i", "c6a", "c7i", "c7a", "r5", "r5a", "r6i", "r6a", "r7i", "r7a"];
const ARM_FAMILIES = ["m6g", "m6gd", "m7g", "m7gd", "m8g", "c6g", "c6gd", "c6gn", "c7g", "c7gd", "c7gn", "c8g", "r6g", "r6gd", "r7g", "r7gd", "r8g"];
/** vCPUs by size; `medium` exists in the Graviton families only. */
const VCPUS: Readonly<Record<string, number>> = { medium: 1, large: 2, xlarge: 4, "2xlarge": 8, "4xlarge": 16 };
const GIB_PER_VCPU: Readonly<Record<string, number>> = { m: 4, c: 2, r: 8 };
/** Burstable types: [vCPUs, GiB]. Below medium there is too little memory for the ECS agent and a flow run. */
const BURSTABLE: Readonly<Record<string, readonly [number, number]>> = {
  medium: [2, 4],
  large: [2, 8],
  xlarge: [4, 16],
  "2xlarge": [8, 32],
};
const BURSTABLE_FAMILIES: Readonly<Record<string, CpuArchitecture>> = { t3: "X86_64", t3a: "X86_64", t4g: "ARM64" };

export interface InstanceShape {
  readonly architecture: CpuArchitecture;
  readonly vcpus: number;
  readonly memoryMib: number;
}

/** The architecture, vCPUs and memory of a listed instance type; undefined for any other. */
export function instanceShape(type: string): InstanceShape | undefined {
  const [family, size, rest] = type.split(".");
  if (rest !== undefined || size === undefined) return undefined;
  if (Object.hasOwn(BURSTABLE_FAMILIES, family) && Object.hasOwn(BURSTABLE, size)) {
    const [vcpus, gib] = BURSTABLE[size];
    return { architecture: BURSTABLE_FAMILIES[family], vcpus, memoryMib: gib * 1024 };
  }
  const arm = ARM_FAMILIES.includes(family);
  if (!arm && !X86_FAMILIES.includes(family)) return undefined;
  if (!Object.hasOwn(VCPUS, size) || (size === "medium" && !arm)) return undefined;
  const vcpus = VCPUS[size];
  return { architecture: arm ? "ARM64" : "X86_64", vcpus, memoryMib: vcpus * GIB_PER_VCPU[family[0]] * 1024 };
}

/** What the setting accepts, for messages. */
export const INSTANCE_TYPES_ALLOWED =
  `x86_64: ${X86_FAMILIES.join(", ")} from large to 4xlarge, or t3/t3a from medium to 2xlarge; ` +
  `ARM64 (Graviton): ${ARM_FAMILIES.join(", ")} from medium to 4xlarge, or t4g from medium to 2xlarge`;

/** The default: a general-purpose instance of the flow runs' architecture (2 vCPUs, 8 GiB). */
export const defaultFlowRunInstanceType = (architecture: CpuArchitecture): string => (architecture === "ARM64" ? "m7g.large" : "m7i.large");

/**
 * The ECS agent registers less memory for tasks than the instance has: the operating system and the agent keep
 * some (container instance memory management,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html). 90% is a margin for that,
 * not a figure AWS publishes per type.
 */
export const usableTaskMemoryMib = (shape: InstanceShape): number => Math.floor(shape.memoryMib * 0.9);

/** Why `cpu` units and `memory` MiB cannot be placed on one instance of `type`, or undefined when they can. */
export function placementError(type: string, cpu: number, memory: number): string | undefined {
  const shape = instanceShape(type);
  if (!shape) return undefined;
  const problems = [
    cpu > shape.vcpus * 1024 ? `${cpu} CPU units (it has ${shape.vcpus * 1024})` : undefined,
    memory > usableTaskMemoryMib(shape)
      ? `${memory} MiB (about ${usableTaskMemoryMib(shape)} of its ${shape.memoryMib} MiB are left for tasks)`
      : undefined,
  ].filter(Boolean);
  return problems.length ? `one ${type} cannot hold a flow run of ${listForHumans(problems as string[])}` : undefined;
}
