import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { access_key: "S3RVER", secret_key: "S3RVER" };

/** Local S3 (s3rver) and DynamoDB (dynalite) on 127.0.0.1 at free ports, for backend tests. */
export interface LocalAws {
  readonly s3Endpoint: string;
  readonly dynamodbEndpoint: string;
  /** Folder s3rver stores objects in (`<bucket>/<key>._S3rver_object`). */
  readonly s3Directory: string;
  dynamodb(target: string, body: unknown): Promise<any>;
  stop(): Promise<void>;
}

export async function startLocalAws(bucket: string): Promise<LocalAws> {
  const s3Directory = mkdtempSync(join(tmpdir(), "prefect-ecs-s3rver-"));
  const child = spawn(process.execPath, [join(__dirname, "aws-local-server.cjs"), s3Directory, bucket], { stdio: ["pipe", "pipe", "inherit"] });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  const endpoints = await new Promise<{ s3Endpoint: string; dynamodbEndpoint: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("local S3/DynamoDB did not start within 20 s")), 20_000);
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(JSON.parse(out.split("\n")[0]));
      }
    });
    child.once("exit", (code) => reject(new Error(`local S3/DynamoDB exited with ${code}`)));
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  const dynamodb = async (target: string, body: unknown) => {
    const response = await fetch(endpoints.dynamodbEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": `DynamoDB_20120810.${target}`,
        // dynalite checks that a signature is present, not that it is valid.
        Authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        "X-Amz-Date": "20260101T000000Z",
      },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`DynamoDB ${target} failed: ${JSON.stringify(json)}`);
    return json;
  };
  return { ...endpoints, s3Directory, dynamodb, stop };
}
