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
