import { createHash } from "node:crypto";

/**
 * Names shared by the stacks, the scripts, CI and the tests. Provider-free on purpose: a script that only needs a
 * name must not load the AWS provider bindings.
 */

/** Where cdktf writes synthesized stacks; Terraform runs in `<SYNTH_DIR>/stacks/<stack>`. */
export const SYNTH_DIR = "cdktf.out";
export const stackDir = (stack: string) => `${SYNTH_DIR}/stacks/${stack}`;

/** `<project_name>-<environment>`: the worker stack of one deployment, and the prefix of its resource names. */
export const namePrefix = (projectName: string, environment: string) => `${projectName}-${environment}`;
export const stackName = (settings: { readonly project_name: string; readonly environment: string }) =>
  namePrefix(settings.project_name, settings.environment);

/**
 * Tag keys on every taggable resource: the stack that made it and its Terraform address there
 * (src/stacks/address-tags.ts), so an interrupted apply's orphans are found by what they are (src/recovery/).
 */
export const STACK_TAG = "prefect-ecs:stack";
export const ADDRESS_TAG = "prefect-ecs:address";

/** The environment name `npm run deploy -- state` reserves for the state bootstrap stack. */
export const STATE_ENVIRONMENT = "state";
/** `<project>-state`: the state bootstrap stack. */
export const stateStackName = (projectName: string) => namePrefix(projectName, STATE_ENVIRONMENT);

/** A stack's local state file, at the project root. */
export const localStateFile = (stack: string) => `terraform.${stack}.tfstate`;
/** A worker stack's state object in the S3 bucket. */
export const stateKey = (projectName: string, environment: string) => `${projectName}/${environment}/terraform.tfstate`;

/** The Terraform local and output holding the work pool's base job template. */
export const TEMPLATE_OUTPUT = "base_job_template";

/** Port the in-stack Prefect server listens on (Prefect's default). */
export const PREFECT_SERVER_PORT = 4200;
/** The in-stack server's Cloud Map service name: it answers at `server.<namespace>`. */
export const PREFECT_SERVER_DNS_LABEL = "server";
/** The private DNS namespace of the in-stack server: the operator's service_discovery_namespace, or `<name_prefix>.internal`. */
export const serverNamespace = (settings: { readonly name_prefix: string; readonly service_discovery_namespace?: string }) =>
  settings.service_discovery_namespace ?? `${settings.name_prefix}.internal`;
/** PREFECT_API_URL of the in-stack server, as the worker and flow runs reach it inside the VPC. */
export const inStackServerUrl = (settings: { readonly name_prefix: string; readonly service_discovery_namespace?: string }) =>
  `http://${PREFECT_SERVER_DNS_LABEL}.${serverNamespace(settings)}:${PREFECT_SERVER_PORT}/api`;

/** Prefix of the temporary file handed to `prefect work-pool create` (by the pool command or the worker). */
export const TEMPLATE_TEMP_PREFIX = "prefect-ecs-base-job-template";

/**
 * A name within an AWS length limit (load balancers and target groups: 32). A longer one keeps its start and
 * ends in 4 hex characters of its SHA-256, so two long names that share the first characters still differ.
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 4);
  return `${name.slice(0, max - 5).replace(/-+$/, "")}-${hash}`;
}

/** The flow runs' EC2 capacity is named `<name_prefix>` + this (its group, launch template and capacity provider). */
export const FLOW_RUN_INSTANCES_SUFFIX = "-flow-runs";
