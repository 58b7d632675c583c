/**
 * What the sandbox needs on this machine, each checked before anything starts, with one line saying how to get it.
 * The real-Prefect test tier uses the same Prefect check.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { PREFECT_AWS_VERSION, PREFECT_PIP_INSTALL, PREFECT_VERSION } from "../versions";

export const PREFECT_HINT = `Prefect ${PREFECT_VERSION} and prefect-aws ${PREFECT_AWS_VERSION} must be on PATH; install them with: ${PREFECT_PIP_INSTALL}`;
export const MOTO_HINT =
  'moto\'s AWS emulator for Python 3 is missing; install it with: pip install "moto[server]==5.2.1" (or name another endpoint with --endpoint URL)';
export const TERRAFORM_HINT = "Terraform 1.11 or newer must be on PATH: https://developer.hashicorp.com/terraform/install";

export interface LocalPrefect {
  /** The `prefect` executable. */
  readonly bin: string;
  /** A Python that imports this Prefect (an offline build's `prefect-python`, or the interpreter of pip's `prefect` script). */
  readonly python: string;
}

const which = (tool: string, path: string) =>
  spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8", env: { PATH: path } }).stdout?.trim() ?? "";

/** The `prefect` on PATH if it is the pinned Prefect with the pinned prefect-aws; otherwise an error saying what was found. */
export function findLocalPrefect(path = process.env.PATH ?? ""): LocalPrefect {
  const bin = which("prefect", path);
  if (!bin) throw new Error(`${PREFECT_HINT} (no prefect on PATH)`);
  // An offline build ships prefect-python; otherwise the Python pip's launcher names.
  const python = which("prefect-python", path) ? [which("prefect-python", path)] : interpreterOf(readFileSync(bin, "utf8"));
  const [command, ...prefix] = python;
  const probe = spawnSync(
    command,
    [
      ...prefix,
      "-c",
      'import importlib.metadata as m\nfor d in ("prefect", "prefect-aws"):\n    try: print(m.version(d))\n    except Exception: print("none")',
    ],
    { encoding: "utf8", env: { PATH: path, HOME: process.env.HOME ?? tmpdir() } },
  );
  const [prefect, prefectAws] = (probe.stdout ?? "").trim().split("\n");
  if (prefect !== PREFECT_VERSION || prefectAws !== PREFECT_AWS_VERSION)
    throw new Error(`${PREFECT_HINT} (found prefect ${prefect || "none"} with prefect-aws ${prefectAws ?? "none"} at ${bin})`);
  return { bin, python: python.join(" ") };
}

/**
 * The Python a `prefect` launcher runs: pip writes `#!/path/python`; for a long path or one with spaces, a
 * `#!/bin/sh` launcher whose second line execs the quoted interpreter; `#!/usr/bin/env python3` names it by PATH.
 * Anything else: python3.
 */
export function interpreterOf(script: string): string[] {
  const [first = "", second = ""] = script.split("\n", 2);
  const launcher = /^'''exec' "([^"]+)"/.exec(second)?.[1] ?? /^'''exec' (\S+)/.exec(second)?.[1];
  if (first.startsWith("#!/bin/sh") && launcher) return [launcher];
  const shebang = first.startsWith("#!") ? first.slice(2).trim().split(/\s+/) : [];
  if (shebang[0]?.endsWith("/env") && /python[\d.]*$/.test(shebang[1] ?? "")) return shebang.slice(1);
  if (shebang.length && /python[\d.]*$/.test(shebang[0])) return [shebang[0]];
  return ["python3"];
}

/** Terraform on PATH at 1.11 or newer (write-only arguments and ephemeral variables), or the line saying so. */
export function terraformProblem(path = process.env.PATH ?? ""): string | undefined {
  const run = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env: { PATH: path, HOME: process.env.HOME ?? tmpdir() } });
  if (run.error || run.status !== 0) return `${TERRAFORM_HINT} (no terraform on PATH)`;
  const version = /"terraform_version":\s*"(\d+)\.(\d+)\.(\d+)/.exec(run.stdout);
  if (!version) return `${TERRAFORM_HINT} (could not read its version)`;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 1 || (major === 1 && minor >= 11) ? undefined : `${TERRAFORM_HINT} (found ${version.slice(1).join(".")})`;
}

/** moto's server importable by python3, or the line saying how to install it. */
export function motoProblem(path = process.env.PATH ?? ""): string | undefined {
  const probe = spawnSync("python3", ["-c", "import moto.server, flask, werkzeug"], {
    encoding: "utf8",
    env: { PATH: path, HOME: process.env.HOME ?? tmpdir() },
  });
  return probe.error || probe.status !== 0 ? MOTO_HINT : undefined;
}

/** Every missing prerequisite, one line each (none: ready). `endpoint`: an AWS-compatible endpoint is given, so moto is not needed. */
export function missingPrerequisites(options: { endpoint?: string; path?: string } = {}): string[] {
  const problems: string[] = [];
  const terraform = terraformProblem(options.path);
  if (terraform) problems.push(terraform);
  try {
    findLocalPrefect(options.path);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!options.endpoint) {
    const moto = motoProblem(options.path);
    if (moto) problems.push(moto);
  }
  return problems;
}
