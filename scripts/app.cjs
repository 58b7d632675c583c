// The cdktf app entry ("app" in cdktf.json). It bundles this project's own TypeScript (main.ts and src/)
// with esbuild into one CommonJS file, leaving every npm package external, and runs it. Measured on the
// 2-core reference machine (npm run bench): about 1.0 s and 175 MB per synth, against 1.5 s for
// `node --require tsx/cjs main.ts` and 2.2 s for `npx tsx main.ts`, which transform files one by one.
// Type checking is `npm run typecheck`; this step only strips types.
require("./check-node.cjs");
const { buildSync } = require("esbuild");
const { mkdirSync, renameSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const outDir = join(root, "node_modules", ".cache", "prefect-ecs");
const outFile = join(outDir, "main.js");
const { outputFiles } = buildSync({
  entryPoints: [join(root, "main.ts")],
  bundle: true,
  packages: "external",
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "inline",
  outfile: outFile,
  write: false,
  logLevel: "warning",
});
mkdirSync(outDir, { recursive: true });
// Write then rename, so two synths at once never run a half-written bundle.
const temporary = `${outFile}.${process.pid}.tmp`;
writeFileSync(temporary, outputFiles[0].contents);
renameSync(temporary, outFile);
require(outFile);
