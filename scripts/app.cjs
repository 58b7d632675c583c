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
// Besides the sources esbuild read: its settings here, the TypeScript options it reads, and esbuild itself.
const EXTRA_INPUTS = ["scripts/app.cjs", "tsconfig.json", "node_modules/esbuild/package.json"];

/** Size and modification time of a file, or null when it is gone. */
const stamp = (file) => {
  try {
    const stat = statSync(join(root, file));
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return null;
  }
};

/**
 * The bundle's last line records what it was built from, so bundle and record are replaced together (one rename);
 * last, so the inline source map's lines stay where esbuild put them.
 * It is reused only while every recorded file has its recorded size and time.
 */
function upToDate() {
  if (!existsSync(outFile)) return false;
  try {
    const last = readFileSync(outFile, "utf8").trimEnd().split("\n").at(-1);
    if (!last.startsWith("// inputs: {")) return false;
    const inputs = JSON.parse(last.slice("// inputs: ".length));
    return Object.entries(inputs).every(([file, recorded]) => stamp(file) === recorded);
  } catch {
    return false;
  }
}

if (!upToDate()) {
  const { buildSync } = require("esbuild");
  const started = Date.now();
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
  const files = [...Object.keys(metafile.inputs), ...EXTRA_INPUTS];
  const inputs = Object.fromEntries(files.map((file) => [file, stamp(file)]));
  // A file saved while esbuild ran may be newer than what it read: record nothing then, so the next synth builds again.
  const settled = files.every((file) => {
    try {
      return statSync(join(root, file)).mtimeMs < started;
    } catch {
      return true;
    }
  });
  const record = settled ? `// inputs: ${JSON.stringify(inputs)}` : "// inputs: changed during the build";
  mkdirSync(outDir, { recursive: true });
  // Write then rename, so two synths at once never run a half-written bundle.
  const temporary = `${outFile}.${process.pid}.tmp`;
  writeFileSync(temporary, `${outputFiles[0].text.trimEnd()}\n${record}\n`);
  renameSync(temporary, outFile);
}
require(outFile);
