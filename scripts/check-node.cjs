// Stops with one line on a Node.js older than 20, before anything fails there with a stack trace
// (cdktf's synth, or vitest's `styleText` import). Run by app.cjs and before each test tier.
const major = Number(process.versions.node.split(".")[0]);
if (major < 20) {
  console.error(
    `prefect-ecs needs Node.js 20 or newer; this is ${process.version}. Install Node.js 24, the current LTS (with nvm: nvm install, then nvm use; .nvmrc says 24).`,
  );
  process.exit(1);
}
