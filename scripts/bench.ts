/**
 * npm run bench: speed and memory of the things operators and CI wait for, on this machine.
 *   - synth of the full default stack: wall time and peak RSS of the app process (cdktf.json's "app"),
 *     median of several runs, each into a scratch output folder;
 *   - the real-Terraform test tier (validate + plan of every variant, converged state, real-plan summaries);
 *   - the whole `npm test`;
 *   - the emulator tier (`npm run test:emulator`: apply, change and destroy against moto), with each lane's
 *     Terraform time from test-results/emulator/ (skipped with --no-emulator);
 *   - the real-Prefect tier (`npm run test:prefect`), when the pinned Prefect is on PATH (skipped with --no-prefect).
 * Prints a Markdown table; with --write it also replaces the measured block of docs/performance.md. Timings stay
 * out of pass/fail tests on purpose.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { PREFECT_VERSION } from "../src/versions";

const ROOT = join(__dirname, "..");
/** The block of docs/performance.md that `npm run bench -- --write` replaces. */
const BENCH_START = "<!-- npm run bench -- --write: start -->";
const BENCH_END = "<!-- npm run bench -- --write: end -->";
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GNU_TIME = "/usr/bin/time";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs a shell command; returns wall seconds and, with GNU time, peak RSS in MB of the command's process. */
function measure(command: string, env: NodeJS.ProcessEnv = {}): { seconds: number; peakMb?: number } {
  const withTime = existsSync(GNU_TIME);
  const started = process.hrtime.bigint();
  const result = withTime
    ? spawnSync(GNU_TIME, ["-f", "__peak_kb=%M", "sh", "-c", command], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" })
    : spawnSync("sh", ["-c", command], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed:\n${result.stdout}\n${result.stderr}`);
  const peak = /__peak_kb=(\d+)/.exec(result.stderr)?.[1];
  return { seconds, peakMb: peak ? Number(peak) / 1024 : undefined };
}

const app: string = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")).app;
const synths = Array.from({ length: RUNS }, () => measure(app, { CDKTF_OUTDIR: mkdtempSync(join(tmpdir(), "bench-synth-")) }));
const synthSeconds = median(synths.map((s) => s.seconds));
const synthPeak = synths[0].peakMb === undefined ? undefined : median(synths.map((s) => s.peakMb!));

/**
 * Synth's floor: Node loading every npm module the app's bundle requires (the provider classes, cdktf, zod, …) and
 * synthesizing one resource, with nothing of this project's own work. The app is measured against it.
 */
function floorScript(): string {
  const cache = join(ROOT, "node_modules", ".cache", "prefect-ecs");
  const bundle = readdirSync(cache)
    .map((dir) => join(cache, dir, "main.js"))
    .filter((file) => existsSync(file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const modules = [...new Set([...readFileSync(bundle, "utf8").matchAll(/require\("([^"./][^"]*)"\)/g)].map(([, name]) => name))];
  const script = join(mkdtempSync(join(tmpdir(), "bench-floor-")), "floor.cjs");
  writeFileSync(
    script,
    [
      `module.paths.unshift(${JSON.stringify(join(ROOT, "node_modules"))});`,
      ...modules.map((name) => `require(${JSON.stringify(name)});`),
      'const { App, TerraformStack } = require("cdktf");',
      'const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");',
      'const { Vpc } = require("@cdktf/provider-aws/lib/vpc");',
      "const app = new App();",
      'const stack = new TerraformStack(app, "floor");',
      'new AwsProvider(stack, "aws", { region: "us-east-1" });',
      'new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });',
      "app.synth();",
    ].join("\n"),
  );
  return script;
}
const floorFile = floorScript();
const floors = Array.from({ length: RUNS }, () => measure(`node ${floorFile}`, { CDKTF_OUTDIR: mkdtempSync(join(tmpdir(), "bench-floor-out-")) }));
const floorSeconds = median(floors.map((s) => s.seconds));

// --synth-only: synth and its floor alone (the tiers take minutes).
const synthOnly = process.argv.includes("--synth-only");
const tier = synthOnly ? undefined : measure("npm run --silent test:terraform");
const full = synthOnly || process.argv.includes("--no-full") ? undefined : measure("npm test --silent");
const emulator = synthOnly || process.argv.includes("--no-emulator") ? undefined : measure("npm run --silent test:emulator");
/** The real-Prefect tier needs the pinned Prefect on PATH (the tier itself says how to install it). */
const pinnedPrefect = new RegExp(`^Version: +${PREFECT_VERSION.replace(/\./g, "\\.")}$`, "m").test(
  spawnSync("prefect", ["version"], { encoding: "utf8" }).stdout ?? "",
);
const prefectTier = synthOnly || process.argv.includes("--no-prefect") || !pinnedPrefect ? undefined : measure("npm run --silent test:prefect");
/** Wall seconds of Terraform commands per lane, as the emulator tier recorded them. */
function laneTimes(): [string, number][] {
  const dir = join(ROOT, "test-results", "emulator");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .map((file): [string, number] => {
      const runs: { seconds?: number }[] = JSON.parse(readFileSync(join(dir, file), "utf8"));
      return [file.replace(/\.json$/, ""), runs.reduce((sum, run) => sum + (run.seconds ?? 0), 0)];
    })
    .sort(([, a], [, b]) => b - a);
}

const row = (what: string, value: string, target: string) => `| ${what} | ${value} | ${target} |`;
const lines: string[] = [];
const out = (line: string) => lines.push(line);
out(
  `Machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; synth runs: ${RUNS}; measured ${new Date().toISOString().slice(0, 10)}\n`,
);
out("| measure | result | target |");
out("|---|---|---|");
out(row(`synth, default stack (\`${app}\`), median wall time`, `${synthSeconds.toFixed(2)} s`, "≤ 1.5 s"));
out(row("synth, peak memory of the app process (median)", synthPeak === undefined ? "n/a (no GNU time)" : `${synthPeak.toFixed(0)} MB`, "≤ 150 MB"));
out(
  row(
    "synth's floor (its npm modules loaded, one resource synthesized), median; the app's time over it",
    `${floorSeconds.toFixed(2)} s; ${(synthSeconds / floorSeconds).toFixed(2)}×`,
    "≤ 2×",
  ),
);
if (tier) out(row("real-Terraform tier (`npm run test:terraform`)", `${tier.seconds.toFixed(1)} s`, "its own tier"));
if (full) out(row("whole `npm test`", `${full.seconds.toFixed(1)} s`, "≤ 90 s"));
if (emulator) {
  out(row("emulator tier (`npm run test:emulator`), all lanes side by side", `${emulator.seconds.toFixed(1)} s`, "≤ 6 min"));
  for (const [lane, seconds] of laneTimes()) out(row(`emulator lane \`${lane}\`: Terraform commands`, `${seconds.toFixed(1)} s`, "part of the tier"));
}
if (!synthOnly && !process.argv.includes("--no-prefect"))
  out(
    row(
      "real-Prefect tier (`npm run test:prefect`)",
      prefectTier ? `${prefectTier.seconds.toFixed(1)} s` : `not measured: no Prefect ${PREFECT_VERSION} on PATH`,
      "≤ 5 min",
    ),
  );
console.log(lines.join("\n"));

// --write: the figures replace the measured block of docs/performance.md, so the docs quote what was measured.
if (process.argv.includes("--write") && synthOnly) throw new Error("--write records every measure; run it without --synth-only");
if (process.argv.includes("--write")) {
  const page = join(ROOT, "docs", "performance.md");
  const text = readFileSync(page, "utf8");
  const [start, end] = [BENCH_START, BENCH_END].map((marker) => text.indexOf(marker));
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${BENCH_START} … ${BENCH_END} block`);
  writeFileSync(page, `${text.slice(0, start + BENCH_START.length)}\n${lines.join("\n")}\n${text.slice(end)}`);
  console.log("\nwrote docs/performance.md");
}
