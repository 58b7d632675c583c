import { describe, expect, it } from "vitest";
import { parseSettings, prefectVersionOfImage } from "../src/settings";
import { FLOW_BASE_IMAGE } from "../src/flows/images";
import { DEFAULT_WORKER_IMAGE, PREFECT_IMAGE, PREFECT_VERSION } from "../src/versions";
import { TEMPLATE_ENV } from "../src/work-pool/worker-bootstrap";
import { WRITE_POOL } from "../src/work-pool/pool-shell";
import { monthlyCost, only, resources, settingsProblems, synth, synthVariant, valuesFor, type TerraformJson } from "./support/synth";

const VARIANTS_SERVER = { prefect_server: true };
const container = (json: TerraformJson, id: string) => JSON.parse(resources(json, "aws_ecs_task_definition")[id].container_definitions)[0];
const env = (c: { environment: { name: string; value: string }[] }) => Object.fromEntries(c.environment.map((e) => [e.name, e.value]));
const securityGroupId = (id: string) => `\${aws_security_group.${id}.id}`;
const rulesOf = (json: TerraformJson, type: string, groupId: string) =>
  Object.values(resources(json, type)).filter((r) => r.security_group_id === groupId);

describe("one Prefect version everywhere (the in-stack server, the worker and the flow base image)", () => {
  it("GIVEN the pinned images THEN the server's, the worker's and the flows' base image name the same Prefect version", () => {
    // Client/server skew breaks the worker's websocket (PrefectHQ/prefect#21099, #20775).
    expect(prefectVersionOfImage(PREFECT_IMAGE)).toBe(PREFECT_VERSION);
    expect(prefectVersionOfImage(DEFAULT_WORKER_IMAGE)).toBe(PREFECT_VERSION);
    expect(prefectVersionOfImage(FLOW_BASE_IMAGE)).toBe(PREFECT_VERSION);
    expect(container(synthVariant("prefect_server").json, "server_task_definition").image).toBe(PREFECT_IMAGE);
  });

  it("GIVEN image references THEN only a tag that names a Prefect version yields one", () => {
    expect(prefectVersionOfImage("prefecthq/prefect-aws:0.7.11-python3.12-prefect3.8.3")).toBe("3.8.3");
    expect(prefectVersionOfImage("prefecthq/prefect:3.6.28-python3.12")).toBe("3.6.28");
    expect(prefectVersionOfImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect:3.6.28-python3.12")).toBe("3.6.28");
    expect(prefectVersionOfImage("acme/worker:1.2.3-python3.12")).toBeUndefined();
    expect(prefectVersionOfImage("registry.example:5000/prefect")).toBeUndefined();
    // A digest pins content; the version still comes from the tag before it.
    expect(prefectVersionOfImage(`prefecthq/prefect:3.4.0-python3.12@sha256:${"a".repeat(64)}`)).toBe("3.4.0");
  });

  it("GIVEN the server with a floating tag of Prefect's image THEN it is refused; a custom image without a version is allowed", () => {
    for (const worker_image of ["prefecthq/prefect-aws:latest", "prefecthq/prefect:3-latest", "prefecthq/prefect-aws:0.7.7-python3.12"])
      expect(settingsProblems(valuesFor({ prefect_server: true, worker_image })), worker_image).toContain("is a floating tag of Prefect's image");
    expect(settingsProblems(valuesFor({ prefect_server: true, worker_image: "acme/prefect-worker:2026.11" }))).toBe("");
  });
});

describe("in-stack server settings, checked before anything reaches AWS", () => {
  it("GIVEN prefect_server alone THEN the settings are valid, and the stack targets a self-hosted server", () => {
    const { settings } = parseSettings(valuesFor({ prefect_server: true }));
    expect(settings.prefect_target).toBe("self_hosted");
  });

  it("GIVEN a database password RDS refuses THEN the message names the key and RDS's rule, never the value", () => {
    // RDS for PostgreSQL: 8-128 printable ASCII characters except /, ', ", @ and space (RDS User Guide, CHAP_Limits: "Master password").
    for (const password of ["short1!", "has/slash-in-it", "at@sign-in-it", 'quote"in-it', "space in it", "x".repeat(129)]) {
      const problems = settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_password: password }));
      expect(problems, password).toContain(
        "prefect_server_db_password = (hidden) is not valid: 8-128 printable ASCII characters except /, ', \", @ and space",
      );
      expect(problems).not.toContain(password);
    }
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_password: "Str0ng#Passw0rd-%{x}" }))).toBe("");
  });

  it("GIVEN sizes RDS does not offer THEN each is refused naming what is allowed", () => {
    // gp3 for PostgreSQL: 20-65536 GiB (RDS API AllocatedStorage); Prefect needs PostgreSQL 14.9+ and 14 leaves standard support in Feb 2027.
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_storage_gb: 19 }))).toContain(
      "prefect_server_db_storage_gb = 19 is not valid: use a whole number from 20 to 65536 GiB",
    );
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_engine_version: "14" }))).toContain('use "15", "16" or "17"');
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_instance_class: "db.t2.micro" }))).toContain(
      'prefect_server_db_instance_class = "db.t2.micro" is not valid: an RDS instance class for PostgreSQL',
    );
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_cpu: 512, prefect_server_memory: 8192 }))).toContain(
      "prefect_server_memory",
    );
  });

  it("GIVEN a namespace named after AWS's own domains THEN it is refused: a private zone there would hide AWS's endpoints from the tasks", () => {
    for (const zone of ["amazonaws.com", "s3.amazonaws.com", "ec2.internal", "us-east-1.compute.internal"])
      expect(settingsProblems(valuesFor({ service_discovery_namespace: zone })), zone).toContain("it would shadow AWS's own");
    expect(settingsProblems(valuesFor({ service_discovery_namespace: "prefect.internal" }))).toBe("");
  });

  it("GIVEN snapshot references RDS accepts (manual, automated rds:, ARN) THEN each is valid", () => {
    for (const snapshot of [
      "prefect-ecs-dev-prefect-final",
      "rds:prefect-ecs-dev-prefect-2026-11-23-05-10",
      "arn:aws:rds:us-east-1:123456789012:snapshot:rds:prefect-ecs-dev-prefect-2026-11-23-05-10",
    ])
      expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_db_restore_snapshot: snapshot })), snapshot).toBe("");
  });

  it("GIVEN the server with a worker image of another Prefect version THEN the message names both versions", () => {
    const problems = settingsProblems(valuesFor({ prefect_server: true, worker_image: "prefecthq/prefect-aws:0.7.7-python3.12-prefect3.6.28" }));
    expect(problems).toContain(`runs Prefect 3.6.28, but the in-stack server runs Prefect ${PREFECT_VERSION}`);
  });
});

describe("the in-stack server's synthesized resources", () => {
  const { json } = synthVariant("prefect_server");
  const server = container(json, "server_task_definition");
  const worker = container(json, "worker_task_definition");

  it("GIVEN prefect_server THEN one server task runs `prefect server start` on all interfaces, and never two at once", () => {
    expect(server.command).toEqual(["prefect", "server", "start", "--host", "0.0.0.0", "--port", "4200"]);
    const service = resources(json, "aws_ecs_service").server_service;
    expect(service).toMatchObject({ desired_count: 1, deployment_minimum_healthy_percent: 0, deployment_maximum_percent: 100 });
    expect(service.network_configuration.assign_public_ip).toBe(false);
    expect(server.healthCheck.command[1]).toContain("http://localhost:4200/api/health");
    expect(server.healthCheck.startPeriod).toBe(300);
  });

  it("GIVEN the server's container THEN the database arrives as PREFECT_SERVER_DATABASE_* with TLS required and the password only through secrets", () => {
    expect(env(server)).toMatchObject({
      PREFECT_SERVER_DATABASE_DRIVER: "postgresql+asyncpg",
      PREFECT_SERVER_DATABASE_HOST: "${aws_db_instance.database_instance.address}",
      PREFECT_SERVER_DATABASE_PORT: "5432",
      PREFECT_SERVER_DATABASE_NAME: "prefect",
      PREFECT_SERVER_DATABASE_USER: "prefect",
      PGSSLMODE: "require",
      PREFECT_UI_API_URL: "/api",
    });
    expect(Object.keys(env(server))).not.toContain("PREFECT_SERVER_DATABASE_PASSWORD");
    expect(server.secrets).toEqual([
      { name: "PREFECT_SERVER_DATABASE_PASSWORD", valueFrom: "${aws_secretsmanager_secret.database_password_secret.arn}" },
    ]);
  });

  it("GIVEN the database THEN it is private, encrypted, TLS-only, backed up, protected, and its password is write-only", () => {
    const db = only(json, "aws_db_instance");
    expect(db).toMatchObject({
      engine: "postgres",
      engine_version: "16",
      storage_type: "gp3",
      allocated_storage: 20,
      storage_encrypted: true,
      publicly_accessible: false,
      backup_retention_period: 7,
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "prefect-ecs-dev-prefect-final",
      copy_tags_to_snapshot: true,
      username: "prefect",
      password_wo: "${var.prefect_server_db_password}",
      password_wo_version: 1,
    });
    expect(db.password).toBeUndefined();
    expect(db.manage_master_user_password).toBeUndefined();
    expect(only(json, "aws_db_parameter_group").parameter).toContainEqual({ name: "rds.force_ssl", value: "1" });
    expect(json.variable.prefect_server_db_password).toMatchObject({ sensitive: true, ephemeral: true, nullable: false });
  });

  it("GIVEN the database THEN storage autoscaling may grow it to prefect_server_db_max_storage_gb (Prefect keeps runs and logs until deleted)", () => {
    expect(only(json, "aws_db_instance").max_allocated_storage).toBe(100);
    const fixed = only(
      synthVariant("prefect_server", { prefect_server_db_storage_gb: 50, prefect_server_db_max_storage_gb: 50 }).json,
      "aws_db_instance",
    );
    expect(fixed.max_allocated_storage).toBeUndefined();
  });

  it("GIVEN alarms THEN the server's absence, its failed tasks and a filling database notify too", () => {
    const { json: watched } = synthVariant("prefect_server", { alarm_email: "ops@example.com" });
    const alarms = resources(watched, "aws_cloudwatch_metric_alarm");
    expect(alarms.alarms_prefect_server_down_alarm).toMatchObject({
      metric_name: "RunningTaskCount",
      threshold: 1,
      comparison_operator: "LessThanThreshold",
      treat_missing_data: "breaching",
      dimensions: { ClusterName: "${aws_ecs_cluster.cluster_cluster.name}", ServiceName: "${aws_ecs_service.server_service.name}" },
    });
    expect(alarms.alarms_prefect_db_storage_low_alarm).toMatchObject({
      namespace: "AWS/RDS",
      metric_name: "FreeStorageSpace",
      threshold: 2 * 1024 ** 3,
      dimensions: { DBInstanceIdentifier: "${aws_db_instance.database_instance.identifier}" },
    });
    const rule = resources(watched, "aws_cloudwatch_event_rule").alarms_prefect_server_task_stopped;
    expect(JSON.parse(rule.event_pattern).detail.group).toEqual(["service:${aws_ecs_service.server_service.name}"]);
  });

  it("GIVEN a dev profile THEN deletion protection, the final snapshot and backups can be turned off", () => {
    const db = only(
      synthVariant("prefect_server", {
        prefect_server_db_deletion_protection: false,
        prefect_server_db_final_snapshot: false,
        prefect_server_db_backup_retention_days: 0,
      }).json,
      "aws_db_instance",
    );
    expect(db).toMatchObject({ deletion_protection: false, skip_final_snapshot: true, backup_retention_period: 0 });
    expect(db.final_snapshot_identifier).toBeUndefined();
  });

  it("GIVEN the security groups THEN the database admits only the server, and the server only the worker and flow runs", () => {
    const dbGroup = securityGroupId("database_security_group");
    const serverGroup = securityGroupId("server_security_group_security_group");
    const ingressToDb = rulesOf(json, "aws_vpc_security_group_ingress_rule", dbGroup);
    expect(ingressToDb.map((r) => [r.from_port, r.referenced_security_group_id])).toEqual([[5432, serverGroup]]);
    expect(rulesOf(json, "aws_vpc_security_group_egress_rule", dbGroup)).toEqual([]);
    const ingressToServer = rulesOf(json, "aws_vpc_security_group_ingress_rule", serverGroup);
    expect(ingressToServer.map((r) => r.referenced_security_group_id).sort()).toEqual(
      [securityGroupId("flow_run_security_group_security_group"), securityGroupId("worker_security_group_security_group")].sort(),
    );
    expect(ingressToServer.every((r) => r.from_port === 4200 && r.cidr_ipv4 === undefined)).toBe(true);
    // Nothing opens port 4200 to an address range.
    const open4200 = Object.values(resources(json, "aws_vpc_security_group_egress_rule")).filter((r) => r.from_port === 4200 && r.cidr_ipv4);
    expect(open4200).toEqual([]);
  });

  it("GIVEN Cloud Map THEN the server answers at server.<name_prefix>.internal, and the worker and template point there", () => {
    expect(only(json, "aws_service_discovery_private_dns_namespace").name).toBe("prefect-ecs-dev.internal");
    const discovery = only(json, "aws_service_discovery_service");
    expect(discovery.name).toBe("server");
    expect(discovery.dns_config.dns_records).toEqual([{ type: "A", ttl: 10 }]);
    expect(resources(json, "aws_ecs_service").server_service.service_registries).toEqual({
      registry_arn: "${aws_service_discovery_service.server_discovery.arn}",
    });
    expect(env(worker).PREFECT_API_URL).toBe("http://server.prefect-ecs-dev.internal:4200/api");
    expect(json.output.prefect_server_url.value).toBe("http://server.prefect-ecs-dev.internal:4200/api");
  });

  it("GIVEN service_discovery_namespace THEN the server joins that namespace instead of creating another", () => {
    const withNamespace = synthVariant("prefect_server", { service_discovery_namespace: "acme.internal" }).json;
    expect(Object.keys(resources(withNamespace, "aws_service_discovery_private_dns_namespace"))).toEqual(["cluster_namespace"]);
    expect(env(container(withNamespace, "worker_task_definition")).PREFECT_API_URL).toBe("http://server.acme.internal:4200/api");
  });

  it("GIVEN the work pool THEN the worker creates it from the stack's template (no null_resource: nothing outside the VPC reaches the server)", () => {
    expect(json.resource.null_resource).toBeUndefined();
    expect(worker.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(worker.command[2]).toContain(WRITE_POOL);
    expect(worker.command[2]).not.toContain("--overwrite");
    expect(worker.command[2]).not.toMatch(/\$\{|%\{/);
    expect(env(worker)).toMatchObject({
      WORK_POOL: "dev-prefect-ecs",
      WORK_QUEUES: "default high-priority",
      [TEMPLATE_ENV]: "${base64gzip(local.base_job_template)}",
    });
    expect(worker.healthCheck.startPeriod).toBe(300);
  });

  it("GIVEN the worker service THEN it starts after the server service and the resources the template names", () => {
    const dependsOn: string[] = resources(json, "aws_ecs_service").worker_service.depends_on;
    expect(dependsOn).toContain("aws_ecs_service.server_service");
    expect(dependsOn).toContain("aws_iam_role.iam_flow_run_task_role");
    expect(dependsOn).toContain("aws_cloudwatch_log_group.logs_flow_run_log_group");
  });

  it("GIVEN manage_work_pool = false THEN the worker starts without touching the pool", () => {
    const manual = container(synthVariant("prefect_server", { manage_work_pool: false }).json, "worker_task_definition");
    expect(manual.command[0]).toBe("prefect");
    expect(Object.keys(env(manual))).not.toContain(TEMPLATE_ENV);
  });

  it("GIVEN self_hosted_auth = auth_string THEN the server requires the auth string and the worker sends it, both from one secret", () => {
    const { json: withAuth } = synthVariant("prefect_server", { self_hosted_auth: "auth_string" });
    const authSecret = "${aws_secretsmanager_secret.secrets_secret.arn}";
    expect(container(withAuth, "server_task_definition").secrets).toContainEqual({ name: "PREFECT_SERVER_API_AUTH_STRING", valueFrom: authSecret });
    expect(container(withAuth, "worker_task_definition").secrets).toEqual([{ name: "PREFECT_API_AUTH_STRING", valueFrom: authSecret }]);
  });

  it("GIVEN an existing VPC THEN the plan checks the subnets span two AZs and the VPC resolves private DNS, before anything is created", () => {
    const { json: existing } = synthVariant("existing_vpc", { prefect_server: true });
    const subnets = Object.values(resources({ resource: existing.data ?? {} } as TerraformJson, "aws_subnet"));
    const last = subnets.at(-1)!;
    expect(JSON.stringify(last.lifecycle.postcondition)).toContain("length(distinct([");
    expect(JSON.stringify(last.lifecycle.postcondition)).toContain("must span at least 2 AZs");
    const vpc = only({ resource: existing.data ?? {} } as TerraformJson, "aws_vpc");
    expect(vpc.lifecycle.postcondition[0].condition).toBe("${self.enable_dns_support && self.enable_dns_hostnames}");
  });

  it("GIVEN no prefect_server THEN no database, server or Cloud Map name is created", () => {
    const cloud = synth().json;
    for (const type of ["aws_db_instance", "aws_service_discovery_service", "aws_service_discovery_private_dns_namespace"])
      expect(resources(cloud, type), type).toEqual({});
    expect(Object.keys(resources(cloud, "aws_ecs_service"))).toEqual(["worker_service"]);
  });
});

describe("npm run cost with the in-stack server", () => {
  it("GIVEN prefect_server THEN the server task, the database, its storage and Cloud Map are priced, each on its own line", () => {
    const lines = Object.fromEntries(monthlyCost(VARIANTS_SERVER).lines.map((line) => [line.item, line.monthly]));
    // 730 h: 0.5 vCPU × $0.04048 + 2 GB × $0.004445; db.t4g.micro $0.016/h; 20 GB × $0.115; one hosted zone and one registered task.
    expect(lines["Prefect server: Fargate X86_64, 1 × (0.5 vCPU, 2 GB)"]).toBeCloseTo(730 * (0.5 * 0.04048 + 2 * 0.004445), 6);
    expect(lines["RDS PostgreSQL (db.t4g.micro)"]).toBeCloseTo(730 * 0.016, 6);
    expect(lines["RDS storage (gp3)"]).toBeCloseTo(20 * 0.115, 6);
    expect(lines["Cloud Map private namespaces (Route 53 hosted zones)"]).toBe(0.5);
    expect(lines["Cloud Map registered tasks"]).toBeCloseTo(0.1, 6);
    expect(lines["Worker: Fargate X86_64, 1 × (0.5 vCPU, 1 GB)"]).toBeCloseTo(730 * (0.5 * 0.04048 + 0.004445), 6);
  });

  it("GIVEN a database class the table does not price THEN its line says so instead of guessing", () => {
    const lines = monthlyCost({ ...VARIANTS_SERVER, prefect_server_db_instance_class: "db.m7g.large" }).lines;
    expect(lines).toContainEqual({ item: "RDS db.m7g.large: not in the price table (src/review/prices.json)", quantity: "not priced", monthly: 0 });
  });
});

describe("the opt-in public HTTPS listener", () => {
  const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
  const PUBLIC = {
    prefect_server: true,
    self_hosted_auth: "auth_string",
    prefect_server_public_certificate_arn: CERT,
    prefect_server_public_cidrs: ["0.0.0.0/0"],
  };
  const { json } = synth(PUBLIC);

  it("GIVEN a certificate THEN one internet-facing ALB in the public subnets listens on HTTPS 443 only, TLS 1.2+, dropping malformed headers", () => {
    const balancer = only(json, "aws_lb");
    expect(balancer).toMatchObject({ internal: false, load_balancer_type: "application", drop_invalid_header_fields: true, idle_timeout: 60 });
    expect(balancer.subnets).toEqual(["${aws_subnet.network_public_subnet_0.id}", "${aws_subnet.network_public_subnet_1.id}"]);
    // ELB.17 / CKV_AWS_103 accept the TLS13-1-2-2021-06 family; there is no plain HTTP listener to redirect or forget.
    expect(Object.values(resources(json, "aws_lb_listener"))).toEqual([
      expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06", certificate_arn: CERT }),
    ]);
    expect(only(json, "aws_lb_target_group")).toMatchObject({
      port: 4200,
      protocol: "HTTP",
      target_type: "ip",
      health_check: { path: "/api/health" },
    });
  });

  it("GIVEN the listener THEN the server requires its auth string, and keeps connections open longer than the balancer", () => {
    const server = container(json, "server_task_definition");
    expect(server.secrets.map((s: { name: string }) => s.name)).toContain("PREFECT_SERVER_API_AUTH_STRING");
    expect(Number(env(server).PREFECT_SERVER_API_KEEPALIVE_TIMEOUT)).toBeGreaterThan(only(json, "aws_lb").idle_timeout);
    expect(resources(json, "aws_ecs_service").server_service.load_balancer).toEqual([
      { target_group_arn: "${aws_lb_target_group.public_listener_target_group.arn}", container_name: "prefect-server", container_port: 4200 },
    ]);
    expect(settingsProblems(valuesFor({ prefect_server: true, prefect_server_public_certificate_arn: CERT }))).toContain(
      'opens the server to the internet, which needs self_hosted_auth (not set, so "none") to be "auth_string"',
    );
  });

  it("GIVEN the listener's security group THEN HTTPS comes in from the allowed ranges only, and goes out to the server's API port only", () => {
    const restricted = synth({ ...PUBLIC, prefect_server_public_cidrs: ["203.0.113.0/24", "198.51.100.0/24"] }).json;
    const group = securityGroupId("public_listener_security_group");
    expect(rulesOf(restricted, "aws_vpc_security_group_ingress_rule", group).map((r) => [r.from_port, r.cidr_ipv4])).toEqual([
      [443, "203.0.113.0/24"],
      [443, "198.51.100.0/24"],
    ]);
    expect(rulesOf(restricted, "aws_vpc_security_group_egress_rule", group).map((r) => [r.from_port, r.referenced_security_group_id])).toEqual([
      [4200, securityGroupId("server_security_group_security_group")],
    ]);
    expect(
      rulesOf(restricted, "aws_vpc_security_group_ingress_rule", securityGroupId("server_security_group_security_group")).map(
        (r) => r.referenced_security_group_id,
      ),
    ).toContain(group);
  });

  it("GIVEN allowed ranges AWS would refuse THEN each is named with what to write instead", () => {
    const problems = (cidrs: string[]) => settingsProblems(valuesFor({ ...PUBLIC, prefect_server_public_cidrs: cidrs }));
    expect(problems(["203.0.113.7/24"])).toContain('"203.0.113.7/24" is not a network address (did you mean "203.0.113.0/24"?)');
    expect(problems(["010.0.0.0/8"])).toContain('IPv4 CIDR blocks such as "203.0.113.0/24"');
    expect(problems([])).toContain("it lists none");
  });

  it("GIVEN two long environments of one project THEN their balancer and target group names fit AWS's 32 characters and still differ", () => {
    const names = ["production01", "production02"].map((environment) => {
      const { json: long } = synth({ ...PUBLIC, project_name: "abcdefghijklmnopqrst", environment });
      return [only(long, "aws_lb").name, only(long, "aws_lb_target_group").name] as string[];
    });
    for (const name of names.flat()) expect(name.length, name).toBeLessThanOrEqual(32);
    expect(names[0][0]).not.toBe(names[1][0]);
    expect(names[0][1]).not.toBe(names[1][1]);
    expect(only(json, "aws_lb").name).toBe("prefect-ecs-dev-prefect-public");
  });

  it("GIVEN the listener THEN npm run cost prices the load balancer's hours and the assumed capacity units", () => {
    const line = monthlyCost(PUBLIC).lines.find((l) => l.item === "Application load balancer (public listener)");
    expect(line?.monthly).toBeCloseTo(730 * (0.0225 + 0.1 * 0.008), 6);
  });
});
