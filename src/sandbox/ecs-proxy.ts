/* eslint-disable @typescript-eslint/no-explicit-any -- AWS request and answer bodies pass through this proxy untyped */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, request } from "node:http";
import { appendFileSync } from "node:fs";
import type { AddressInfo } from "node:net";

/**
 * A recording proxy in front of moto's server for a real Prefect worker (the sandbox's, and the real-Prefect
 * tier's): every request's `X-Amz-Target` (ECS and SQS speak JSON, `AmazonEC2ContainerServiceV20141113.RunTask`) and
 * JSON body is kept as the worker sent it, with moto's status and answer. One difference of moto is bridged here,
 * openly (FARGATE_MEMORY_WORKAROUND). Run as a script (`tsx src/sandbox/ecs-proxy.ts <upstream> <calls.jsonl>`), it
 * prints its endpoint and appends each call to the file, until it is stopped.
 */
export interface RecordedCall {
  /** The service the request was signed for (its SigV4 credential scope): ecs, sqs, ec2. */
  readonly service: string;
  /** The X-Amz-Target header ("" for query-protocol calls such as EC2's). */
  readonly target: string;
  /** The action: the part of the target after the dot, or the query protocol's Action. */
  readonly action: string;
  /** The request body as the client sent it (parsed JSON, or the raw text). */
  readonly body: any;
  /** moto's HTTP status. */
  readonly status: number;
  /** moto's answer as the client received it (parsed JSON, or the raw text). */
  readonly response: any;
}

export interface EcsRecorder {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** The recorded calls of one action (RunTask, RegisterTaskDefinition, ...). */
  of(action: string): RecordedCall[];
  /** Task definition ARNs registered with moto in the amended form (see FARGATE_MEMORY_WORKAROUND). */
  readonly amended: ReadonlySet<string>;
  stop(): Promise<void>;
}

/**
 * moto 5.2.1 answers RunTask for a Fargate task definition whose containers leave memory out (ECS takes the
 * task-level memory then) with HTTP 500: `_calculate_task_resource_requirements` adds each container's `memory`
 * (or `memoryReservation`) to a running sum, and a container without either adds None (moto/ecs/models.py:1360-1362,
 * called from run_task at 1260). AWS accepts such a definition for Fargate. So RegisterTaskDefinition reaches moto
 * with the task-level memory copied onto each container without one, and the answers of RegisterTaskDefinition and
 * DescribeTaskDefinition for those definitions have it taken off again: the worker sees what AWS would return.
 */
export const FARGATE_MEMORY_WORKAROUND = "moto/ecs/models.py:1360-1362 sums container memory, None for a Fargate container without it";

const readAll = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });

const parse = (text: string): any => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The containers given the task-level memory (a copy), or undefined when no container lacks it. */
function withContainerMemory(body: any): any {
  const memory = Number(body?.memory);
  const containers: any[] = body?.containerDefinitions ?? [];
  if (!memory || !containers.some((c) => c.memory === undefined && c.memoryReservation === undefined)) return undefined;
  return {
    ...body,
    containerDefinitions: containers.map((c) => (c.memory === undefined && c.memoryReservation === undefined ? { ...c, memory } : c)),
  };
}

export async function startEcsRecorder(upstream: string, onCall: (call: RecordedCall) => void = () => {}): Promise<EcsRecorder> {
  const calls: RecordedCall[] = [];
  const amended = new Set<string>();
  /** Container names that got the task-level memory, per registered task definition ARN. */
  const amendedContainers = new Map<string, Set<string>>();
  const target = new URL(upstream);

  const undoAmendment = (definition: any) => {
    const names = amendedContainers.get(definition?.taskDefinitionArn);
    if (!names) return;
    for (const container of definition.containerDefinitions ?? []) if (names.has(container.name)) delete container.memory;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readAll(req);
      const text = raw.toString("utf8");
      const amzTarget = String(req.headers["x-amz-target"] ?? "");
      const action = amzTarget ? amzTarget.split(".").pop()! : (new URLSearchParams(text).get("Action") ?? "");
      const body = parse(text);
      const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
      const amendment = action === "RegisterTaskDefinition" ? withContainerMemory(body) : undefined;
      const forwarded = amendment ? Buffer.from(JSON.stringify(amendment)) : raw;

      const answer = await new Promise<{ status: number; headers: Record<string, any>; body: Buffer }>((resolve, reject) => {
        const upstreamRequest = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, "content-length": forwarded.length },
          },
          (upstreamResponse) =>
            readAll(upstreamResponse).then(
              (data) => resolve({ status: upstreamResponse.statusCode ?? 502, headers: upstreamResponse.headers, body: data }),
              reject,
            ),
        );
        upstreamRequest.on("error", reject);
        upstreamRequest.end(forwarded);
      });

      let responseBody = answer.body;
      let response = parse(answer.body.toString("utf8"));
      if (amendment && answer.status === 200 && response?.taskDefinition?.taskDefinitionArn) {
        const arn = response.taskDefinition.taskDefinitionArn as string;
        amended.add(arn);
        amendedContainers.set(
          arn,
          new Set(body.containerDefinitions.filter((c: any) => c.memory === undefined && c.memoryReservation === undefined).map((c: any) => c.name)),
        );
      }
      if (
        (action === "RegisterTaskDefinition" || action === "DescribeTaskDefinition") &&
        amendedContainers.has(response?.taskDefinition?.taskDefinitionArn)
      ) {
        undoAmendment(response.taskDefinition);
        responseBody = Buffer.from(JSON.stringify(response));
        response = parse(responseBody.toString("utf8"));
      }
      const call = { service, target: amzTarget, action, body, status: answer.status, response };
      calls.push(call);
      onCall(call);
      const headers: OutgoingHttpHeaders = { ...answer.headers, "content-length": responseBody.length };
      delete headers["transfer-encoding"];
      res.writeHead(answer.status, headers);
      res.end(responseBody);
    })().catch((error: Error) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`ecs-recorder: ${error.message}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    amended,
    of: (action) => calls.filter((call) => call.action === action),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) {
  const [upstream, file] = process.argv.slice(2);
  void startEcsRecorder(upstream, (call) => appendFileSync(file, `${JSON.stringify(call)}\n`)).then((proxy) => console.log(proxy.endpoint));
}
