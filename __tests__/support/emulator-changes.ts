import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { actionOf, type PlanJson, summarizePlan } from "../../src/review/plan-summary";
import { asAwsWouldPlan } from "./emulator-allowlist";
import type { EmulatorLane } from "./emulator-lane";
import type { Plan } from "./emulator-stack";

/**
 * moto's CreateService drops three fields the provider sent (see EMULATOR_DIFFERENCES), so a later plan
 * would replace the service for a reason AWS never gives. moto's UpdateService does store them
 * (moto/ecs/models.py:1693-1695 sets every field it is given), so a change scenario first puts back what AWS
 * would hold after CreateService: the configured capacity provider strategy and managed tags, and the
 * provider's default AZ rebalancing. Only then does a plan show what a change does on AWS.
 */
export async function restoreWhatCreateServiceDropped(lane: EmulatorLane): Promise<void> {
  const service = Object.values(lane.json.resource.aws_ecs_service ?? {})[0];
  await lane.aws.ecs.send(
    new UpdateServiceCommand({
      cluster: lane.outputs.cluster_arn,
      service: lane.outputs.worker_service_name,
      capacityProviderStrategy: service.capacity_provider_strategy.map((s: any) => ({
        capacityProvider: s.capacity_provider,
        weight: s.weight,
        base: s.base,
      })),
      enableECSManagedTags: service.enable_ecs_managed_tags,
      availabilityZoneRebalancing: "DISABLED",
    }),
  );
}

/** Planned actions by resource type (each type's actions sorted), as AWS would plan them. */
export function actionsByType(plan: PlanJson): Record<string, string[]> {
  const byType: Record<string, string[]> = {};
  for (const change of asAwsWouldPlan(plan).resource_changes ?? []) {
    const action = actionOf(change.change.actions);
    if (change.mode !== "managed" || action === "no-op" || action === "read") continue;
    (byType[change.type] ??= []).push(action);
  }
  for (const actions of Object.values(byType)) actions.sort();
  return byType;
}

export interface PlannedChange {
  readonly plan: Plan;
  /** Actions by resource type, emulator differences aside. */
  readonly actions: Record<string, string[]>;
  /** The reviewer's summary (npm run plan-summary), rendered from the real plan. */
  readonly summary: string;
}

/** Re-synthesizes the lane's stack with new settings and plans the change against the applied one. */
export async function planChange(lane: EmulatorLane, values: Record<string, unknown>): Promise<PlannedChange> {
  lane.reconfigure(values);
  const plan = await lane.stack.plan();
  const awsPlan = asAwsWouldPlan(plan.json);
  return { plan, actions: actionsByType(plan.json), summary: summarizePlan(awsPlan) };
}

/** Applies the change last planned and reads the outputs again. */
export async function applyChange(lane: EmulatorLane): Promise<void> {
  await lane.stack.applyPlan();
  await lane.refreshOutputs();
}
