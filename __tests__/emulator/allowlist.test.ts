import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ResourceChange } from "../../src/review/plan-summary";
import {
  asAwsWouldPlan,
  EMULATOR_DIFFERENCES,
  EMULATOR_OBSERVATIONS,
  EMULATOR_STEPS,
  unexplained,
  unexplainedDifferences,
} from "../support/emulator-allowlist";
import { EMULATOR_GAPS } from "../support/emulator-gaps";
import { MOTO_LEFTOVERS } from "../support/emulator-lane";

/** The allowlist's own rules, on plan changes shaped like Terraform's JSON (no emulator needed). */
const change = (type: string, actions: string[], before: any, after: any, extra: Partial<ResourceChange["change"]> = {}): ResourceChange => ({
  address: `${type}.example`,
  mode: "managed",
  type,
  name: "example",
  change: { actions, before, after, after_unknown: {}, ...extra },
});

const DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq";

describe("the emulator allowlist", () => {
  it("GIVEN a whitespace-only redrive policy difference THEN it is explained, and AWS's plan would show no change", () => {
    const queue = change(
      "aws_sqs_queue",
      ["update"],
      { redrive_policy: `{"deadLetterTargetArn": "${DLQ}", "maxReceiveCount": 5}` },
      {
        redrive_policy: `{"deadLetterTargetArn":"${DLQ}","maxReceiveCount":5}`,
      },
    );
    expect(unexplained(queue)).toEqual([]);
    expect(asAwsWouldPlan({ resource_changes: [queue] }).resource_changes![0].change.actions).toEqual(["no-op"]);
  });

  it("GIVEN a real redrive policy change THEN it is not explained", () => {
    const queue = change(
      "aws_sqs_queue",
      ["update"],
      { redrive_policy: `{"deadLetterTargetArn": "${DLQ}", "maxReceiveCount": 5}` },
      {
        redrive_policy: `{"deadLetterTargetArn":"${DLQ}","maxReceiveCount":3}`,
      },
    );
    expect(unexplained(queue)).toEqual(["aws_sqs_queue.example: redrive_policy would change in place"]);
  });

  it("GIVEN the service replaced because the emulator returned no capacity provider strategy THEN it is explained", () => {
    const service = change(
      "aws_ecs_service",
      ["delete", "create"],
      { capacity_provider_strategy: [], enable_ecs_managed_tags: false, availability_zone_rebalancing: "", tags: {} },
      {
        capacity_provider_strategy: [{ capacity_provider: "FARGATE", weight: 1, base: 0 }],
        enable_ecs_managed_tags: true,
        availability_zone_rebalancing: "DISABLED",
        tags: null,
      },
      { replace_paths: [["capacity_provider_strategy"]] },
    );
    expect(unexplained(service)).toEqual([]);
  });

  it("GIVEN a capacity provider change on a service that had one THEN neither its replacement nor its in-place update is explained", () => {
    const before = { capacity_provider_strategy: [{ capacity_provider: "FARGATE", weight: 1, base: 0 }] };
    const after = { capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 1, base: 0 }] };
    expect(unexplained(change("aws_ecs_service", ["delete", "create"], before, after, { replace_paths: [["capacity_provider_strategy"]] }))).toEqual([
      "aws_ecs_service.example: capacity_provider_strategy forces replacement",
    ]);
    expect(unexplained(change("aws_ecs_service", ["update"], before, after))).toEqual([
      "aws_ecs_service.example: capacity_provider_strategy would change in place",
    ]);
  });

  it("GIVEN a missing description THEN it is explained for a rule that references a group, not for a CIDR rule", () => {
    const byGroup = change(
      "aws_vpc_security_group_ingress_rule",
      ["update"],
      { description: null, referenced_security_group_id: "sg-1" },
      {
        description: "NFS",
        referenced_security_group_id: "sg-1",
      },
    );
    const byCidr = change(
      "aws_vpc_security_group_egress_rule",
      ["update"],
      { description: null, cidr_ipv4: "0.0.0.0/0" },
      { description: "HTTPS", cidr_ipv4: "0.0.0.0/0" },
    );
    expect(unexplained(byGroup)).toEqual([]);
    expect(unexplained(byCidr)).toEqual(["aws_vpc_security_group_egress_rule.example: description would change in place"]);
  });

  it("GIVEN a creation, a deletion or an output change on a second plan THEN each is reported", () => {
    const plan = {
      resource_changes: [
        change("aws_sqs_queue_policy", ["create"], null, { policy: "{}" }),
        change("aws_eip", ["delete"], { id: "eipalloc-1" }, null),
      ],
      output_changes: { vpc_id: { actions: ["update"], before: "vpc-1", after: "vpc-2" } },
    };
    expect(unexplainedDifferences(plan)).toEqual([
      "aws_sqs_queue_policy.example: planned create",
      "aws_eip.example: planned delete",
      "output vpc_id: planned update",
    ]);
  });

  it("GIVEN every entry of the allowlist, the leftovers, the gaps and the emulator steps THEN each cites moto source that exists, at lines the file has", () => {
    const found = spawnSync(process.env.EMULATOR_PYTHON ?? "python3", ["-c", "import moto, os; print(os.path.dirname(moto.__file__))"], {
      encoding: "utf8",
    });
    const motoDir = found.stdout.trim();
    expect(existsSync(join(motoDir, "server.py"))).toBe(true);
    const evidence = [
      ...EMULATOR_DIFFERENCES.map((d) => d.evidence),
      ...MOTO_LEFTOVERS.map((l) => l.evidence),
      ...EMULATOR_GAPS.map((g) => g.evidence),
      ...EMULATOR_STEPS.map((s) => s.evidence),
      ...EMULATOR_OBSERVATIONS.map((o) => o.evidence),
    ];
    for (const text of evidence) {
      const citations = [...text.matchAll(/moto\/([a-z0-9_/]+\.py)(?::(\d+)(?:-(\d+))?)?/g)];
      expect(citations.length, text).toBeGreaterThan(0);
      for (const [, file, , last] of citations.map((c) => [c[0], c[1], c[2], c[3] ?? c[2]])) {
        const path = join(motoDir, file);
        expect(existsSync(path), path).toBe(true);
        if (last) expect(readFileSync(path, "utf8").split("\n").length, `${file}:${last}`).toBeGreaterThanOrEqual(Number(last));
      }
    }
  });
});
