/**
 * Base job templates with what Prefect's server does with each, read from its code (3.8.3):
 * validate_base_job_template in prefect/server/schemas/actions.py and PLACEHOLDER_CAPTURE_REGEX in
 * prefect/utilities/templating/__init__.py. The fast tier checks that templateProblems and the stand-in CLI
 * agree with `server`; the real-Prefect tier checks that the real server does what `server` says.
 */
export interface TemplateCase {
  readonly name: string;
  readonly template: unknown;
  readonly server: "accepts" | "refuses";
  /** Why, in the server's code. */
  readonly because: string;
}

const props = (...names: string[]) => ({ properties: Object.fromEntries(names.map((n) => [n, { type: "string" }])) });

export const TEMPLATE_CORPUS: readonly TemplateCase[] = [
  { name: "no template at all", template: {}, server: "accepts", because: "`if v == dict(): return v`" },
  {
    name: "a declared placeholder",
    template: { job_configuration: { a: "{{ x }}" }, variables: props("x") },
    server: "accepts",
    because: "x is a property",
  },
  { name: "no variables", template: { job_configuration: { a: "x" } }, server: "refuses", because: "`not (job_config and variables_schema)`" },
  { name: "no job_configuration", template: { variables: props("x") }, server: "refuses", because: "`not (job_config and variables_schema)`" },
  {
    name: "an empty job_configuration",
    template: { job_configuration: {}, variables: props("x") },
    server: "refuses",
    because: "an empty dict is false",
  },
  { name: "empty variables", template: { job_configuration: { a: "x" }, variables: {} }, server: "refuses", because: "an empty dict is false" },
  {
    name: "variables without properties and no placeholder",
    template: { job_configuration: { a: "x" }, variables: { type: "object" } },
    server: "accepts",
    because: '`variables_schema.get("properties", {})`',
  },
  {
    name: "variables without properties and a placeholder",
    template: { job_configuration: { a: "{{ x }}" }, variables: { type: "object" } },
    server: "refuses",
    because: "x is not among no properties",
  },
  {
    name: "an undeclared block reference",
    template: { job_configuration: { a: "{{ prefect.blocks.secret.x }}" }, variables: props("x") },
    server: "refuses",
    because: "no prefix is exempt",
  },
  {
    name: "a block reference declared as a property",
    template: { job_configuration: { a: "{{ prefect.blocks.secret.x }}" }, variables: props("prefect.blocks.secret.x") },
    server: "accepts",
    because: "the name is a property",
  },
  {
    name: "an environment reference",
    template: { job_configuration: { a: "{{ $HOME }}" }, variables: props("x") },
    server: "refuses",
    because: "$ is in the regex; no prefix is exempt",
  },
  {
    name: "a placeholder as a key of a nested object",
    template: { job_configuration: { td: { "{{ k }}": "v" } }, variables: props("x") },
    server: "refuses",
    because: "each value is scanned as `json.dumps` text, keys included",
  },
  {
    name: "a placeholder as a key of job_configuration itself",
    template: { job_configuration: { "{{ k }}": "v" }, variables: props("x") },
    server: "accepts",
    because: "only `job_config.values()` are scanned",
  },
  {
    name: "a placeholder in a list",
    template: { job_configuration: { a: ["x", "{{ y }}"] }, variables: props("x") },
    server: "refuses",
    because: "lists are scanned as JSON text",
  },
  {
    name: "no spaces inside the braces",
    template: { job_configuration: { a: "{{y}}" }, variables: props("x") },
    server: "refuses",
    because: "`\\s*` allows none",
  },
  {
    name: "a slash inside the braces",
    template: { job_configuration: { a: "{{ a/b }}" }, variables: props("x") },
    server: "accepts",
    because: "`/` is not in `[\\w\\.\\-\\[\\]$]`: no placeholder",
  },
  {
    name: "a space inside the name",
    template: { job_configuration: { a: "{{ a b }}" }, variables: props("x") },
    server: "accepts",
    because: "the regex cannot span the space: no placeholder",
  },
  {
    name: "a non-ASCII name",
    template: { job_configuration: { a: "{{ é }}" }, variables: props("x") },
    server: "accepts",
    because: "`json.dumps` writes \\u00e9, which the regex cannot match",
  },
  {
    name: "a placeholder after a newline",
    template: { job_configuration: { a: "line\n{{ x }}" }, variables: props("x") },
    server: "accepts",
    because: "x is a property",
  },
  {
    name: "job_configuration as text",
    template: { job_configuration: "{{ x }}", variables: props("x") },
    server: "refuses",
    because: "`job_config.values()` fails on a str",
  },
  {
    name: "properties as a list",
    template: { job_configuration: { a: "{{ x }}" }, variables: { properties: ["x"] } },
    server: "refuses",
    because: "`.keys()` fails on a list",
  },
];
