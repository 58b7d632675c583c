import type { PlanJson, ResourceChange } from "../../src/review/plan-summary";

/**
 * Where moto (5.2.1) answers differently from AWS, so that a plan right after an apply shows a change
 * AWS would not. Each entry names the resource type and attribute, what the plan shows, why, and the
 * evidence (moto's source under site-packages/moto, and the provider behaviour that turns it into a diff).
 * A second plan may differ only by these; anything else fails the tier.
 */
export interface EmulatorDifference {
  readonly type: string;
  readonly attribute: string;
  /** `update`: an in-place change of this attribute; `replace`: this attribute forces a replacement. */
  readonly action: "update" | "replace";
  /** The shape of the difference the emulator causes; any other change of the attribute is not explained. */
  readonly only: { readonly when: string; readonly test: (before: any, after: any, change: ResourceChange) => boolean };
  readonly reason: string;
  readonly evidence: string;
}

const isEmpty = (value: unknown) =>
  value === null ||
  value === undefined ||
  value === "" ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === "object" && Object.keys(value as object).length === 0);

const sameJson = (a: unknown, b: unknown) => {
  try {
    return typeof a === "string" && typeof b === "string" && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

const groupRuleDescription = (type: string): EmulatorDifference => ({
  type,
  attribute: "description",
  action: "update",
  only: {
    when: "the rule references a security group and the emulator returned no description",
    test: (before, _after, change) => !!(change.change.before as any)?.referenced_security_group_id && isEmpty(before),
  },
  reason:
    "moto keeps a rule's description with the referenced group but DescribeSecurityGroupRules reads it from the CIDR range only, " +
    "so the provider reads no description for a rule that references a security group.",
  evidence:
    "moto/ec2/models/security_groups.py:94-96 (SecurityGroupRule.description returns ip_range's Description only; source_group's is never read).",
});

export const EMULATOR_DIFFERENCES: readonly EmulatorDifference[] = [
  {
    type: "aws_ecs_service",
    attribute: "capacity_provider_strategy",
    action: "replace",
    only: { when: "the emulator returned no strategy at all", test: (before) => isEmpty(before) },
    reason:
      "moto's CreateService ignores capacityProviderStrategy (and records launchType EC2), so the service reads back with no strategy; " +
      "the provider forces a replacement when the strategy goes from none to some, even with force_new_deployment.",
    evidence:
      "moto/ecs/responses.py:286-314 (create_service never reads capacityProviderStrategy); moto/ecs/models.py:1595 " +
      '(launch_type defaults to "EC2") and 469-487 (Service has no strategy field); hashicorp/aws 5.100.0 ' +
      "internal/service/ecs/service.go capacityProviderStrategyCustomizeDiff (ForceNew when the old set is empty).",
  },
  {
    type: "aws_ecs_service",
    attribute: "enable_ecs_managed_tags",
    action: "update",
    only: { when: "the emulator returned false where the stack sets true", test: (before, after) => before === false && after === true },
    reason: "moto's CreateService ignores enableECSManagedTags, so DescribeServices returns nothing and the provider reads false.",
    evidence:
      "moto/ecs/responses.py:286-314 (create_service never reads enableECSManagedTags); moto/ecs/models.py:469-487 (Service has no such field).",
  },
  {
    type: "aws_ecs_service",
    attribute: "availability_zone_rebalancing",
    action: "update",
    only: { when: "the emulator returned nothing", test: (before) => isEmpty(before) },
    reason: 'moto does not implement availabilityZoneRebalancing; the provider sends its default, "DISABLED", which AWS returns.',
    evidence: "moto/ecs/responses.py:286-314 and moto/ecs/models.py:469-487 (neither reads nor stores availabilityZoneRebalancing).",
  },
  {
    type: "aws_ecs_service",
    attribute: "enable_execute_command",
    action: "update",
    only: { when: "the emulator returned false where the stack sets true", test: (before, after) => before === false && after === true },
    reason: "moto's CreateService ignores enableExecuteCommand, so DescribeServices returns nothing and the provider reads false.",
    evidence:
      "moto/ecs/responses.py:286-314 (create_service never reads enableExecuteCommand); moto/ecs/models.py:469-487 (Service has no such field).",
  },
  {
    type: "aws_ecs_service",
    attribute: "health_check_grace_period_seconds",
    action: "update",
    only: {
      when: "the emulator returned 0 where the stack sets a grace period",
      test: (before, after) => before === 0 && typeof after === "number" && after > 0,
    },
    reason: "moto's CreateService ignores healthCheckGracePeriodSeconds, so DescribeServices returns nothing and the provider reads 0.",
    evidence:
      "moto/ecs/responses.py:286-314 (create_service never reads healthCheckGracePeriodSeconds); moto/ecs/models.py:469-487 (Service has no such field).",
  },
  {
    type: "aws_ecs_service",
    attribute: "service_registries",
    action: "update",
    only: {
      when: "the service is replaced (for the allowlisted capacity_provider_strategy) and the registry is the same, with its unset fields read as zero values",
      test: (before, after, change) => {
        const registry = (value: any) => (Array.isArray(value) && value.length === 1 ? value[0] : undefined);
        const [was, will] = [registry(before), registry(after)];
        const unset = (r: any) => ["container_name", "container_port", "port"].every((k) => isEmpty(r?.[k]) || r?.[k] === 0);
        return change.change.actions.includes("delete") && !!was && !!will && was.registry_arn === will.registry_arn && unset(was) && unset(will);
      },
    },
    reason:
      "moto stores serviceRegistries as sent and returns it (the same registry), but the service is planned for replacement because of " +
      "capacity_provider_strategy (above), and a replacement shows the configuration's unset container_name and ports as null against the zero values state holds.",
    evidence:
      "moto/ecs/models.py:482-498 (Service keeps service_registries as given); moto/ecs/responses.py:286-314 (create_service passes them through).",
  },
  {
    type: "aws_db_parameter_group",
    attribute: "parameter",
    action: "update",
    only: { when: "the emulator returned no user-set parameter at all", test: (before, after) => isEmpty(before) && !isEmpty(after) },
    reason:
      'moto stores ModifyDBParameterGroup\'s parameters as sent and returns them from DescribeDBParameters without a Source; AWS marks them Source "user", ' +
      "and the provider keeps only those, so it reads none (seen with TF_LOG=DEBUG: the response holds rds.force_ssl = 1 with no <Source>).",
    evidence:
      "moto/rds/responses.py:332-341 (modify_db_parameter_group stores the raw parameter dicts) and 354-363 (describe_db_parameters returns them as stored, ignoring the Source filter).",
  },
  {
    type: "aws_sqs_queue",
    attribute: "redrive_policy",
    action: "update",
    only: { when: "both texts hold the same JSON (a whitespace-only difference)", test: (before, after) => sameJson(before, after) },
    reason:
      'moto returns RedrivePolicy re-serialized with Python\'s json.dumps separators (", ", ": "); AWS returns it compact, as sent. ' +
      "The provider compares the text, so the plan shows a whitespace-only change.",
    evidence:
      "moto/sqs/models.py:373 (json.loads of the policy) and 526-527 (RedrivePolicy = json.dumps(...)); the same difference in LocalStack: " +
      "hashicorp/terraform-provider-aws#16964, localstack/localstack#3427.",
  },
  groupRuleDescription("aws_vpc_security_group_ingress_rule"),
  groupRuleDescription("aws_vpc_security_group_egress_rule"),
  {
    type: "aws_launch_template",
    attribute: "tag_specifications",
    action: "update",
    only: {
      when: 'the emulator added a "launch-template" tag specification and the configured ones are unchanged',
      test: (before, after) =>
        Array.isArray(before) &&
        Array.isArray(after) &&
        before.some((spec: any) => spec.resource_type === "launch-template") &&
        !after.some((spec: any) => spec.resource_type === "launch-template") &&
        JSON.stringify(before.filter((spec: any) => spec.resource_type !== "launch-template").map((spec: any) => spec.resource_type)) ===
          JSON.stringify(after.map((spec: any) => spec.resource_type)),
    },
    reason:
      "moto's CreateLaunchTemplate copies the launch template's own tags (TagSpecifications of type launch-template) into the " +
      "template data, so DescribeLaunchTemplateVersions reports a tag specification the stack never configured.",
    evidence: "moto/ec2/responses/launch_templates.py:20-34 (the request's tag_spec is appended to parsed_template_data TagSpecifications).",
  },
  {
    type: "aws_launch_template",
    attribute: "latest_version",
    action: "update",
    only: {
      when: "the only other difference of the template is the tag specification above",
      test: (_before, _after, change) =>
        JSON.stringify((change.change.before as any)?.tag_specifications) !== JSON.stringify((change.change.after as any)?.tag_specifications),
    },
    reason: "Any update of a launch template makes a new version; it follows from the tag specification difference above.",
    evidence: "moto/ec2/responses/launch_templates.py:20-34, as above.",
  },
  {
    type: "aws_autoscaling_group",
    attribute: "launch_template",
    action: "update",
    only: {
      when: "the same template, only its version unknown (the new version above)",
      test: (before, after, change) =>
        before?.[0]?.id === after?.[0]?.id && (change.change.after_unknown as any)?.launch_template?.[0]?.version === true,
    },
    reason: "The group follows the template's latest version, which the template difference above renews.",
    evidence: "moto/ec2/responses/launch_templates.py:20-34, as above.",
  },
  {
    type: "aws_autoscaling_group",
    attribute: "capacity_reservation_specification",
    action: "update",
    only: {
      when: "the emulator returned no preference and the stack sets none",
      test: (before, after) => isEmpty(before?.[0]?.capacity_reservation_preference) && isEmpty(after?.[0]?.capacity_reservation_preference),
    },
    reason:
      "moto's Auto Scaling has no capacity reservation support, so DescribeAutoScalingGroups omits CapacityReservationSpecification " +
      "and the provider reads null where it plans an empty string. Whether AWS plans this too is proven only on AWS.",
    evidence: "moto/autoscaling/models.py:1092-1106 (the group launches and describes with no capacity reservation field anywhere in the module).",
  },
];

/** Attributes whose before and after values differ (an unknown after counts as different). */
function differingAttributes(change: ResourceChange): string[] {
  const before = (change.change.before ?? {}) as Record<string, unknown>;
  const after = (change.change.after ?? {}) as Record<string, unknown>;
  const unknown = (change.change.after_unknown ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => unknown[key] === true || JSON.stringify(before[key]) !== JSON.stringify(after[key])).sort();
}

/** An entry explains this attribute's difference when the action and the shape of the difference both match. */
const allowed = (change: ResourceChange, attribute: string, action: EmulatorDifference["action"]) =>
  EMULATOR_DIFFERENCES.some(
    (d) =>
      d.type === change.type &&
      d.attribute === attribute &&
      d.action === action &&
      d.only.test((change.change.before as any)?.[attribute], (change.change.after as any)?.[attribute], change),
  );

/**
 * Why one planned change is not explained by the allowlist (empty when it is). An in-place update must
 * touch only allowlisted attributes. A replacement must be forced only by allowlisted attributes; of the
 * new object's values, those Terraform plans afresh (unknown, or left empty because the configuration
 * does not set them) are consequences of replacing, and the rest must match or be allowlisted.
 */
export function unexplained(change: ResourceChange): string[] {
  const actions = change.change.actions.join(",");
  if (actions === "no-op" || actions === "read" || change.mode !== "managed") return [];
  if (actions === "update") {
    return differingAttributes(change)
      .filter((attribute) => !allowed(change, attribute, "update"))
      .map((attribute) => `${change.address}: ${attribute} would change in place`);
  }
  if (actions === "delete,create" || actions === "create,delete") {
    const forcedBy = (change.change.replace_paths ?? []).map((path) => String(path[0]));
    const problems = forcedBy
      .filter((attribute) => !allowed(change, attribute, "replace"))
      .map((attribute) => `${change.address}: ${attribute} forces replacement`);
    if (forcedBy.length === 0) problems.push(`${change.address}: replaced without an attribute forcing it`);
    const after = (change.change.after ?? {}) as Record<string, unknown>;
    const unknown = (change.change.after_unknown ?? {}) as Record<string, unknown>;
    for (const attribute of differingAttributes(change)) {
      if (forcedBy.includes(attribute) || unknown[attribute] === true || isEmpty(after[attribute])) continue;
      if (!allowed(change, attribute, "update")) problems.push(`${change.address}: ${attribute} differs`);
    }
    return problems;
  }
  return [`${change.address}: planned ${actions}`];
}

/** Every difference in a plan that the allowlist does not explain, outputs included. */
export function unexplainedDifferences(plan: PlanJson): string[] {
  const resources = (plan.resource_changes ?? []).flatMap(unexplained);
  const outputs = Object.entries(plan.output_changes ?? {})
    .filter(([, change]) => change.actions.join(",") !== "no-op")
    .map(([name, change]) => `output ${name}: planned ${change.actions.join(",")}`);
  return [...resources, ...outputs];
}

/** The allowlist entries a plan actually shows (so an entry that no longer applies can be noticed). */
export function explainedDifferences(plan: PlanJson): string[] {
  return (plan.resource_changes ?? [])
    .filter((change) => change.mode === "managed" && !["no-op", "read"].includes(change.change.actions.join(",")) && unexplained(change).length === 0)
    .map((change) => `${change.address} (${change.change.actions.join(",")})`);
}

/**
 * The plan as AWS would show it: changes the allowlist fully explains become no-ops. Used to render
 * the reviewer's summary of a change, and to compare planned actions with what the docs promise.
 */
export function asAwsWouldPlan(plan: PlanJson): PlanJson {
  return {
    ...plan,
    resource_changes: (plan.resource_changes ?? []).map((change) =>
      change.mode === "managed" && change.change.actions.join(",") === "update" && unexplained(change).length === 0
        ? { ...change, change: { ...change.change, actions: ["no-op"] } }
        : change,
    ),
  };
}

/**
 * Where moto answers differently and a check reads around it (not a plan difference). Each says what the
 * check does instead; docs/proof-and-tests.md (Proof) lists them.
 */
export const EMULATOR_OBSERVATIONS = [
  {
    what: "A load balancer created without a Scheme reports none (AWS defaults to internet-facing)",
    check: "the in-stack server lane asserts the balancer is not internal, and Terraform's state holds internal = false",
    evidence:
      "moto/elbv2/responses.py:48-57 passes Scheme through even when absent (None), overriding the internet-facing default of moto/elbv2/models.py:738; " +
      "the provider sends Scheme only for an internal balancer.",
  },
  {
    what: "A Cloud Map service created with its namespace in DnsConfig reports no NamespaceId",
    check: "the in-stack server lane finds the server's namespace through the service's DnsConfig.NamespaceId, which AWS also returns",
    evidence:
      "moto/servicediscovery/responses.py:129-150 takes the namespace from the top-level NamespaceId only; the provider sends it in DnsConfig, " +
      "which moto/servicediscovery/models.py:78-120 keeps and returns as given.",
  },
  {
    what: "An ECS service's deployment configuration (minimum and maximum percent) is neither stored nor returned",
    check:
      "the in-stack server lane reads the server's one-task-at-a-time deployment (minimum 0 %, maximum 100 %) from Terraform's state after apply; the synth and offline-plan tests assert the configuration",
    evidence:
      "moto/ecs/responses.py:286-314 (create_service never reads deploymentConfiguration); moto/ecs/models.py:469-487 (Service has no such field).",
  },
  {
    what: "An Auto Scaling group's instance gets no public IP from its launch template's AssociatePublicIpAddress",
    check:
      "the NAT instance lane asserts that nothing but the NAT instance's primary interface could hold a public address, and that the Elastic IP waits for the boot script",
    evidence: "moto/autoscaling/models.py:1086-1090 takes associate_public_ip from a launch configuration only; with a launch template it is None.",
  },
  {
    what: "Every instance gets an extra 8 GB unencrypted gp2 volume at /dev/sda1, besides its template's block device mappings",
    check: "the NAT instance lane checks the volume at the template's root device (/dev/xvda, Amazon Linux 2023's root) and names the extra one",
    evidence: "moto/ec2/models/instances.py:304-307 (setup_defaults creates and attaches the /dev/sda1 volume for every instance).",
  },
] as const;

/**
 * What the tier does to the emulator's data, and why: each step stands in for what AWS would hold and is
 * taken only where named. docs/proof-and-tests.md (Proof) lists what these leave to real AWS.
 */
export const EMULATOR_STEPS = [
  {
    step: "Before planning a change, put back the worker service's capacity provider strategy, managed tags and AZ rebalancing (restoreWhatCreateServiceDropped).",
    where: "the change lanes, after their first apply; never before a re-plan checked against the allowlist",
    evidence:
      "moto/ecs/responses.py:286-314 (CreateService drops them); moto/ecs/models.py:1693-1695 (UpdateService stores every field it is given, " +
      "so the values are the configured ones, as AWS would hold them).",
  },
  {
    step: "Delete the state bucket's TLS-only policy after checking it, before the worker stack uses the bucket as its backend.",
    where: "the state-backend lane",
    evidence:
      "moto/s3/responses.py:1903-1909 refuses an object request a bucket policy denies; moto/iam/policy_conditions.py:14 and 36-40 support " +
      "StringEquals only and treat any other condition (Bool aws:SecureTransport) as met, so the deny would refuse requests over TLS as well.",
  },
  {
    step: "Apply no change that updates the ECS event queue while the observer is on (the observer lane turns it off first).",
    where: "the change lanes",
    evidence:
      "moto/sqs/models.py:351 sets the queue policy to whatever SetQueueAttributes carries, so any queue update (such as the redrive " +
      "whitespace difference above) erases the policy aws_sqs_queue_policy manages; AWS changes only the attributes given.",
  },
] as const;
