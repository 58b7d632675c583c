// The cdktf app entry ("app" in cdktf.json). It bundles this project's own TypeScript (main.ts and src/)
// with esbuild into one CommonJS file, leaving every npm package external, and runs it. The bundle is kept in
// node_modules/.cache with the size and modification time of every file it was built from; when none changed, it
// runs as it is, without loading esbuild (about 0.15 s of a synth here; npm run bench measures synth).
// Against 1.5 s for `node --require tsx/cjs main.ts` and 2.2 s for `npx tsx main.ts`, which transform files one by
// one. Type checking is `npm run typecheck`; this step only strips types.
require("./check-node.cjs");
const { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
// One folder per project folder: copies of the project may share one node_modules through a link.
const outDir = join(
  root,
  "node_modules",
  ".cache",
  "prefect-ecs",
  require("node:crypto").createHash("sha256").update(root).digest("hex").slice(0, 12),
);
const outFile = join(outDir, "main.js");
const inputsFile = join(outDir, "main.inputs.json");

/** Size and modification time of a file, or null when it is gone. */
const stamp = (file) => {
  try {
    const stat = statSync(join(root, file));
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return null;
  }
};

function upToDate() {
  if (!existsSync(outFile) || !existsSync(inputsFile)) return false;
  try {
    const inputs = JSON.parse(readFileSync(inputsFile, "utf8"));
    return Object.entries(inputs).every(([file, recorded]) => stamp(file) === recorded);
  } catch {
    return false;
  }
}

if (!upToDate()) {
  const { buildSync } = require("esbuild");
  const { outputFiles, metafile } = buildSync({
    absWorkingDir: root,
    entryPoints: [join(root, "main.ts")],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: "inline",
    outfile: outFile,
    write: false,
    metafile: true,
    logLevel: "warning",
  });
  mkdirSync(outDir, { recursive: true });
  // Write then rename, so two synths at once never run a half-written bundle (or a bundle with another's inputs).
  const temporary = `${outFile}.${process.pid}.tmp`;
  writeFileSync(temporary, outputFiles[0].contents);
  const inputs = Object.fromEntries(Object.keys(metafile.inputs).map((file) => [file, stamp(file)]));
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(temporary, outFile);
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
}
require(outFile);
