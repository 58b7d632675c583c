import type { TerraformStack } from "cdktf";
import type { Settings } from "../settings";
import type { PrefectConnection } from "../settings/prefect-connection";

/**
 * What every feature receives. A feature is a plain class, not a construct: it builds its parts in the stack's
 * own scope, so their Terraform logical ids stay the parts' construct paths (`network_vpc`, `worker_service`) and
 * grouping them into features moves nothing in anyone's state.
 */
export interface FeatureContext {
  /** The stack: every part is created directly in it. */
  readonly stack: TerraformStack;
  readonly settings: Settings;
  readonly connection: PrefectConnection;
  /** The AWS partition, looked up once for ARNs. */
  readonly partition: string;
  /** PREFECT_API_URL the worker and the pool command use, with Prefect Cloud's plan-time ids filled in. */
  readonly prefectApiUrl: string;
}
