import { describe, expect, it } from "vitest";
import { ACCOUNT, FakeAwsValues, policyProblems, roleUnderTest, simulate } from "./support/iam-simulation";
import { synth, VARIANTS } from "./support/synth";

/**
 * The NAT instance's role, evaluated by a real IAM policy simulator (@cloud-copilot/iam-simulate): the three
 * calls its boot script makes are allowed on its own interface, address and instance, and their neighbours
 * are denied. Instance ARNs carry the Name tag the Auto Scaling group propagates.
 */
const { json } = synth(VARIANTS.nat_instance);
const fake = new FakeAwsValues(json);
const role = roleUnderTest(json, fake, "network_nat_instance_role");
const ENI = `arn:aws:ec2:us-east-1:${ACCOUNT}:network-interface/eni-0123456789abcdef0`;
const EIP = `arn:aws:ec2:us-east-1:${ACCOUNT}:elastic-ip/eipalloc-0123456789abcdef0`;
const INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
const OWN_TAG = { "ec2:ResourceTag/Name": "prefect-ecs-dev-nat" };

const decide = async (action: string, resource: string, context: Record<string, string> = {}) =>
  (await simulate(role.sessionArn, { action, resource, context }, role.policies)).decision;

describe("the NAT instance's role, simulated", () => {
  it("GIVEN its policy THEN the simulator finds no unknown action, malformed ARN or inapplicable condition key", async () => {
    for (const { policy } of role.policies) expect(await policyProblems(policy, "identity", role.sessionArn)).toEqual([]);
  });

  it.each([
    ["ec2:AttachNetworkInterface", ENI, {}],
    ["ec2:AttachNetworkInterface", INSTANCE, OWN_TAG],
    ["ec2:AssociateAddress", EIP, {}],
    ["ec2:AssociateAddress", INSTANCE, OWN_TAG],
    ["ec2:ModifyInstanceAttribute", INSTANCE, OWN_TAG],
  ])("GIVEN the boot script's call %s on %s THEN it is allowed", async (action, resource, context) => {
    expect(await decide(action, resource, context)).toBe("Allowed");
  });

  it.each([
    ["ec2:AttachNetworkInterface", ENI.replace("eni-0123456789abcdef0", "eni-0ffffffffffffffff"), {}, "another interface"],
    ["ec2:AssociateAddress", EIP.replace("eipalloc-0123456789abcdef0", "eipalloc-0ffffffffffffffff"), {}, "another address"],
    ["ec2:ModifyInstanceAttribute", INSTANCE, { "ec2:ResourceTag/Name": "someone-elses-instance" }, "an instance not named as this NAT"],
    ["ec2:AttachNetworkInterface", INSTANCE, {}, "an untagged instance"],
    ["ec2:TerminateInstances", INSTANCE, OWN_TAG, "an action the script never calls"],
    ["ec2:DisassociateAddress", EIP, {}, "an action the script never calls"],
  ])("GIVEN %s on %s THEN it is denied (%s)", async (action, resource, context, _why) => {
    expect(await decide(action, resource, context)).toBe("ImplicitlyDenied");
  });
});
