import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, S3RVER_CREDENTIALS, startLocalAws } from "./support/aws-local";
import { PLAN_TIME_ENV, synth } from "./support/synth";
import { setAsideWorkPool, stackDir, terraform, terraformTooling } from "./support/terraform";

/**
 * Terraform's real S3 backend with DynamoDB locking, against s3rver and dynalite on 127.0.0.1.
 * The backend is the one the stack synthesizes, plus test-only endpoints and skip flags.
 */
const BUCKET = "acme-tfstate";
const TABLE = "acme-locks";
let aws: LocalAws;
let dir: string;
let backend: Record<string, any>;

beforeAll(async () => {
  terraformTooling();
  aws = await startLocalAws(BUCKET);
  await aws.dynamodb("CreateTable", {
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  const { json } = synth({ state_bucket: BUCKET, state_lock_table: TABLE, environment: "staging", manage_work_pool: false });
  backend = json.terraform.backend.s3;
  dir = stackDir(setAsideWorkPool(json), {
    s3: {
      ...backend,
      ...S3RVER_CREDENTIALS,
      endpoints: { s3: aws.s3Endpoint, dynamodb: aws.dynamodbEndpoint },
      use_path_style: true,
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
      skip_s3_checksum: true,
    },
  });
  terraform(dir, ["init", "-input=false"]);
}, 120_000);

afterAll(async () => {
  await aws?.stop();
});

/** Keys of the objects s3rver holds in the bucket. */
function objectKeys(): string[] {
  const root = join(aws.s3Directory, BUCKET);
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(folder, entry.name)) : entry.name.endsWith("._S3rver_object") ? [join(folder, entry.name)] : [],
    );
  return existsSync(root) ? walk(root).map((path) => path.slice(root.length + 1).replace(/\._S3rver_object$/, "")) : [];
}

async function lockItems(): Promise<string[]> {
  const scan = await aws.dynamodb("Scan", { TableName: TABLE });
  // Terraform also keeps a "<bucket>/<key>-md5" digest item; the lock is the item without the suffix.
  return scan.Items.map((item: any) => item.LockID.S).filter((id: string) => !id.endsWith("-md5"));
}

describe("remote state in S3 with DynamoDB locking", () => {
  it("declares the bucket, the key <project>/<environment>/terraform.tfstate, the lock table and encryption", () => {
    expect(backend).toEqual({
      bucket: BUCKET,
      key: "prefect-ecs/staging/terraform.tfstate",
      region: "us-east-1",
      dynamodb_table: TABLE,
      encrypt: true,
    });
  });

  it("GIVEN a state write THEN the state object lands at exactly the declared bucket and key", () => {
    // A first, empty state, written through the backend as any apply would.
    const first = join(dir, "first.tfstate");
    writeFileSync(
      first,
      JSON.stringify({
        version: 4,
        terraform_version: "1.11.4",
        serial: 1,
        lineage: "3f1b6c1e-0d7a-4f6e-9a57-7e6d1c2b9a10",
        outputs: {},
        resources: [],
      }),
    );
    terraform(dir, ["state", "push", first]);
    expect(objectKeys()).toEqual(["prefect-ecs/staging/terraform.tfstate"]);
    const state = JSON.parse(readFileSync(join(aws.s3Directory, BUCKET, "prefect-ecs/staging/terraform.tfstate._S3rver_object"), "utf8"));
    expect(state).toMatchObject({ version: 4, serial: expect.any(Number), lineage: expect.any(String) });
  });

  it("GIVEN one operation holds the lock THEN a second is refused, and the lock is released afterwards", async () => {
    const { bin, env } = terraformTooling();
    // `terraform console` takes the state lock and keeps it until it exits.
    const holder = spawn(bin, ["console", "-no-color"], { cwd: dir, env: { ...env, ...PLAN_TIME_ENV }, stdio: ["pipe", "ignore", "pipe"] });
    let heldLocks: string[];
    let second: ReturnType<typeof spawnSync> | undefined;
    try {
      const deadline = Date.now() + 60_000;
      while ((heldLocks = await lockItems()).length === 0) {
        if (holder.exitCode !== null || Date.now() > deadline) throw new Error("terraform console never took the state lock");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      second = spawnSync(bin, ["plan", "-no-color", "-input=false", "-lock-timeout=0s"], {
        cwd: dir,
        env: { ...env, ...PLAN_TIME_ENV },
        encoding: "utf8",
      });
    } finally {
      holder.stdin.end("exit\n");
      await new Promise((resolve) => (holder.exitCode === null ? holder.on("exit", resolve) : resolve(undefined)));
    }
    expect(heldLocks).toEqual([`${BUCKET}/prefect-ecs/staging/terraform.tfstate`]);
    expect(second?.status).toBe(1);
    expect(`${second?.stdout}${second?.stderr}`).toMatch(/Error acquiring the state lock[\s\S]*ConditionalCheckFailedException/);

    // Released: no lock item is left, and a state write (which locks) succeeds at once.
    expect(await lockItems()).toEqual([]);
    const state = JSON.parse(terraform(dir, ["state", "pull"]).stdout);
    const next = join(dir, "next.tfstate");
    writeFileSync(next, JSON.stringify({ ...state, serial: state.serial + 1 }));
    expect(terraform(dir, ["state", "push", "-lock-timeout=0s", next], { check: false }).status).toBe(0);
  });
});

describe("S3-native locking", () => {
  it("GIVEN state_locking = s3_lockfile THEN the backend uses a lock file and no table", () => {
    const { json } = synth({ state_bucket: BUCKET, state_locking: "s3_lockfile" });
    expect(json.terraform.backend.s3).toMatchObject({ bucket: BUCKET, use_lockfile: true });
    expect(json.terraform.backend.s3.dynamodb_table).toBeUndefined();
  });
});
