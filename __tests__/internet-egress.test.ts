import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AL2023_ARM64_PARAMETER } from "../src/network/nat-instance";
import { readTfvars } from "../src/settings/tfvars";
import { monthlyCost, only, resources, settingsProblems, synth, type TerraformJson, VARIANTS } from "./support/synth";

const ROOT = join(__dirname, "..");
const byId = (json: TerraformJson, type: string, id: string) => {
  const found = resources(json, type)[id];
  if (!found) throw new Error(`no ${type}.${id} in ${Object.keys(resources(json, type)).join(", ")}`);
  return found;
};

describe("internet_egress: settings", () => {
  it("GIVEN no setting THEN tasks leave through one NAT gateway, as before", () => {
    const { json } = synth();
    expect(Object.keys(resources(json, "aws_nat_gateway"))).toHaveLength(1);
    expect(json.resource.aws_autoscaling_group).toBeUndefined();
  });

  it("GIVEN an existing VPC WHEN internet_egress is set THEN it is refused, naming both keys", () => {
    const message = settingsProblems({ ...VARIANTS.existing_vpc, internet_egress: "nat_instance" });
    expect(message).toContain("internet_egress only applies to a new VPC");
    expect(message).toContain('existing_vpc_id = "vpc-0123456789abcdef0"');
  });

  it.each([
    [{ internet_egress: "nat_instance", nat_gateway_mode: "per_az" }, "nat_gateway_mode", '"nat_gateway"', 'internet_egress = "nat_instance"'],
    [
      { internet_egress: "public_subnets", nat_instance_type: "t4g.micro" },
      "nat_instance_type",
      '"nat_instance"',
      'internet_egress = "public_subnets"',
    ],
    [{ nat_instance_ami_id: "ami-0123456789abcdef0" }, "nat_instance_ami_id", '"nat_instance"', 'internet_egress (not set, so "nat_gateway")'],
  ])("GIVEN %o THEN the key of another mode is refused, naming the mode it belongs to", (values, key, mode, current) => {
    const message = settingsProblems(values);
    expect(message).toContain(`${key} only applies with internet_egress = ${mode}, but ${current}; remove ${key}`);
  });

  it("GIVEN public subnets WHEN interface endpoints are asked for THEN they are refused: tasks with public IPs reach AWS directly", () => {
    expect(settingsProblems({ internet_egress: "public_subnets", vpc_interface_endpoints: true })).toContain(
      'vpc_interface_endpoints = true with internet_egress = "public_subnets"',
    );
  });

  // The NAT image is Amazon Linux 2023 for arm64: an x86 type would not boot it (EC2 refuses the launch).
  it.each(["t3.nano", "m5.large", "t4g", "T4G.NANO", "t4g.nano; reboot", "t4g.metal", "c7g.nano", "x9g.large", "t4g.0xlarge"])(
    "GIVEN nat_instance_type = %s THEN it is refused as not an ARM type",
    (type) => {
      expect(settingsProblems({ internet_egress: "nat_instance", nat_instance_type: type })).toContain("an ARM (Graviton) EC2 instance type");
    },
  );

  it.each(["t4g.nano", "t4g.micro", "t4g.2xlarge", "c7gn.medium", "m6gd.xlarge", "c6g.12xlarge", "r8g.large"])(
    "GIVEN nat_instance_type = %s THEN it is accepted",
    (type) => {
      expect(settingsProblems({ internet_egress: "nat_instance", nat_instance_type: type })).toBe("");
    },
  );

  it("GIVEN a non-burstable type THEN the launch template sets no CPU credit specification (T types only take one)", () => {
    const { json } = synth({ ...VARIANTS.nat_instance, nat_instance_type: "c7gn.medium" });
    expect(byId(json, "aws_launch_template", "network_nat_instance_launch_template").credit_specification).toBeUndefined();
  });

  it("GIVEN a malformed AMI id THEN it is refused", () => {
    expect(settingsProblems({ internet_egress: "nat_instance", nat_instance_ami_id: "ami-${var.x}" })).toContain("nat_instance_ami_id");
  });
});

describe("internet_egress = nat_instance", () => {
  const { json } = synth(VARIANTS.nat_instance);
  const policy = JSON.parse(byId(json, "aws_iam_role_policy", "network_nat_instance_role_policy").policy);
  const template = byId(json, "aws_launch_template", "network_nat_instance_launch_template");

  it("GIVEN the stack THEN there is no NAT gateway, one Elastic IP, and every private route targets the static interface", () => {
    expect(json.resource.aws_nat_gateway).toBeUndefined();
    expect(Object.keys(resources(json, "aws_eip"))).toEqual(["network_nat_instance_elastic_ip"]);
    const routes = Object.entries(resources(json, "aws_route")).filter(([id]) => id.startsWith("network_private_default_route_"));
    expect(routes).toHaveLength(2);
    for (const [, route] of routes) {
      expect(route.network_interface_id).toBe("${aws_network_interface.network_nat_instance_network_interface.id}");
      expect(route.nat_gateway_id).toBeUndefined();
    }
    expect(byId(json, "aws_network_interface", "network_nat_instance_network_interface").source_dest_check).toBe(false);
  });

  it("GIVEN the instance THEN it is a group of exactly one in the interface's subnet, replaced old-first when its template changes", () => {
    const group = byId(json, "aws_autoscaling_group", "network_nat_instance_autoscaling_group");
    expect(group).toMatchObject({ min_size: 1, max_size: 1, desired_capacity: 1, health_check_type: "EC2" });
    expect(group.vpc_zone_identifier).toEqual([byId(json, "aws_network_interface", "network_nat_instance_network_interface").subnet_id]);
    expect(group.instance_refresh).toEqual({ strategy: "Rolling", preferences: { min_healthy_percentage: 0 } });
    expect(group.launch_template.version).toBe("${aws_launch_template.network_nat_instance_launch_template.latest_version}");
  });

  it("GIVEN the launch template THEN IMDSv2 only with one hop, an encrypted volume, no SSH key, standard CPU credits and the given image", () => {
    expect(template.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
    expect(template.block_device_mappings[0].ebs).toMatchObject({ encrypted: "true", volume_type: "gp3", delete_on_termination: "true" });
    expect(template.key_name).toBeUndefined();
    expect(template.credit_specification).toEqual({ cpu_credits: "standard" });
    expect(template.image_id).toBe("ami-0123456789abcdef0");
    expect(template.instance_type).toBe("t4g.nano");
    expect(json.data?.aws_ssm_parameter).toBeUndefined();
  });

  it("GIVEN no nat_instance_ami_id THEN the image is the latest Amazon Linux 2023 arm64, read from AWS's public parameter at plan", () => {
    const lookedUp = synth({ internet_egress: "nat_instance" }).json;
    const parameter = Object.values(lookedUp.data!.aws_ssm_parameter)[0];
    expect(parameter.name).toBe(AL2023_ARM64_PARAMETER);
    expect(byId(lookedUp, "aws_launch_template", "network_nat_instance_launch_template").image_id).toMatch(
      /^\$\{data\.aws_ssm_parameter\.[a-z_]+\.insecure_value\}$/,
    );
  });

  it("GIVEN its security group THEN only the VPC's own range may reach the instance", () => {
    const ingress = Object.values(resources(json, "aws_vpc_security_group_ingress_rule")).filter(
      (rule) => rule.security_group_id === "${aws_security_group.network_nat_instance_security_group.id}",
    );
    expect(ingress).toEqual([expect.objectContaining({ cidr_ipv4: "10.0.0.0/16", ip_protocol: "-1" })]);
  });

  it("GIVEN its role THEN it may claim only this interface and address, and change only instances named as the stack's NAT", () => {
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Sid: "ThisInterface",
        Action: "ec2:AttachNetworkInterface",
        Resource: "${aws_network_interface.network_nat_instance_network_interface.arn}",
      },
      { Effect: "Allow", Sid: "ThisAddress", Action: "ec2:AssociateAddress", Resource: "${aws_eip.network_nat_instance_elastic_ip.arn}" },
      expect.objectContaining({
        Sid: "OwnInstances",
        Action: ["ec2:AttachNetworkInterface", "ec2:AssociateAddress", "ec2:ModifyInstanceAttribute"],
        Resource: expect.stringMatching(/:instance\/\*$/),
        Condition: { StringEquals: { "ec2:ResourceTag/Name": "prefect-ecs-dev-nat" } },
      }),
    ]);
    const group = byId(json, "aws_autoscaling_group", "network_nat_instance_autoscaling_group");
    expect(group.tag).toEqual([{ key: "Name", value: "prefect-ecs-dev-nat", propagate_at_launch: true }]);
  });

  it("GIVEN the worker THEN it waits for the NAT instance's group, not for a NAT gateway", () => {
    const worker = byId(json, "aws_ecs_service", "worker_service");
    expect(worker.depends_on).toContain("aws_autoscaling_group.network_nat_instance_autoscaling_group");
    expect(worker.network_configuration.assign_public_ip).toBe(false);
  });
});

/**
 * The NAT instance's boot script, as Terraform renders it, run by bash with stand-ins (test doubles) for the
 * commands it calls: curl (IMDS), aws, dnf, sysctl, systemctl, ip, tee and sleep. What is under test is the
 * script's own logic: its order, its retries and its failure.
 */
function runBootScript(options: { attachFailures: number }) {
  const { json } = synth(VARIANTS.nat_instance);
  const rendered = (json as any).locals.network_nat_instance_boot_script
    .replace("${aws_network_interface.network_nat_instance_network_interface.id}", "eni-0static")
    .replace("${aws_eip.network_nat_instance_elastic_ip.allocation_id}", "eipalloc-0stable");
  const dir = mkdtempSync(join(tmpdir(), "nat-boot-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const log = join(dir, "calls.log");
  const standIn = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> "${log}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  standIn("curl", 'case "$*" in *api/token*) echo TOKEN;; *instance-id) echo i-0new;; *placement/region) echo us-east-1;; esac');
  standIn("ip", "echo 'default via 10.0.0.1 dev ens5 proto dhcp src 10.0.0.10 metric 512'");
  standIn("tee", `cat > "${dir}/$(basename "$1")"`);
  standIn(
    "aws",
    `if [ "$2" = attach-network-interface ]; then n=$(cat "${dir}/attach" 2>/dev/null || echo 0); echo $((n+1)) > "${dir}/attach"; [ "$n" -ge "$ATTACH_FAILURES" ] || exit 255; fi`,
  );
  for (const name of ["dnf", "sysctl", "systemctl", "sleep"]) standIn(name, "");
  const result = spawnSync("bash", ["-c", rendered], {
    env: { PATH: `${bin}:/usr/bin:/bin`, ATTACH_FAILURES: String(options.attachFailures) },
    encoding: "utf8",
  });
  const calls = readFileSync(log, "utf8").trim().split("\n");
  const file = (name: string) => readFileSync(join(dir, name), "utf8");
  return { rendered, result, calls, file };
}

describe("the NAT instance's boot script", () => {
  it("GIVEN the synthesized script THEN bash parses it, and it holds no Terraform template syntax besides its two references", () => {
    const { rendered } = runBootScript({ attachFailures: 0 });
    expect(spawnSync("bash", ["-n", "-c", rendered]).status).toBe(0);
    expect(rendered).not.toMatch(/\$\{|%\{/);
  });

  it("GIVEN a fresh instance WHEN it boots THEN it forwards and masquerades the VPC range, turns off its check, takes the address, then attaches the interface", () => {
    const { result, calls, file } = runBootScript({ attachFailures: 0 });
    expect(result.status, result.stderr).toBe(0);
    expect(file("90-nat-instance.conf")).toContain("net.ipv4.ip_forward = 1");
    expect(file("90-nat-instance.conf")).toContain("net.ipv4.conf.all.rp_filter = 0");
    expect(file("nftables.conf")).toContain('ip saddr 10.0.0.0/16 oifname "ens5" masquerade');
    const aws = calls.filter((c) => c.startsWith("aws "));
    expect(aws).toEqual([
      "aws ec2 modify-instance-attribute --instance-id i-0new --no-source-dest-check",
      "aws ec2 associate-address --allocation-id eipalloc-0stable --instance-id i-0new --allow-reassociation",
      "aws ec2 attach-network-interface --network-interface-id eni-0static --instance-id i-0new --device-index 1",
    ]);
    // The token-protected metadata service only (IMDSv2).
    expect(calls.filter((c) => c.startsWith("curl ")).every((c) => c.includes("X-aws-ec2-metadata-token"))).toBe(true);
  });

  it("GIVEN the replaced instance still holds the interface for a while THEN the script keeps trying and succeeds", () => {
    const { result, calls } = runBootScript({ attachFailures: 5 });
    expect(result.status, result.stderr).toBe(0);
    expect(calls.filter((c) => c.startsWith("aws ec2 attach-network-interface"))).toHaveLength(6);
  });

  it("GIVEN the interface never frees up THEN the script fails after 30 tries, saying which interface", () => {
    const { result, calls } = runBootScript({ attachFailures: 1000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("could not attach eni-0static to i-0new");
    expect(calls.filter((c) => c.startsWith("aws ec2 attach-network-interface"))).toHaveLength(30);
  });
});

describe("internet_egress = public_subnets", () => {
  const { json } = synth(VARIANTS.public_subnets);
  const publicSubnets = ["${aws_subnet.network_public_subnet_0.id}", "${aws_subnet.network_public_subnet_1.id}"];

  it("GIVEN the stack THEN there are no private subnets and no NAT, and no subnet hands out public IPs", () => {
    const subnets = resources(json, "aws_subnet");
    expect(Object.keys(subnets).sort()).toEqual(["network_public_subnet_0", "network_public_subnet_1"]);
    expect(Object.values(subnets).every((s) => s.map_public_ip_on_launch === false)).toBe(true);
    for (const type of ["aws_nat_gateway", "aws_eip", "aws_autoscaling_group"]) expect(json.resource[type]).toBeUndefined();
  });

  it("GIVEN the worker and the flow-run template THEN both run in the public subnets with a public IP, and their security groups still admit nothing", () => {
    const worker = byId(json, "aws_ecs_service", "worker_service");
    expect(worker.network_configuration).toMatchObject({ subnets: publicSubnets, assign_public_ip: true });
    const template = JSON.parse((json as any).locals.base_job_template);
    expect(template.variables.properties.network_configuration.default).toMatchObject({ subnets: publicSubnets, assignPublicIp: "ENABLED" });
    expect(json.resource.aws_vpc_security_group_ingress_rule).toBeUndefined();
    expect(json.output.public_subnet_ids.value).toEqual(publicSubnets);
    expect(json.output.private_subnet_ids).toBeUndefined();
  });

  it("GIVEN the S3 gateway endpoint THEN it serves the public route table the tasks use", () => {
    expect(byId(json, "aws_vpc_endpoint", "network_s3_gateway_endpoint").route_table_ids).toEqual([
      "${aws_route_table.network_public_route_table.id}",
    ]);
  });

  it("GIVEN EFS THEN its mount targets are in the subnets the flow runs use", () => {
    const efs = synth({ ...VARIANTS.public_subnets, flow_run_efs: true }).json;
    expect(Object.values(resources(efs, "aws_efs_mount_target")).map((m) => m.subnet_id)).toEqual(publicSubnets);
  });
});

describe("container_insights", () => {
  it("GIVEN container_insights = false THEN the cluster turns it off and the cost has no Container Insights line", () => {
    const { json } = synth({ container_insights: false });
    expect(byId(json, "aws_ecs_cluster", "cluster_cluster").setting).toEqual([{ name: "containerInsights", value: "disabled" }]);
    expect(monthlyCost({ container_insights: false }).lines.map((l) => l.item)).not.toContain("Container Insights metrics");
    expect(monthlyCost({ container_insights: true }).lines.map((l) => l.item)).toContain("Container Insights metrics");
  });

  it("GIVEN container_insights unset THEN it is on exactly when alarms are, so nothing pays for metrics no alarm reads", () => {
    const setting = (values: Record<string, unknown>) => byId(synth(values).json, "aws_ecs_cluster", "cluster_cluster").setting[0].value;
    expect(setting({})).toBe("disabled");
    expect(setting({ alarm_email: "ops@example.com" })).toBe("enabled");
    expect(setting({ alarm_sns_topic_arn: "arn:aws:sns:us-east-1:123456789012:ops" })).toBe("enabled");
    expect(setting({ alarm_email: "ops@example.com", container_insights: false })).toBe("disabled");
    expect(setting({ container_insights: true })).toBe("enabled");
  });
});

describe("internet_egress: what each mode costs", () => {
  it("GIVEN the NAT instance THEN the estimate has the instance hours, its volume and one address, and no gateway hours", () => {
    const lines = monthlyCost(VARIANTS.nat_instance).lines;
    const items = Object.fromEntries(lines.map((l) => [l.item, l]));
    // t4g.nano $0.0042 an hour; gp3 $0.08 per GB-month (src/review/prices.json).
    expect(items["NAT instance (t4g.nano)"].monthly).toBeCloseTo(730 * 0.0042, 6);
    expect(items["NAT instance root volume (gp3)"].monthly).toBeCloseTo(8 * 0.08, 6);
    expect(items["Public IPv4 addresses (Elastic IPs)"].monthly).toBeCloseTo(730 * 0.005, 6);
    expect(items["NAT gateway hours"]).toBeUndefined();
    expect(items["NAT data processing (assumed)"]).toBeUndefined();
    expect(items["Cross-AZ traffic to the NAT instance (assumed)"]).toBeDefined();
  });

  it("GIVEN an instance type the price table lacks THEN the line says so instead of guessing", () => {
    const lines = monthlyCost({ ...VARIANTS.nat_instance, nat_instance_type: "c7g.large" }).lines;
    expect(lines.map((l) => l.item)).toContain("NAT instance c7g.large: not in the price table (src/review/prices.json)");
  });

  it("GIVEN public subnets with two workers THEN each worker task's public IP is priced", () => {
    const lines = monthlyCost({ ...VARIANTS.public_subnets, worker_desired_count: 2 }).lines;
    expect(lines.find((l) => l.item === "Public IPv4 addresses (worker tasks)")?.monthly).toBeCloseTo(2 * 730 * 0.005, 6);
    expect(lines.map((l) => l.item).filter((item) => item.startsWith("NAT"))).toEqual([]);
  });
});

describe("the starter profiles, priced by npm run cost", () => {
  /** Copies an example into a scratch project's environments/ and runs the real cost command there. */
  const priced = (example: string, compare = false) => {
    const project = mkdtempSync(join(tmpdir(), "starter-"));
    mkdirSync(join(project, "environments"));
    cpSync(join(ROOT, "examples", example), join(project, "environments", "starter.tfvars"));
    const run = spawnSync(
      join(ROOT, "node_modules", ".bin", "tsx"),
      [join(ROOT, "scripts", "cost.ts"), "starter", ...(compare ? ["--compare"] : [])],
      {
        cwd: project,
        encoding: "utf8",
      },
    );
    expect(run.status, run.stderr).toBe(0);
    return { output: run.stdout, total: Number(/\*\*\$([\d.]+) per month\*\*/.exec(run.stdout)![1]) };
  };

  it("GIVEN examples/starter.tfvars (NAT instance) THEN npm run cost prints at most $15 a month, with no NAT gateway", () => {
    const { output, total } = priced("starter.tfvars");
    expect(total).toBeLessThanOrEqual(15);
    expect(output).toContain("NAT instance (t4g.nano)");
    expect(output).not.toContain("NAT gateway hours");
  });

  it("GIVEN examples/starter-public.tfvars THEN npm run cost prints at most $10 a month", () => {
    const { output, total } = priced("starter-public.tfvars");
    expect(total).toBeLessThanOrEqual(10);
    expect(output).toContain("Public IPv4 addresses (worker tasks)");
  });

  it.each([
    ["starter.tfvars", false],
    ["starter-public.tfvars", true],
  ])(
    "GIVEN examples/%s as the app reads it THEN no security group admits traffic from outside the VPC, the credential is only a Secrets Manager reference, and every log group expires",
    async (example, publicIp) => {
      const values = await readTfvars(join(ROOT, "examples", example));
      expect(Object.keys(values).length).toBeGreaterThan(3);
      const { json } = synth(values);
      // The worker's own security group and the flow runs' admit nothing; only a NAT instance takes traffic, from the VPC.
      const ingress = Object.values(resources(json, "aws_vpc_security_group_ingress_rule"));
      for (const rule of ingress) {
        expect(rule.security_group_id).toBe("${aws_security_group.network_nat_instance_security_group.id}");
        expect(rule.cidr_ipv4).toBe("10.0.0.0/16");
      }
      expect(ingress).toHaveLength(values.internet_egress === "nat_instance" ? 1 : 0);
      for (const group of Object.values(resources(json, "aws_security_group"))) expect(group.ingress ?? []).toEqual([]);
      const service = only(json, "aws_ecs_service");
      expect(service.network_configuration.assign_public_ip).toBe(publicIp);
      const worker = JSON.parse(resources(json, "aws_ecs_task_definition").worker_task_definition.container_definitions)[0];
      expect(worker.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: "${aws_secretsmanager_secret.secrets_secret.arn}" }]);
      expect((worker.environment ?? []).map((e: { name: string }) => e.name)).not.toContain("PREFECT_API_KEY");
      const groups = Object.values(resources(json, "aws_cloudwatch_log_group"));
      expect(groups.length).toBeGreaterThanOrEqual(2);
      for (const group of groups) expect(group.retention_in_days).toBeGreaterThan(0);
    },
  );

  it("GIVEN --compare THEN there is a row per egress mode, and modes these settings rule out are shown, not priced", () => {
    const { output } = priced("starter.tfvars", true);
    expect(output).toMatch(/\| one NAT instance \(`internet_egress = "nat_instance"`\) \| \$[\d.]+ \| /);
    expect(output).toMatch(/\| no NAT, tasks in public subnets \(`internet_egress = "public_subnets"`\) \| \$[\d.]+ \| /);
    // The starter file turns Container Insights off, so the comparison prices turning it on.
    expect(output).toMatch(/\| Container Insights on \(`container_insights = true`\) \| \$[\d.]+ \| \+\$[\d.]+ \|/);
    // The starter file sets internet_egress itself, so "NAT gateway per AZ" contradicts it.
    expect(output).toContain('| NAT gateway per AZ (`nat_gateway_mode = "per_az"`) | n/a | not with these settings |');
    // The in-stack server needs private subnets: priced beside a NAT instance, refused with public subnets.
    expect(output).toMatch(/\| in-stack Prefect server and database \(`prefect_server = true`\) \| \$[\d.]+ \| \+\$[\d.]+ \|/);
    expect(priced("starter-public.tfvars", true).output).toContain(
      "| in-stack Prefect server and database (`prefect_server = true`) | n/a | not with these settings |",
    );
  });
});
