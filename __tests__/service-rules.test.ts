import { describe, expect, it } from "vitest";
import { parseSettings, SettingsError } from "../src/settings";
import { MAX_STACK_TAGS_PER_RESOURCE, STACK_TAG_KEYS } from "../src/settings/service-rules";
import { resources, synth } from "./support/synth";

/** Every problem parseSettings reports for these values; fails the test when they are accepted. */
function problemsFor(values: Record<string, unknown>): string {
  try {
    parseSettings(values, "terraform.tfvars");
  } catch (error) {
    if (error instanceof SettingsError) return error.problems.join("\n");
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be rejected`);
}
const accepts = (values: Record<string, unknown>) => expect(() => parseSettings(values, "terraform.tfvars")).not.toThrow();

describe("Prefect's reserved work pool names (PrefectHQ/prefect src/prefect/server/api/workers.py: create, update and delete refuse names starting with 'prefect', any case, with 403)", () => {
  it("GIVEN the default settings WHEN parsed THEN the pool name does not start with 'prefect'", () => {
    const name = parseSettings({}).settings.work_pool_name;
    expect(name.toLowerCase().startsWith("prefect")).toBe(false);
    expect(name).toBe("dev-prefect-ecs");
  });

  it.each(["prefect-ecs", "Prefect", "PREFECTpool", "prefect_pool"])(
    "GIVEN work_pool_name = %s WHEN parsed THEN it is refused, naming the key and Prefect's rule",
    (name) => {
      expect(problemsFor({ work_pool_name: name })).toMatch(
        new RegExp(`work_pool_name = "${name}" is not valid: Prefect reserves work pool names starting with "prefect"`),
      );
    },
  );

  it("GIVEN an environment that makes the default pool name start with 'prefect' WHEN parsed THEN it says so and how to fix it", () => {
    expect(problemsFor({ environment: "prefectx" })).toMatch(
      /environment = "prefectx" gives the default work pool name "prefectx-prefect-ecs".*set work_pool_name/,
    );
    accepts({ environment: "prefectx", work_pool_name: "ecs-x" });
  });

  it("GIVEN a pool name with '.' WHEN parsed THEN it is refused: it becomes part of ECS task definition family names", () => {
    expect(problemsFor({ work_pool_name: "ecs.dev" })).toMatch(/work_pool_name = "ecs.dev" is not valid: .*task definition family/);
  });
});

describe("AWS tag rules (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html; IAM and ECS tag patterns)", () => {
  it.each([
    ["a character outside AWS's set", { "R&D": "x" }, /key "R&D" has a character AWS refuses in tags/],
    ["a value with a character outside the set", { Team: "a;b" }, /the value of "Team" has a character AWS refuses/],
    ["the reserved aws: prefix in another case", { "AWS:owner": "x" }, /key "AWS:owner" starts with "aws:", which AWS reserves/],
    ["the stack's own key in another case", { project: "x" }, /key "project" is the stack's own Project tag/],
    ["the Name tag the stack sets per resource", { name: "x" }, /key "name" is the stack's own Name tag/],
    ["a key over 128 characters", { ["k".repeat(129)]: "x" }, /has 129 characters; tag keys have 1 to 128/],
    ["a value over 256 characters", { Team: "v".repeat(257) }, /the value of "Team" has 257 characters/],
    ["two keys that differ only in case", { Team: "a", team: "b" }, /"team" repeat another key in another case, which IAM refuses/],
    ["a number as a value", { Count: 5 }, /tag values are strings, in quotes/],
  ])("GIVEN tags with %s WHEN parsed THEN they are refused, naming the key", (_what, tags, expected) => {
    const message = problemsFor({ tags });
    expect(message).toMatch(/^tags = .* is not valid: /);
    expect(message).toMatch(expected);
  });

  it("GIVEN more tags than fit beside the stack's own under AWS's 50 WHEN parsed THEN the count is refused", () => {
    const tags = Object.fromEntries(Array.from({ length: 44 }, (_, i) => [`Tag${i}`, "x"]));
    expect(problemsFor({ tags })).toMatch(/44 tags plus the stack's own 7 exceed AWS's 50 per resource; use at most 43/);
    delete tags.Tag43;
    accepts({ tags });
  });

  it("GIVEN tags in many scripts with spaces WHEN parsed THEN they are accepted", () => {
    accepts({ tags: { "Cost Center": "Ünïcode 数据 @team/x=y+z:1.0_-" } });
  });

  it("GIVEN the synthesized stack THEN no resource carries more of the stack's own tags than the room reserved for them", () => {
    const { json } = synth({ flow_run_efs: true, vpc_interface_endpoints: true });
    const defaultTags = Object.keys(json.provider.aws[0].default_tags[0].tags);
    let most = 0;
    for (const byId of Object.values(json.resource)) {
      for (const resource of Object.values(byId)) {
        const own = new Set([...defaultTags, ...Object.keys(resource.tags ?? {})]);
        most = Math.max(most, own.size);
        for (const key of Object.keys(resource.tags ?? {})) expect(STACK_TAG_KEYS as readonly string[]).toContain(key);
      }
    }
    expect(most).toBeLessThanOrEqual(MAX_STACK_TAGS_PER_RESOURCE);
  });
});

describe("names AWS refuses, from project_name and environment", () => {
  it.each([
    // ECR: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* per path component (API_CreateRepository).
    ["project_name", "my--proj", /no two hyphens in a row.*ECR repository names/],
    ["project_name", "proj-", /no hyphen at the end/],
    ["environment", "dev-", /no hyphen at the end/],
    // EC2 CreateSecurityGroup: a group name cannot start with "sg-".
    ["project_name", "sg-team", /security group names .* cannot start with "sg-"/],
  ])("GIVEN %s = %s WHEN parsed THEN it is refused with the service's rule", (key, value, expected) => {
    const message = problemsFor({ [key]: value });
    expect(message).toContain(`${key} = "${value}" is not valid: `);
    expect(message).toMatch(expected);
  });

  it("GIVEN the longest names the settings allow WHEN synthesized THEN every name fits its service's documented rule", () => {
    const longest = { project_name: "a2345678901234567890", environment: "b23456789012", flow_run_efs: true, vpc_interface_endpoints: true };
    const { json } = synth(longest);
    // The self-hosted variant adds the auth-string secret.
    json.resource.aws_secretsmanager_secret = {
      ...json.resource.aws_secretsmanager_secret,
      ...synth({ ...longest, prefect_api_url: "https://p.example.com/api", self_hosted_auth: "auth_string" }).json.resource.aws_secretsmanager_secret,
    };
    // name attribute per resource type: [pattern, max length, source]
    const RULES: Record<string, [RegExp, number]> = {
      aws_ecr_repository: [/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 256], // ECR CreateRepository
      aws_security_group: [/^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, 255], // EC2 CreateSecurityGroup
      aws_iam_role: [/^[\w+=,.@-]+$/, 64], // IAM CreateRole
      aws_cloudwatch_log_group: [/^(?!aws\/)[.\-_/#A-Za-z0-9]+$/, 512], // CloudWatch Logs CreateLogGroup
      aws_sqs_queue: [/^[A-Za-z0-9_-]+$/, 80], // SQS CreateQueue
      aws_cloudwatch_event_rule: [/^[.\-_A-Za-z0-9]+$/, 64], // EventBridge PutRule
      aws_ecs_cluster: [/^[A-Za-z0-9_-]+$/, 255], // ECS CreateCluster
      aws_ecs_service: [/^[A-Za-z0-9_-]+$/, 255], // ECS CreateService
      aws_secretsmanager_secret: [/^[A-Za-z0-9/_+=.@-]+$/, 512], // Secrets Manager CreateSecret
    };
    let checked = 0;
    for (const [type, [pattern, max]] of Object.entries(RULES)) {
      for (const resource of Object.values(resources(json, type))) {
        expect(resource.name, type).toMatch(pattern);
        expect(resource.name.length, type).toBeLessThanOrEqual(max);
        checked++;
      }
    }
    for (const td of Object.values(resources(json, "aws_ecs_task_definition"))) expect(td.family).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
    // Secrets Manager: a name ending in a hyphen and six characters is confused with an ARN suffix.
    for (const secret of Object.values(resources(json, "aws_secretsmanager_secret"))) expect(secret.name).not.toMatch(/-[A-Za-z0-9]{6}$/);
    expect(checked).toBeGreaterThan(10);
  });
});

describe("S3 bucket naming rules for state_bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)", () => {
  it.each([
    ["My_Bucket", /3-63 lower-case letters/],
    ["ab", /3-63 lower-case letters/],
    ["state..bucket", /no two periods in a row/],
    ["192.168.1.10", /not formatted as an IP address/],
    ["xn--state", /reserved bucket names starting with "xn--"|S3 reserves bucket names starting with "xn--"/],
    ["sthree-state", /S3 reserves bucket names starting with "sthree-"/],
    ["amzn-s3-demo-state", /S3 reserves bucket names starting with "amzn-s3-demo-"/],
    ["state-s3alias", /S3 reserves bucket names ending with "-s3alias"/],
    ["state--ol-s3", /ending with "--ol-s3"/],
    ["state.mrap", /ending with ".mrap"/],
    ["state--x-s3", /ending with "--x-s3"/],
    ["state--table-s3", /ending with "--table-s3"/],
  ])("GIVEN state_bucket = %s WHEN parsed THEN it is refused", (bucket, expected) => {
    const message = problemsFor({ state_bucket: bucket });
    expect(message).toContain(`state_bucket = "${bucket}" is not valid: `);
    expect(message).toMatch(expected);
  });

  it("GIVEN a valid bucket name with dots and hyphens WHEN parsed THEN it is accepted", () => accepts({ state_bucket: "acme.prefect-ecs-state" }));
});

describe("list limits", () => {
  const subnet = (i: number) => `subnet-0123456789abcde${i.toString(16).padStart(2, "0")}`;
  const existing = (ids: string[]) => ({ existing_vpc_id: "vpc-0123456789abcdef0", existing_private_subnet_ids: ids });

  it("GIVEN 17 subnets WHEN parsed THEN they are refused: an ECS awsvpc configuration takes 16 (API_AwsVpcConfiguration)", () => {
    expect(problemsFor(existing(Array.from({ length: 17 }, (_, i) => subnet(i))))).toMatch(
      /existing_private_subnet_ids = .* is not valid: it lists 17; an ECS service's network configuration takes at most 16 subnets/,
    );
    accepts(existing(Array.from({ length: 16 }, (_, i) => subnet(i))));
  });

  it("GIVEN a subnet listed twice WHEN parsed THEN it is refused", () => {
    expect(problemsFor(existing([subnet(1), subnet(1)]))).toMatch(/existing_private_subnet_ids = .* is not valid: it lists a subnet twice/);
  });

  it("GIVEN 11 flow-run policies WHEN parsed THEN they are refused: IAM attaches 10 managed policies per role by default (reference_iam-quotas)", () => {
    const arns = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::123456789012:policy/flows-${i}`);
    expect(problemsFor({ flow_run_policy_arns: arns })).toMatch(
      /flow_run_policy_arns = .* is not valid: it lists 11; IAM attaches at most 10 managed policies/,
    );
    accepts({ flow_run_policy_arns: arns.slice(0, 10) });
  });

  it("GIVEN EFS with existing subnets WHEN synthesized THEN the plan reads each subnet and fails on one outside the VPC or a second in one AZ (EFS: one mount target per AZ)", () => {
    const ids = [subnet(1), subnet(2), subnet(3)];
    const { json } = synth({ ...existing(ids), availability_zones: undefined, flow_run_efs: true });
    const looked = Object.values(json.data?.aws_subnet ?? {});
    expect(looked.map((d) => d.id)).toEqual(ids);
    for (const d of looked) expect(d.lifecycle.postcondition[0].condition).toBe('${self.vpc_id == "vpc-0123456789abcdef0"}');
    expect(looked[0].lifecycle.postcondition).toHaveLength(1);
    expect(looked[2].lifecycle.postcondition[1]).toEqual({
      condition:
        "${!contains([data.aws_subnet.existing_subnets_subnet_0.availability_zone, data.aws_subnet.existing_subnets_subnet_1.availability_zone], self.availability_zone)}",
      error_message: expect.stringContaining("existing_private_subnet_ids: subnet-0123456789abcde03 is in an AZ an earlier subnet of the list uses"),
    });
    // Without EFS no lookup: the existing-VPC stack still plans without AWS access at plan time.
    expect(synth({ ...existing(ids), availability_zones: undefined }).json.data?.aws_subnet).toBeUndefined();
  });

  it("GIVEN a policy listed twice WHEN parsed THEN it is refused", () => {
    const arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    expect(problemsFor({ flow_run_policy_arns: [arn, arn] })).toMatch(/it lists a policy twice/);
  });
});

describe("VPC CIDR ranges that are reserved or unusable (vpc-cidr-blocks.html; RFC 6890)", () => {
  it.each([
    "127.0.0.0/16",
    "169.254.0.0/16",
    "172.17.0.0/16",
    "172.16.0.0/16".replace("16.0.0/16", "17.128.0/24"),
    "198.19.0.0/16",
    "0.0.0.0/16",
    "224.0.0.0/16",
    "240.0.0.0/16",
  ])("GIVEN vpc_cidr = %s WHEN parsed THEN it is refused, naming the range", (cidr) => {
    expect(problemsFor({ vpc_cidr: cidr })).toMatch(
      new RegExp(`vpc_cidr = "${cidr.replace(/[./]/g, "\\$&")}" is not valid: it overlaps \\S+, which`),
    );
  });

  it.each(["10.0.0.0/16", "172.16.0.0/16", "192.168.0.0/20", "100.64.0.0/16"])("GIVEN vpc_cidr = %s WHEN parsed THEN it is accepted", (cidr) =>
    accepts({ vpc_cidr: cidr }),
  );
});

describe("image references Docker and ECS accept (distribution/reference grammar; ECS ContainerDefinition.image ≤ 255)", () => {
  it.each([
    "prefecthq/prefect-aws:0.7.7-python3.12-prefect3.6.28",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect-ecs-dev/flows:Release_1.2",
    "localhost:5000/flows",
    `ghcr.io/acme/flows@sha256:${"a".repeat(64)}`,
    `registry.example.com:8443/a/b__c/d-e:v1@sha256:${"b".repeat(64)}`,
  ])("GIVEN %s WHEN parsed THEN it is accepted", (image) => accepts({ worker_image: image }));

  it.each([
    ["an upper-case repository", "Prefecthq/prefect-aws:1"],
    ["a double separator", "acme/flows..x:1"],
    ["a leading separator in a tag", "acme/flows:-bad"],
    ["a tag over 128 characters", `acme/flows:${"t".repeat(129)}`],
    ["a short digest", "acme/flows@sha256:abc"],
    ["an empty path component", "registry.example.com//flows"],
    ["over 255 characters", `registry.example.com/${"a".repeat(240)}:1`],
  ])("GIVEN %s WHEN parsed THEN it is refused", (_what, image) => {
    expect(problemsFor({ flow_run_image: image })).toMatch(
      /^flow_run_image = .* is not valid: (use an image reference Docker accepts|ECS accepts image references of at most 255)/,
    );
  });
});

describe("EFS mount paths that would hide what the flow container needs", () => {
  it.each(["/", "/tmp", "/usr/local/data", "/etc", "/opt", "/opt/prefect/flows", "/var/lib/x", "/mnt//efs", "/mnt/../etc", "/root"])(
    "GIVEN flow_run_efs_mount_path = %s WHEN parsed THEN it is refused",
    (path) => {
      expect(problemsFor({ flow_run_efs: true, flow_run_efs_mount_path: path })).toContain(`flow_run_efs_mount_path = "${path}" is not valid: `);
    },
  );

  it.each(["/mnt/efs", "/data", "/srv/shared", "/home/flows"])("GIVEN %s WHEN parsed THEN it is accepted", (path) =>
    accepts({ flow_run_efs: true, flow_run_efs_mount_path: path }),
  );
});

describe("prefect_api_url: usable, and never a carrier of secrets", () => {
  it.each([
    ["a port out of range", "https://prefect.example.com:99999/api", /the port must be from 1 to 65535/],
    ["port 0", "https://prefect.example.com:0/api", /the port must be from 1 to 65535/],
    ["a query", "https://prefect.example.com/api?x=1", /a query or fragment cannot be part of the API URL/],
    ["a fragment", "https://prefect.example.com/api#x", /a query or fragment cannot be part of the API URL/],
    ["another scheme", "ftp://prefect.example.com/api", /use an http\(s\) URL ending in \/api/],
    ["no /api", "https://prefect.example.com/", /ending in \/api/],
    ["an IPv6 host (the VPC is IPv4 only)", "https://[2001:4860:4860::8888]/api", /IPv6 addresses cannot be reached/],
    ["localhost (the worker's own task in Fargate)", "http://localhost:4200/api", /where this address is the worker's own task/],
    ["a loopback address", "https://127.0.0.1:4200/api", /where this address is the worker's own task/],
    ["Prefect Cloud given as a self-hosted server", "https://api.prefect.cloud/api", /this is Prefect Cloud: leave prefect_api_url unset/],
  ])("GIVEN %s WHEN parsed THEN it is refused naming the key", (_what, url, expected) => {
    const message = problemsFor({ prefect_api_url: url });
    expect(message).toMatch(/^prefect_api_url = .* is not valid: /);
    expect(message).toMatch(expected);
  });

  it("GIVEN user info in the URL WHEN parsed THEN it is refused with a pointer to the auth string, and the password is not shown", () => {
    const message = problemsFor({ prefect_api_url: "https://admin:s3cr3t-PASS@prefect.example.com/api" });
    expect(message).toContain('self_hosted_auth = "auth_string"');
    expect(message).toContain('"https://***@prefect.example.com/api"');
    expect(message).not.toContain("s3cr3t-PASS");
  });

  it("GIVEN http:// to a public host WHEN parsed THEN it is refused unless prefect_api_allow_plain_http is set", () => {
    expect(problemsFor({ prefect_api_url: "http://prefect.example.com/api" })).toMatch(
      /sends the API key or auth string over plain HTTP.*prefect_api_allow_plain_http = true/,
    );
    accepts({ prefect_api_url: "http://prefect.example.com/api", prefect_api_allow_plain_http: true });
  });

  it.each(["http://10.1.2.3:4200/api", "http://prefect.internal:4200/api", "http://prefect:4200/api", "http://server.corp/api"])(
    "GIVEN http:// to a private host (%s) WHEN parsed THEN it is accepted",
    (url) => accepts({ prefect_api_url: url }),
  );

  it("GIVEN http:// to a public name inside the Cloud Map namespace WHEN parsed THEN it is still refused: the pool command resolves it on the operator's machine", () => {
    expect(problemsFor({ prefect_api_url: "http://attacker.example.com/api", service_discovery_namespace: "example.com" })).toMatch(
      /over plain HTTP to a host that is not private/,
    );
  });

  it.each([
    ["a password with a slash", "https://admin:Hunter2/x@prefect.example.com/api"],
    ["no scheme", "admin:Hunter2@prefect.example.com/api"],
    ["an encoded colon", "https://admin%3AHunter2@prefect.example.com/api"],
    ["a key as the user name", "https://Hunter2@prefect.example.com/api"],
    ["another scheme", "https+unix://admin:Hunter2@prefect.example.com/api"],
  ])("GIVEN a URL with user info and %s WHEN refused THEN the message never shows the secret", (_what, url) => {
    const message = problemsFor({ prefect_api_url: url });
    expect(message).toMatch(/^prefect_api_url = /);
    expect(message).not.toContain("Hunter2");
  });

  it.each([[["https://admin:Hunter2@prefect.example.com/api"]], [{ u: "https://admin:Hunter2@prefect.example.com/api" }]])(
    "GIVEN prefect_api_url of the wrong type (%j) WHEN refused THEN its value is not shown",
    (value) => expect(problemsFor({ prefect_api_url: value })).not.toContain("Hunter2"),
  );

  it("GIVEN prefect_api_allow_plain_http without a self-hosted URL WHEN parsed THEN it is refused", () => {
    expect(problemsFor({ prefect_api_allow_plain_http: true })).toMatch(/prefect_api_allow_plain_http only applies to a self-hosted prefect_api_url/);
  });
});

describe("credentials never appear in a message", () => {
  const KEY = "pnu_CANARY_0f9e8d_never_echo";

  it.each([
    ["a number", 123456789],
    ["a list", [KEY]],
    ["a map", { key: KEY }],
    ["a bool", true],
  ])("GIVEN prefect_api_key as %s WHEN parsed THEN the message names the key and hides the value", (_what, value) => {
    const message = problemsFor({ prefect_api_key: value });
    expect(message).toMatch(/^prefect_api_key = \(hidden\) is not valid: expected a string/);
    expect(message).not.toContain(KEY);
    expect(message).not.toContain("123456789");
  });

  it("GIVEN a wrongly typed auth string WHEN parsed THEN its value is hidden too", () => {
    const message = problemsFor({
      prefect_api_url: "https://p.example.com/api",
      self_hosted_auth: "auth_string",
      prefect_api_auth_string: [`admin:${KEY}`],
    });
    expect(message).toContain("prefect_api_auth_string = (hidden)");
    expect(message).not.toContain(KEY);
  });
});

describe("odd inputs a new user or an attacker might give", () => {
  it("GIVEN a policy ARN of another partition than the region's WHEN parsed THEN it is refused", () => {
    expect(problemsFor({ flow_run_policy_arns: ["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"] })).toMatch(
      /flow_run_policy_arns names an ARN outside the partition "aws" of aws_region \(not set, so "us-east-1"\): arn:aws-cn/,
    );
    accepts({
      aws_region: "cn-north-1",
      flow_run_policy_arns: ["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"],
      availability_zones: ["cn-north-1a", "cn-north-1b"],
    });
  });

  it("GIVEN cdktf's token syntax in a value WHEN parsed THEN it is refused instead of being resolved or crashing synth", () => {
    expect(problemsFor({ existing_api_key_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbC123:#{TfToken[TOKEN.1]}" })).toMatch(
      /existing_api_key_secret_arn holds cdktf's internal token syntax/,
    );
  });

  it("GIVEN a key set to null WHEN parsed THEN it counts as not set, as in Terraform", () => {
    expect(parseSettings({ worker_cpu: null, work_pool_name: null }).settings).toMatchObject({ worker_cpu: 512, work_pool_name: "dev-prefect-ecs" });
  });

  it("GIVEN a CIDR with a leading zero WHEN parsed THEN it is refused instead of read as octal", () => {
    expect(problemsFor({ vpc_cidr: "010.0.0.0/16" })).toMatch(/vpc_cidr = "010.0.0.0\/16" is not a CIDR block/);
  });

  it("GIVEN environment = state in terraform.tfvars WHEN parsed THEN it is refused: the state bootstrap stack has that name", () => {
    expect(problemsFor({ environment: "state" })).toMatch(/environment = "state" is not valid: "state" names the state bootstrap stack/);
  });

  it("GIVEN prefect_api_allow_plain_http = false with Prefect Cloud (an uncommented default) WHEN parsed THEN it is accepted", () => {
    accepts({ prefect_api_allow_plain_http: false });
  });

  it("GIVEN az_count WHEN synthesized THEN the AZ lookup fails the plan when the region offers fewer AZs than asked for", () => {
    const { json } = synth({ availability_zones: undefined, az_count: 4 });
    expect(json.data?.aws_availability_zones?.network_available_azs.lifecycle.postcondition[0]).toEqual({
      condition: "${length(self.names) >= 4}",
      error_message: expect.stringContaining("az_count = 4 is more AZs than the region offers"),
    });
  });
});

describe("an existing secret's KMS key", () => {
  it("GIVEN a key in another region than the secret WHEN parsed THEN it is refused: Secrets Manager uses a key of the secret's region", () => {
    expect(
      problemsFor({
        existing_api_key_secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prefect/key-AbC123",
        existing_api_key_secret_kms_key_arn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      }),
    ).toMatch(/existing_api_key_secret_kms_key_arn is in region "us-east-1" but the secret .* is in "eu-west-1"/);
  });
});
