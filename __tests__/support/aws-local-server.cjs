// Local S3 (s3rver) and DynamoDB (dynalite) on 127.0.0.1 at free ports, run in their own process so
// that a test blocked on a synchronous Terraform call cannot stall them. Prints one JSON line with the
// endpoints once both listen; exits when its parent closes stdin or on SIGTERM.
const S3rver = require("s3rver");
const dynalite = require("dynalite");

const [directory, bucket] = process.argv.slice(2);

async function main() {
  const s3 = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const s3Address = await s3.run();
  const dynamo = dynalite({ createTableMs: 0 });
  await new Promise((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(0, "127.0.0.1", resolve);
  });
  const stop = async () => {
    await Promise.allSettled([s3.close(), new Promise((resolve) => dynamo.close(resolve))]);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
  process.stdout.write(
    `${JSON.stringify({ s3Endpoint: `http://127.0.0.1:${s3Address.port}`, dynamodbEndpoint: `http://127.0.0.1:${dynamo.address().port}` })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
