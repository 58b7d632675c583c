import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformJson } from "./synth";
import { PLAN_TIME_ENV } from "./synth";
import { stackDir, terraform, terraformAsync, withoutWorkPoolProviders } from "./terraform";

/**
 * A converged state for a synthesized stack, made offline: the state Terraform would hold after applying
 * the stack, with every value the configuration sets and a stand-in for every value AWS would compute
 * (ids, ARNs). It is reached the way an apply reaches it, by applying the plan's `after` values (stand-ins
 * for unknowns) and planning again until nothing changes; plans use `-refresh=false`, so the real AWS
 * provider plans from the state without calling AWS.
 *
 * hashicorp/null is not installable here, so null_resources become Terraform's built-in `terraform_data`
 * with the same triggers as `triggers_replace` (replaced on any change, unknown included, as null_resource's
 * triggers are) and no provisioners (they run only at apply).
 */
export function withTerraformData(json: TerraformJson): TerraformJson {
  const copy = withoutWorkPoolProviders(json);
  const nulls: Record<string, any> = structuredClone(json.resource.null_resource ?? {});
  if (Object.keys(nulls).length) {
    copy.resource.terraform_data = Object.fromEntries(
      Object.entries(nulls).map(([name, r]) => [name, { triggers_replace: r.triggers, ...(r.depends_on ? { depends_on: r.depends_on } : {}) }]),
    );
  }
  for (const byId of Object.values(copy.resource)) {
    for (const resource of Object.values(byId)) {
      if (resource.depends_on) resource.depends_on = resource.depends_on.map((d: string) => d.replace(/^null_resource\./, "terraform_data."));
    }
  }
  return copy;
}

type Schema = { block: any; version: number };

function schemas(dir: string): Record<string, Schema> {
  const json = JSON.parse(terraform(dir, ["providers", "schema", "-json"], { env: PLAN_TIME_ENV }).stdout);
  const all: Record<string, Schema> = {};
  for (const provider of Object.values<any>(json.provider_schemas)) Object.assign(all, provider.resource_schemas ?? {});
  return all;
}

/** The schema type at an attribute path, or undefined inside blocks and nested types it does not describe. */
function fake(type: unknown, label: string): unknown {
  // JSON policy attributes are compared as documents by the provider.
  if (type === "string" && /policy$/.test(label)) return '{"Version":"2012-10-17","Statement":[]}';
  if (type === "string")
    return label.endsWith(".arn") || label.endsWith("_arn")
      ? `arn:aws:fake:us-east-1:123456789012:${label.replace(/[^A-Za-z0-9_.-]/g, "_")}`
      : `fake-${label}`;
  if (type === "number") return 1;
  if (type === "bool") return false;
  if (Array.isArray(type) && (type[0] === "list" || type[0] === "set")) return [];
  if (Array.isArray(type) && type[0] === "map") return {};
  if (Array.isArray(type) && type[0] === "object")
    return Object.fromEntries(Object.entries<any>(type[1]).map(([k, t]) => [k, fake(t, `${label}.${k}`)]));
  return `fake-${label}`;
}

/** Fills every unknown in `after` (per `unknown`) with the prior state's value there, or a stand-in of the right type. */
function settle(after: any, unknown: any, prior: any, block: any, label: string): any {
  if (unknown === true) {
    if (prior !== undefined && prior !== null) return prior;
    const nesting = block?.nesting_mode ?? block?.nested_type?.nesting_mode;
    if (nesting) return nesting === "list" || nesting === "set" ? [] : nesting === "map" ? {} : null;
    return fake(block?.type ?? block, label);
  }
  if (Array.isArray(after) || Array.isArray(unknown)) {
    const length = Math.max(Array.isArray(after) ? after.length : 0, Array.isArray(unknown) ? unknown.length : 0);
    const element = block?.block ?? (Array.isArray(block?.type) ? block.type[1] : undefined);
    return Array.from({ length }, (_, i) => settle(after?.[i], unknown?.[i], prior?.[i], element, `${label}.${i}`));
  }
  if ((after && typeof after === "object") || (unknown && typeof unknown === "object")) {
    const keys = new Set([...Object.keys(after ?? {}), ...Object.keys(unknown ?? {})]);
    const out: Record<string, any> = {};
    for (const key of keys) {
      const child =
        block?.attributes?.[key] ??
        block?.block_types?.[key] ??
        (Array.isArray(block?.type) && block.type[0] === "object" ? block.type[1][key] : undefined);
      out[key] = settle(after?.[key], unknown?.[key], prior?.[key], child, `${label}.${key}`);
    }
    return out;
  }
  return after;
}

export interface Converged {
  /** A directory holding the stack (as terraform_data) and its converged terraform.tfstate. */
  readonly dir: string;
  /** Plans it took to converge, the first (create-only) one included. */
  readonly plans: number;
  readonly state: any;
}

const PLAN = ["plan", "-input=false", "-refresh=false", "-out=plan.bin"];

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/;

/**
 * Copies the values that configuration sets as a plain reference (`"${aws_vpc.network_vpc.id}"`) from the
 * referenced resource's stand-in, as an apply would; the plans that follow settle everything else.
 */
function resolveReferences(config: any, value: any, instances: Map<string, any>): any {
  if (typeof config === "string") {
    const match = REFERENCE.exec(config);
    const target = match && instances.get(`${match[1]}.${match[2]}`)?.values?.[match[3]];
    return target !== undefined && target !== null ? target : value;
  }
  if (Array.isArray(config) && Array.isArray(value)) return value.map((v, i) => (i < config.length ? resolveReferences(config[i], v, instances) : v));
  if (config && typeof config === "object") {
    if (Array.isArray(value) && value.length === 1) return [resolveReferences(config, value[0], instances)];
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k in config ? resolveReferences(config[k], v, instances) : v]));
    }
  }
  return value;
}

export async function convergedState(json: TerraformJson, maxPlans = 8): Promise<Converged> {
  const config = withTerraformData(json);
  const dir = stackDir(config);
  terraform(dir, ["init", "-input=false"], { env: PLAN_TIME_ENV });
  const types = schemas(dir);
  const instances = new Map<string, any>();
  const outputs: Record<string, any> = {};
  for (let plans = 1; plans <= maxPlans; plans++) {
    await terraformAsync(dir, PLAN, { env: PLAN_TIME_ENV });
    const plan = JSON.parse(terraform(dir, ["show", "-json", "plan.bin"], { env: PLAN_TIME_ENV }).stdout);
    const changes = plan.resource_changes.filter((c: any) => c.mode === "managed" && c.change.actions.join() !== "no-op");
    const outputChanges = Object.entries<any>(plan.output_changes ?? {}).filter(([, o]) => o.actions.join() !== "no-op");
    if (changes.length === 0 && outputChanges.length === 0) return { dir, plans, state: stateOf(instances, outputs, types, plans) };
    // An output is recorded once all of it is known, as an apply records it.
    for (const [name, output] of outputChanges) {
      if (!JSON.stringify(output.after_unknown ?? false).includes("true")) {
        outputs[name] = { value: output.after, type: typeOf(output.after), ...(output.after_sensitive === true ? { sensitive: true } : {}) };
      }
    }
    for (const change of changes) {
      const prior = instances.get(change.address)?.values;
      const schema = types[change.type];
      const values = settle(change.change.after, change.change.after_unknown, prior, schema.block, `${change.type}.${change.name}`);
      instances.set(change.address, { change, values });
    }
    for (let pass = 0; pass < 10; pass++) {
      let changed = false;
      for (const [address, instance] of instances) {
        const [type, name] = address.split(".");
        const resolved = resolveReferences(config.resource[type]?.[name] ?? {}, instance.values, instances);
        if (JSON.stringify(resolved) !== JSON.stringify(instance.values)) {
          instance.values = resolved;
          changed = true;
        }
      }
      if (!changed) break;
    }
    writeFileSync(join(dir, "terraform.tfstate"), JSON.stringify(stateOf(instances, outputs, types, plans), null, 2));
  }
  throw new Error(`the stack did not converge in ${maxPlans} plans`);
}

/** Terraform's state keeps a value of a dynamic attribute (terraform_data's) with its type. */
function typeOf(value: unknown): unknown {
  if (value === null) return "dynamic";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return ["tuple", value.map(typeOf)];
  return ["object", Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, typeOf(v)]))];
}
function encode(values: Record<string, any>, block: any): Record<string, any> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      block.attributes?.[key]?.type === "dynamic" && value !== null ? { value, type: typeOf(value) } : value,
    ]),
  );
}

/** The sensitive paths of a planned value, as the state file records them. */
function sensitivePaths(marks: unknown, path: any[] = []): any[][] {
  if (marks === true) return [path];
  if (Array.isArray(marks)) return marks.flatMap((m, i) => sensitivePaths(m, [...path, { type: "index", value: { value: i, type: "number" } }]));
  if (marks && typeof marks === "object")
    return Object.entries(marks).flatMap(([k, m]) => sensitivePaths(m, [...path, { type: "get_attr", value: k }]));
  return [];
}

function stateOf(instances: Map<string, any>, outputs: Record<string, any>, types: Record<string, Schema>, serial: number) {
  return {
    version: 4,
    terraform_version: "1.11.4",
    serial,
    lineage: "00000000-0000-4000-8000-000000000000",
    outputs,
    resources: [...instances.values()].map(({ change, values }) => ({
      mode: "managed",
      type: change.type,
      name: change.name,
      provider: change.type === "terraform_data" ? 'provider["terraform.io/builtin/terraform"]' : `provider["${change.provider_name}"]`,
      instances: [
        {
          schema_version: types[change.type].version,
          attributes: encode(values, types[change.type].block),
          sensitive_attributes: sensitivePaths(change.change.after_sensitive),
        },
      ],
    })),
  };
}
