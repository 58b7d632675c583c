import { describe, expect, it } from "vitest";
import reference from "../src/work-pool/prefect-aws-ecs-base-job-template.json";
import { TEMPLATE_CORPUS } from "./support/template-corpus";
import { buildBaseJobTemplate, placeholdersIn, type TemplateValues, templateProblems } from "../src/work-pool/template";
import { expectNoCanary, SECRET_CANARIES, synth, VARIANTS, type Variant } from "./support/synth";

const VALUES: TemplateValues = {
  clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/prefect-ecs-dev",
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
  securityGroupIds: ["sg-0123456789abcdef0"],
  executionRoleArn: "arn:aws:iam::123456789012:role/prefect-ecs-dev-flow-run-execution",
  taskRoleArn: "arn:aws:iam::123456789012:role/prefect-ecs-dev-flow-run-task",
  image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev/flows:latest",
  cpu: 1024,
  memory: 2048,
  spot: false,
  region: "us-east-1",
  logGroupName: "/ecs/prefect-ecs-dev/flow-runs",
  credential: { envName: "PREFECT_API_KEY", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbC123" },
};
const defaultOf = (template: ReturnType<typeof buildBaseJobTemplate>, name: string) => template.variables.properties[name].default;

describe("base job template: faithful to prefect-aws", () => {
  const template = buildBaseJobTemplate(VALUES);

  it("keeps every job_configuration key of the reference, with the same placeholders", () => {
    expect(Object.keys(template.job_configuration).sort()).toEqual(Object.keys(reference.job_configuration).sort());
    expect(placeholdersIn(template.job_configuration)).toEqual(placeholdersIn(reference.job_configuration));
  });

  it("keeps every variable of the reference and only adds defaults", () => {
    const { properties } = template.variables;
    expect(Object.keys(properties).sort()).toEqual(Object.keys(reference.variables.properties).sort());
    for (const [name, property] of Object.entries(reference.variables.properties)) {
      const { default: _ignored, ...rest } = properties[name];
      const { default: _ref, ...referenceRest } = property as Record<string, unknown>;
      expect(rest, name).toEqual(referenceRest);
    }
    expect(template.variables.definitions).toEqual(reference.variables.definitions);
  });

  it("does not change the vendored reference between calls", () => {
    buildBaseJobTemplate({ ...VALUES, spot: true, efs: { fileSystemId: "fs-1", accessPointId: "fsap-1", mountPath: "/mnt/efs" } });
    expect((reference.job_configuration.task_definition as Record<string, unknown>).volumes).toBeUndefined();
    expect((reference.variables.properties.cluster as Record<string, unknown>).default).toBeNull();
  });
});

describe("base job template: this stack's values as defaults", () => {
  const template = buildBaseJobTemplate(VALUES);

  it.each([
    ["cluster", VALUES.clusterArn],
    ["vpc_id", VALUES.vpcId],
    ["execution_role_arn", VALUES.executionRoleArn],
    ["task_role_arn", VALUES.taskRoleArn],
    ["image", VALUES.image],
    ["cpu", 1024],
    ["memory", 2048],
    ["launch_type", "FARGATE"],
    ["configure_cloudwatch_logs", true],
    ["prefect_api_key_secret_arn", VALUES.credential!.valueFrom],
    ["match_latest_revision_in_family", true],
    ["container_name", "prefect"],
  ])("sets %s", (name, value) => {
    expect(defaultOf(template, name)).toEqual(value);
  });

  it("runs flow runs in the private subnets and flow-run security group, without a public IP", () => {
    expect(defaultOf(template, "network_configuration")).toEqual({
      subnets: VALUES.subnetIds,
      securityGroups: VALUES.securityGroupIds,
      assignPublicIp: "DISABLED",
    });
  });

  it("sends flow-run logs to the flow-run log group", () => {
    expect(defaultOf(template, "cloudwatch_logs_options")).toEqual({
      "awslogs-group": "/ecs/prefect-ecs-dev/flow-runs",
      "awslogs-region": "us-east-1",
      "awslogs-stream-prefix": "flow-run",
    });
  });

  it("GIVEN flow_run_spot THEN flow runs use FARGATE_SPOT through launch_type alone, so a deployment's launch_type override wins (ecs_worker.py _prepare_task_run_request)", () => {
    const spot = buildBaseJobTemplate({ ...VALUES, spot: true });
    expect(defaultOf(spot, "launch_type")).toBe("FARGATE_SPOT");
    expect(defaultOf(spot, "capacity_provider_strategy")).toBeUndefined();
    expect(defaultOf(template, "capacity_provider_strategy")).toBeUndefined();
  });

  it("leaves family unset, so the worker keeps one task definition family per deployment (ecs_worker.py _get_or_generate_family)", () => {
    expect(defaultOf(template, "family")).toBeNull();
    expect(defaultOf(template, "match_latest_revision_in_family")).toBe(true);
  });

  it("GIVEN an auth string THEN flow runs read it from its secret instead of an API key", () => {
    const selfHosted = buildBaseJobTemplate({ ...VALUES, credential: { envName: "PREFECT_API_AUTH_STRING", valueFrom: "arn:s" } });
    expect(defaultOf(selfHosted, "prefect_api_auth_string_secret_arn")).toBe("arn:s");
    expect(defaultOf(selfHosted, "prefect_api_key_secret_arn")).toBeNull();
  });

  it("GIVEN EFS THEN the task definition gets an encrypted, IAM-authorized access-point volume mounted on the flow container", () => {
    const efs = buildBaseJobTemplate({ ...VALUES, efs: { fileSystemId: "fs-1", accessPointId: "fsap-1", mountPath: "/data" } });
    const taskDefinition = efs.job_configuration.task_definition;
    expect(taskDefinition.volumes).toEqual([
      {
        name: "efs",
        // rootDirectory as ECS returns it, so the worker's exact comparison matches (ecs_worker.py _task_definitions_equal).
        efsVolumeConfiguration: {
          fileSystemId: "fs-1",
          rootDirectory: "/",
          transitEncryption: "ENABLED",
          authorizationConfig: { accessPointId: "fsap-1", iam: "ENABLED" },
        },
      },
    ]);
    expect(taskDefinition.containerDefinitions[0]).toEqual({
      image: "{{ image }}",
      name: "{{ container_name }}",
      mountPoints: [{ sourceVolume: "efs", containerPath: "/data", readOnly: false }],
    });
  });

  it.each([
    ["prefect_api_key", {}, "prefect_api_key_secret_arn"],
    ["prefect_api_auth_string", VARIANTS.self_hosted, "prefect_api_auth_string_secret_arn"],
  ] as const)("GIVEN %s to the app THEN the stack's template holds the secret's ARN, never the value", (key, variant, arnVariable) => {
    const { json } = synth({ ...variant, [key]: SECRET_CANARIES[key] });
    const stackTemplate = JSON.parse((json as any).locals.base_job_template);
    expect(stackTemplate.variables.properties[arnVariable].default).toBe("${aws_secretsmanager_secret.secrets_secret.arn}");
    expectNoCanary(JSON.stringify(stackTemplate), "the base job template");
  });
});

// Prefect's rule, as prefect/server/schemas/actions.py validate_base_job_template (3.8.3) enforces it: `{}`, or
// both sections non-empty, every placeholder of job_configuration declared in variables.properties, no exemptions.
describe("Prefect's server validation rule", () => {
  it("rejects a template whose variables or job_configuration is missing or empty (the server's 422)", () => {
    expect(templateProblems({ job_configuration: { a: "x" } })).toEqual(["variables is missing or empty"]);
    expect(templateProblems({ variables: { properties: {} } })).toEqual(["job_configuration is missing or empty"]);
    expect(templateProblems({ job_configuration: {}, variables: { properties: { a: {} } } })).toEqual(["job_configuration is missing or empty"]);
    expect(templateProblems({ job_configuration: { a: "x" }, variables: {} })).toEqual(["variables is missing or empty"]);
  });

  it("rejects a placeholder that is not a variable, block and variable references included (the server exempts none)", () => {
    const template = {
      job_configuration: { a: "{{ known }}", b: ["x {{ missing }}"], c: "{{ prefect.blocks.secret.x }}", d: { e: "{{prefect.variables.v}}" } },
      variables: { properties: { known: {} } },
    };
    expect(templateProblems(template)).toEqual([
      "job_configuration uses {{ missing }}, which is not a key of variables.properties",
      "job_configuration uses {{ prefect.blocks.secret.x }}, which is not a key of variables.properties",
      "job_configuration uses {{ prefect.variables.v }}, which is not a key of variables.properties",
    ]);
  });

  it.each(TEMPLATE_CORPUS.map((c) => [c.name, c] as const))("agrees with the server on %s", (_, c) => {
    // The real-Prefect tier checks the same corpus against the real server (__tests__/prefect/templates.test.ts).
    expect(templateProblems(c.template).length === 0 ? "accepts" : "refuses", c.because).toBe(c.server);
  });

  it.each(Object.keys(VARIANTS) as Variant[])("accepts the template the %s stack renders", (variant) => {
    const { json } = synth({ ...VARIANTS[variant], flow_run_efs: true, flow_run_spot: variant === "default" });
    expect(templateProblems(JSON.parse((json as any).locals.base_job_template))).toEqual([]);
  });

  it("accepts the template of the pure function for every option combination", () => {
    for (const spot of [false, true]) {
      for (const efs of [undefined, { fileSystemId: "fs-1", accessPointId: "fsap-1", mountPath: "/mnt/efs" }]) {
        expect(templateProblems(buildBaseJobTemplate({ ...VALUES, spot, efs }))).toEqual([]);
      }
    }
  });
});
