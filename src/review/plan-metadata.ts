/**
 * What a saved plan was made from, so a deploy can apply a pull request's reviewed plan only when it
 * describes exactly what main now holds: the same tree (files), stack, environment and settings, made
 * by the same Terraform. A plan made against older state is caught by Terraform itself at apply
 * ("Saved plan is stale").
 */
export interface PlanMetadata {
  /** `git rev-parse HEAD^{tree}`: equal for a pull request's merge preview and main after merging it unchanged. */
  readonly tree: string;
  readonly stack: string;
  readonly environment: string;
  /** sha256 of terraform.tfvars as the workflow wrote it from the repository variable. */
  readonly tfvarsSha256: string;
  readonly terraformVersion: string;
}

export interface ReuseDecision {
  readonly reuse: boolean;
  readonly reason: string;
}

const FIELDS: [keyof PlanMetadata, string][] = [
  ["tree", "main's files differ from the pull request's merge preview (main moved, or the merge changed them)"],
  ["stack", "the stack differs"],
  ["environment", "the environment differs"],
  ["tfvarsSha256", "PREFECT_ECS_TFVARS changed since the pull request's plan"],
  ["terraformVersion", "the Terraform version differs"],
];

export function reuseDecision(saved: Partial<PlanMetadata> | undefined, current: PlanMetadata): ReuseDecision {
  if (!saved) return { reuse: false, reason: "no plan from a pull request was found" };
  for (const [field, why] of FIELDS) {
    if (saved[field] !== current[field]) return { reuse: false, reason: why };
  }
  return { reuse: true, reason: "the pull request's plan was made from exactly this tree, stack, environment and settings" };
}

interface PlanChanges {
  resource_changes?: { mode: string; address?: string; previous_address?: string; change: { actions: string[]; importing?: unknown } }[];
  output_changes?: Record<string, { actions: string[] }>;
}

/** True when applying the plan would change anything (resources, state-only moves/forgets, or outputs). */
export function planHasChanges(plan: PlanChanges): boolean {
  const changing = (actions: string[]) => !actions.every((a) => a === "no-op" || a === "read");
  const resources = (plan.resource_changes ?? []).filter((c) => c.mode === "managed");
  return (
    resources.some(
      (c) => changing(c.change.actions) || c.change.importing !== undefined || (c.previous_address !== undefined && c.previous_address !== c.address),
    ) || Object.values(plan.output_changes ?? {}).some((o) => changing(o.actions))
  );
}
