/**
 * The synthesized stack without the work pool's hashicorp/null resources, for a Terraform that cannot install that
 * provider (a provider mirror without it, as on machines without the registry). Whoever sets them aside runs the
 * pool's synthesized command itself, and says so.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- cdk.tf.json is edited as the JSON it is */

/** A copy without the hashicorp/null (and hashicorp/local) resources and providers. */
export function withoutWorkPoolProviders<T>(json: T): T {
  const copy: any = structuredClone(json);
  delete copy.resource?.null_resource;
  delete copy.resource?.local_file;
  delete copy.provider?.null;
  delete copy.provider?.local;
  delete copy.terraform?.required_providers?.null;
  delete copy.terraform?.required_providers?.local;
  return copy;
}

/** The same, with every `depends_on` on the pool's resources dropped, so the rest plans and applies as synthesized. */
export function setAsideWorkPool<T>(json: T): T {
  const copy: any = withoutWorkPoolProviders(json);
  for (const byId of Object.values(copy.resource ?? {}) as Record<string, any>[]) {
    for (const resource of Object.values(byId)) {
      if (resource.depends_on) resource.depends_on = resource.depends_on.filter((d: string) => !/^(null_resource|local_file)\./.test(d));
    }
  }
  return copy;
}
