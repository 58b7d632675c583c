/**
 * The bugs `npm run mutate` plants, one at a time, each named after the behaviour it breaks. Each must make
 * at least one test of `tests` fail; a mutation all of them pass is a hole in the suite. `find` must occur
 * exactly once in `file` (mutations.test.ts checks that, so the list keeps up with the code).
 */
export interface Mutation {
  /** The behaviour the planted bug breaks, as an operator would notice it. */
  readonly behaviour: string;
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /** The test files that must catch it. */
  readonly tests: readonly string[];
}

export const MUTATIONS: readonly Mutation[] = [
  {
    behaviour: "the database password in terraform.tfvars is written into cdk.tf.json",
    file: "src/stack.ts",
    find: "password: inputs.prefectServerDbPassword,",
    replace: "password: settings.prefect_server_db_password ?? inputs.prefectServerDbPassword,",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "the API key in terraform.tfvars is written into cdk.tf.json",
    file: "src/stack.ts",
    find: "prefect_api_key: inputs.prefectApiKey,",
    replace: "prefect_api_key: settings.prefect_api_key ?? inputs.prefectApiKey,",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "the auth string in terraform.tfvars is written into cdk.tf.json",
    file: "src/stack.ts",
    find: "prefect_api_auth_string: inputs.prefectApiAuthString };",
    replace: "prefect_api_auth_string: settings.prefect_api_auth_string ?? inputs.prefectApiAuthString };",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "TF_VAR_prefect_api_key is read at synth and written into cdk.tf.json",
    file: "src/stack.ts",
    find: "prefect_api_key: inputs.prefectApiKey,",
    replace: "prefect_api_key: process.env.TF_VAR_prefect_api_key ?? inputs.prefectApiKey,",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "the database password loses its secret mark, so messages show it",
    file: "src/settings/schema.ts",
    find: "prefect_server_db_password: secret(",
    replace: "prefect_server_db_password: ((unmarked: z.ZodType) => unmarked)(",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "a refused setting's message shows a secret's value",
    file: "src/settings/index.ts",
    find: 'return value === undefined ? "(missing)" : "(hidden)";',
    replace: "return show(value);",
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "the flow runs' base job template carries the API key instead of its secret's ARN",
    file: "src/stack.ts",
    find: "valueFrom: secrets.credential.valueFrom }",
    replace: "valueFrom: settings.prefect_api_key ?? secrets.credential.valueFrom }",
    tests: ["__tests__/work-pool-template.test.ts"],
  },
  {
    behaviour: "a misspelt ECS stop code: the worker-failure notification never fires for an exited container",
    file: "src/monitoring/alarms.ts",
    find: '"EssentialContainerExited"',
    replace: '"EssentialContainerExit"',
    tests: ["__tests__/alarms.test.ts"],
  },
  {
    behaviour: "the plan-time Prefect id check accepts any text",
    file: "src/settings/schema.ts",
    find: 'export const UUID_RE2 = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";',
    replace: 'export const UUID_RE2 = "^.+$";',
    tests: ["__tests__/stack.test.ts"],
  },
  {
    behaviour: "the template check lets prefect.* placeholders through, which Prefect's server refuses (422)",
    file: "src/work-pool/template.ts",
    find: ".filter((name) => !known.has(name));",
    replace: '.filter((name) => !name.startsWith("prefect.") && !known.has(name));',
    tests: ["__tests__/work-pool-template.test.ts"],
  },
  {
    behaviour: "the template check accepts an empty job_configuration or variables, which Prefect's server refuses (422)",
    file: "src/work-pool/template.ts",
    find: 'typeof section !== "object" || Object.keys(section).length === 0;',
    replace: 'typeof section !== "object";',
    tests: ["__tests__/work-pool-template.test.ts"],
  },
  {
    behaviour: "the task security groups of the starter profiles admit SSH from anywhere",
    file: "src/network/security-groups.ts",
    find: "      tags: { Name: props.name },",
    replace: '      tags: { Name: props.name },\n      ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] }],',
    tests: ["__tests__/internet-egress.test.ts"],
  },
  {
    behaviour: "a plan's interface endpoints are priced in one AZ whatever their subnets (plan and synth prices differ)",
    file: "src/review/cost.ts",
    find: "lengths[attribute] = expression.constant_value.length;",
    replace: "lengths[attribute] = 1;",
    tests: ["__tests__/terraform/terraform-plan.test.ts"],
  },
  {
    behaviour: "a setting holding ${…} reaches cdk.tf.json, where Terraform runs it at plan",
    file: "src/settings/index.ts",
    find: ".filter((key) => holdsAny(values[key], /[$%]\\{/))",
    replace: ".filter(() => false)",
    tests: ["__tests__/terraform-literals.test.ts"],
  },
  {
    behaviour: "with an email and an existing topic, alarms go only to the stack's own topic",
    file: "src/monitoring/alarms.ts",
    find: "          alarmActions: this.topicArns,",
    replace: "          alarmActions: this.topicArns.slice(0, 1),",
    tests: ["__tests__/alarms.test.ts"],
  },
  {
    behaviour: "the API key must be non-empty even where the stack does not use it (every such plan fails)",
    file: "src/stacks/variables.ts",
    find: "nonEmptyWhenRequired(apiKey, needs.apiKey);",
    replace: "nonEmptyWhenRequired(apiKey, true);",
    tests: ["__tests__/stack.test.ts"],
  },
  {
    behaviour: "an optional plan-time variable defaults to the value in terraform.tfvars (a secret in the state stack's cdk.tf.json)",
    file: "src/stacks/variables.ts",
    find: 'if (!required) variable.addOverride("default", null);',
    replace: 'if (!required) variable.addOverride("default", deployment.fileValues[key] ?? null);',
    tests: ["__tests__/secret-canaries.test.ts"],
  },
  {
    behaviour: "the state stack checks one environment's values, refusing the other environments' files",
    file: "src/state-stack.ts",
    find: "{ checkSynthTimeValues: false },",
    replace: "{ checkSynthTimeValues: true },",
    tests: ["__tests__/state-stack.test.ts"],
  },
  {
    behaviour: "a control character (ESC) in a setting reaches names, environment variables and terminals",
    file: "src/settings/index.ts",
    find: ".filter((key) => holdsAny(values[key], CONTROL_CHARACTERS))",
    replace: ".filter(() => false)",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "a refused URL's query string (often a token) is printed in the message",
    file: "src/settings/service-rules.ts",
    find: "const withoutQuery = query < 0 ? url : `${url.slice(0, query + 1)}***`;",
    replace: "const withoutQuery = query < 0 ? url : url;",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "a database maximum storage less than 10 % above the allocated storage passes synth, and RDS refuses the apply",
    file: "src/settings/index.ts",
    find: "s.prefect_server_db_max_storage_gb * 10 < s.prefect_server_db_storage_gb * 11",
    replace: "s.prefect_server_db_max_storage_gb * 10 < s.prefect_server_db_storage_gb * 10",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "npm run status sends the Cloud key to whatever PREFECT_API_URL the shell has exported",
    file: "src/operations/status.ts",
    find: "    if (elsewhere) return { missing: `PREFECT_API_URL${shownUrl(override)} ${elsewhere}` };",
    replace: "",
    tests: ["__tests__/status.test.ts"],
  },
  {
    behaviour: 'a plan naming the instance class "constructor" finds an inherited property in the price table',
    file: "src/review/cost.ts",
    find: "(Object.hasOwn(table, key) ? table[key] : undefined)",
    replace: "table[key]",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "a task id from the Prefect API with shell syntax reaches the aws logs tail line printed to copy",
    file: "src/flows/commands.ts",
    find: "if (!/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\\d{12}:task\\/[A-Za-z0-9_-]{1,255}\\/[0-9a-f]{32}$/.test(taskArn)) return undefined;",
    replace: 'if (!taskArn.includes(":task/")) return undefined;',
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "status prints names from the Prefect API raw: escape sequences and a forged OK line reach the terminal",
    file: "src/operations/status.ts",
    find: "[...body, last].map(printable).join",
    replace: "[...body, last].join",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "status stops at an unreachable AWS and never checks Prefect",
    file: "src/operations/status.ts",
    find: "    report.problems.push(`AWS: cannot read the stack (${errorCode(error)}); check the network, AWS_ENDPOINT_URL and the region`);",
    replace: "    throw error;",
    tests: ["__tests__/status.test.ts"],
  },
  {
    behaviour: "two environments in one VPC both create the same Cloud Map namespace, or rewrite one work pool",
    file: "src/settings/environments.ts",
    find: "  clashes.push(...sharedResourceClashes(deployments));",
    replace: "",
    tests: ["__tests__/environments.test.ts"],
  },
  {
    behaviour: "the internet-facing listener takes a one-character auth string",
    file: "src/settings/schema.ts",
    find: 'export const PUBLIC_AUTH_STRING_RE2 = "^[^:]+:.{16,}$";',
    replace: 'export const PUBLIC_AUTH_STRING_RE2 = "^.+$";',
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "the internet-facing listener opens to 0.0.0.0/0 when no ranges are given",
    file: "src/settings/index.ts",
    find: "s.prefect_server && s.prefect_server_public_certificate_arn !== undefined && s.prefect_server_public_cidrs === undefined",
    replace: "false",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "a private namespace named prefect.cloud takes Prefect Cloud's API away from the tasks",
    file: "src/settings/service-rules.ts",
    find: "const shadowed = PUBLIC_NAMES_THE_TASKS_CALL.find((name) => name === zone || name.endsWith(`.${zone}`));",
    replace: "const shadowed = undefined as string | undefined;",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "the 64 KiB check counts an ARN at the length of its Terraform reference, not of the ARN",
    file: "src/compute/task-definition-size.ts",
    find: "bytes += match[1] ? Buffer.byteLength(match[0]) - 1 : this.bound(match[2]);",
    replace: "bytes += Buffer.byteLength(match[0]);",
    tests: ["__tests__/task-definition-size.test.ts"],
  },
  {
    behaviour: "a task definition over ECS's 64 KiB limit reaches apply",
    file: "src/stack.ts",
    find: "if (sizeProblems.length) throw new SettingsError(deployment.source, sizeProblems);",
    replace: "if (sizeProblems.length < 0) throw new SettingsError(deployment.source, sizeProblems);",
    tests: ["__tests__/task-definition-size.test.ts"],
  },
  {
    behaviour: "a Fargate size message shows a default memory as if it had been written",
    file: "src/compute/fargate.ts",
    find: "const pair = `${label(memoryKey, memory, set.memory)} does not fit ${label(cpuKey, cpu, set.cpu)} on Fargate`;",
    replace: "const pair = `${label(memoryKey, memory, true)} does not fit ${label(cpuKey, cpu, true)} on Fargate`;",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "an environment's refusal shows the environment from its file name as a key of the file",
    file: "src/settings/environments.ts",
    find: "const deployment = parseSettings({ ...merged, environment: name }, varFile, origins);",
    replace: "const deployment = parseSettings({ ...merged, environment: name }, varFile, {});",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: 'a plan\'s region "constructor" finds an inherited property of the price table',
    file: "src/review/cost.ts",
    find: "Object.hasOwn(file.regions, region)",
    replace: "region in file.regions",
    tests: ["__tests__/hostile-input.test.ts"],
  },
  {
    behaviour: "a count in a plan that is not a number drops its line from the cost table",
    file: "src/review/cost.ts",
    find: "if (Number.isNaN(monthly)) {",
    replace: "if (Number.isNaN(monthly) && false) {",
    tests: ["__tests__/hostile-input.test.ts"],
  },
];
