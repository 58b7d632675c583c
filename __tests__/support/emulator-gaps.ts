import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * Operations moto 5.2.1 lacks that the AWS provider calls for this stack. moto answers them with a 500
 * "not implemented", which the provider retries until it gives up, so an apply or destroy hangs. A proxy
 * on 127.0.0.1 in front of moto (for the services listed in GAP_SERVICES only) answers these few
 * operations itself and forwards everything else unchanged. What it answers proves nothing about AWS;
 * docs/proof-and-tests.md (Proof) lists them as checked on real AWS only.
 */
export interface EmulatorGap {
  readonly service: string;
  readonly operations: readonly string[];
  readonly evidence: string;
  readonly standIn: string;
}

export const EMULATOR_GAPS: readonly EmulatorGap[] = [
  {
    service: "application-autoscaling",
    operations: ["ListTagsForResource", "TagResource", "UntagResource"],
    evidence:
      "moto/applicationautoscaling/responses.py defines no list_tags_for_resource, tag_resource or untag_resource, and " +
      "register_scalable_target (responses.py:46-58) drops the request's Tags; the provider reads a scalable target's tags after creating it.",
    standIn: "keeps tags per scalable target ARN, starting with the Tags RegisterScalableTarget was given",
  },
  {
    service: "elasticfilesystem",
    operations: ["DeleteFileSystemPolicy"],
    evidence:
      "moto/efs/responses.py implements describe_file_system_policy and put_file_system_policy (201-223) but no delete; " +
      "destroying aws_efs_file_system_policy calls DeleteFileSystemPolicy.",
    standIn: "answers 200 and, from then on, DescribeFileSystemPolicy with PolicyNotFound for that file system",
  },
  {
    service: "budgets",
    operations: ["ListTagsForResource", "TagResource", "UntagResource"],
    evidence:
      "moto/budgets/responses.py defines only create/describe/delete of budgets and notifications (16-66), and create_budget " +
      "(16-23) drops the request's ResourceTags; the provider reads a budget's tags after creating it.",
    standIn: "keeps tags per budget ARN, starting with the ResourceTags CreateBudget was given",
  },
];

/** Provider endpoint names of the services the proxy stands in front of. */
export const GAP_SERVICES = ["appautoscaling", "budgets", "efs"] as const;

export interface GapsProxy {
  readonly endpoint: string;
  /** Stand-in answers given, as "<Operation> <resource>", in order. */
  readonly answered: string[];
  reset(): void;
  stop(): Promise<void>;
}

const AUTOSCALING_TARGET = "AnyScaleFrontendService.";
const BUDGETS_TARGET = "AWSBudgetServiceGateway.";
const EFS_POLICY_PATH = /^\/2015-02-01\/file-systems\/([^/?]+)\/policy(?:\?.*)?$/;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function answer(response: ServerResponse, status: number, body: unknown, contentType = "application/x-amz-json-1.1"): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

export function startGapsProxy(motoEndpoint: string): Promise<GapsProxy> {
  const tags = new Map<string, Record<string, string>>();
  const deletedPolicies = new Set<string>();
  const answered: string[] = [];

  async function forward(request: IncomingMessage, body: Buffer): Promise<{ status: number; contentType: string; body: Buffer }> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !["host", "connection", "content-length", "transfer-encoding"].includes(name)) {
        headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
    }
    const upstream = await fetch(`${motoEndpoint}${request.url ?? "/"}`, {
      method: request.method,
      headers,
      body: body.length ? new Uint8Array(body) : undefined,
    });
    return {
      status: upstream.status,
      contentType: upstream.headers.get("content-type") ?? "application/json",
      body: Buffer.from(await upstream.arrayBuffer()),
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = String(request.headers["x-amz-target"] ?? "");
    if (target.startsWith(AUTOSCALING_TARGET)) {
      const operation = target.slice(AUTOSCALING_TARGET.length);
      const input = body.length ? JSON.parse(body.toString("utf8")) : {};
      if (operation === "ListTagsForResource") {
        answered.push(`${operation} ${input.ResourceARN}`);
        const known = tags.get(input.ResourceARN);
        if (!known) return answer(response, 400, { __type: "ResourceNotFoundException", Message: `No scalable target ${input.ResourceARN}` });
        return answer(response, 200, { Tags: known });
      }
      if (operation === "TagResource") {
        answered.push(`${operation} ${input.ResourceARN}`);
        tags.set(input.ResourceARN, { ...tags.get(input.ResourceARN), ...input.Tags });
        return answer(response, 200, {});
      }
      if (operation === "UntagResource") {
        answered.push(`${operation} ${input.ResourceARN}`);
        const kept = { ...tags.get(input.ResourceARN) };
        for (const key of input.TagKeys ?? []) delete kept[key];
        tags.set(input.ResourceARN, kept);
        return answer(response, 200, {});
      }
      const upstream = await forward(request, body);
      if (operation === "RegisterScalableTarget" && upstream.status === 200) {
        const arn = JSON.parse(upstream.body.toString("utf8")).ScalableTargetARN;
        if (arn) tags.set(arn, { ...tags.get(arn), ...input.Tags });
      }
      response.writeHead(upstream.status, { "Content-Type": upstream.contentType });
      response.end(upstream.body);
      return;
    }
    if (target.startsWith(BUDGETS_TARGET)) {
      const operation = target.slice(BUDGETS_TARGET.length);
      const input = body.length ? JSON.parse(body.toString("utf8")) : {};
      const asList = (map: Record<string, string> = {}) => Object.entries(map).map(([Key, Value]) => ({ Key, Value }));
      const asMap = (list: { Key: string; Value: string }[] = []) => Object.fromEntries(list.map((t) => [t.Key, t.Value]));
      if (operation === "ListTagsForResource") {
        answered.push(`budgets ${operation} ${input.ResourceARN}`);
        return answer(response, 200, { ResourceTags: asList(tags.get(input.ResourceARN)) });
      }
      if (operation === "TagResource") {
        answered.push(`budgets ${operation} ${input.ResourceARN}`);
        tags.set(input.ResourceARN, { ...tags.get(input.ResourceARN), ...asMap(input.ResourceTags) });
        return answer(response, 200, {});
      }
      if (operation === "UntagResource") {
        answered.push(`budgets ${operation} ${input.ResourceARN}`);
        const kept = { ...tags.get(input.ResourceARN) };
        for (const key of input.ResourceTagKeys ?? []) delete kept[key];
        tags.set(input.ResourceARN, kept);
        return answer(response, 200, {});
      }
      const upstream = await forward(request, body);
      if (operation === "CreateBudget" && upstream.status === 200) {
        tags.set(`arn:aws:budgets::${input.AccountId}:budget/${input.Budget?.BudgetName}`, asMap(input.ResourceTags));
      }
      response.writeHead(upstream.status, { "Content-Type": upstream.contentType });
      response.end(upstream.body);
      return;
    }
    const policy = EFS_POLICY_PATH.exec(request.url ?? "");
    if (policy && request.method === "DELETE") {
      answered.push(`DeleteFileSystemPolicy ${policy[1]}`);
      deletedPolicies.add(policy[1]);
      response.writeHead(200, { "Content-Length": 0 });
      response.end();
      return;
    }
    if (policy && request.method === "GET" && deletedPolicies.has(policy[1])) {
      return answer(response, 404, { ErrorCode: "PolicyNotFound", Message: "Policy Not Found" }, "application/json");
    }
    if (policy && request.method === "PUT") deletedPolicies.delete(policy[1]);
    const upstream = await forward(request, body);
    response.writeHead(upstream.status, { "Content-Type": upstream.contentType });
    response.end(upstream.body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => answer(response, 500, { __type: "InternalFailure", Message: String(error) }));
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        answered,
        reset() {
          tags.clear();
          deletedPolicies.clear();
          answered.length = 0;
        },
        stop: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
