/**
 * What recovery reads from Terraform's own files: the synthesized configuration (cdk.tf.json) and the state
 * (`terraform state pull`, format version 4). Both come from outside this process, so they are checked for shape
 * and read as plain data; nothing here runs Terraform.
 */

export interface ConfiguredResource {
  /** `aws_vpc.network_vpc` */
  readonly address: string;
  readonly type: string;
  readonly name: string;
  /** The resource's arguments as synthesized: literals, or `${…}` references to other resources. */
  readonly config: Readonly<Record<string, unknown>>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Every managed resource the configuration declares (the stack uses neither count nor for_each). */
export function configuredResources(configJson: unknown): ConfiguredResource[] {
  if (!isRecord(configJson)) throw new Error("the synthesized configuration is not a JSON object");
  const byType = configJson.resource ?? {};
  if (!isRecord(byType)) throw new Error('the synthesized configuration\'s "resource" is not an object');
  const resources: ConfiguredResource[] = [];
  for (const [type, byName] of Object.entries(byType)) {
    if (!isRecord(byName)) continue;
    for (const [name, config] of Object.entries(byName)) {
      if (isRecord(config)) resources.push({ address: `${type}.${name}`, type, name, config });
    }
  }
  return resources;
}

/** The state's managed resources in the root module: address → the attributes Terraform recorded. */
export function stateResources(stateJson: unknown): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  // `terraform state pull` prints nothing at all when there is no state yet.
  if (stateJson === undefined) return found;
  if (!isRecord(stateJson) || stateJson.version !== 4 || !Array.isArray(stateJson.resources)) {
    throw new Error("the state is not Terraform state format version 4");
  }
  for (const resource of stateJson.resources) {
    if (!isRecord(resource) || resource.mode !== "managed" || resource.module !== undefined) continue;
    // A resource an apply was still creating is written with no instance at all: it is not in the state yet.
    const instance = Array.isArray(resource.instances) ? resource.instances[0] : undefined;
    if (!isRecord(instance) || !isRecord(instance.attributes)) continue;
    found.set(`${String(resource.type)}.${String(resource.name)}`, instance.attributes);
  }
  return found;
}

/** The address a whole-value reference such as `${aws_route_table.network_public_route_table.id}` points at. */
export function referencedAddress(value: unknown): { address: string; attribute: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value);
  return match ? { address: match[1], attribute: match[2] } : undefined;
}
