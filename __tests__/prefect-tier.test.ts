import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PREFECT_AWS_VERSION, PREFECT_PIP_INSTALL, PREFECT_VERSION } from "../src/versions";
import { findRealPrefect, REAL_PREFECT_HINT } from "./support/prefect-real";

/** How the real-Prefect tier finds its Prefect: never a silent skip, never another version. */
describe("the real-Prefect tier's prerequisite", () => {
  /** A bin/ with a `prefect` script and a `prefect-python` that reports these package versions. */
  function fakeBin(versions: { prefect: string; aws: string }): string {
    const bin = mkdtempSync(join(tmpdir(), "prefect-ecs-fake-bin-"));
    writeFileSync(join(bin, "prefect"), "#!/usr/bin/env bash\nexit 0\n");
    writeFileSync(join(bin, "prefect-python"), `#!/bin/sh\nprintf '%s\\n%s\\n' '${versions.prefect}' '${versions.aws}'\n`);
    chmodSync(join(bin, "prefect"), 0o755);
    chmodSync(join(bin, "prefect-python"), 0o755);
    return bin;
  }

  it("GIVEN no prefect on PATH THEN it fails with one line saying how to install the pinned versions", () => {
    expect(() => findRealPrefect("/nonexistent")).toThrow(`${REAL_PREFECT_HINT} (no prefect on PATH)`);
    expect(REAL_PREFECT_HINT).toContain(PREFECT_PIP_INSTALL);
    expect(REAL_PREFECT_HINT).not.toContain("\n");
  });

  it("GIVEN another Prefect or prefect-aws version THEN it refuses it, naming what it found", () => {
    const bin = fakeBin({ prefect: "3.6.28", aws: PREFECT_AWS_VERSION });
    expect(() => findRealPrefect(`${bin}:/usr/bin:/bin`)).toThrow(`found prefect 3.6.28 with prefect-aws ${PREFECT_AWS_VERSION}`);
    const noAws = fakeBin({ prefect: PREFECT_VERSION, aws: "none" });
    expect(() => findRealPrefect(`${noAws}:/usr/bin:/bin`)).toThrow(`found prefect ${PREFECT_VERSION} with prefect-aws none`);
  });

  it("GIVEN the pinned versions THEN it returns that prefect", () => {
    const bin = fakeBin({ prefect: PREFECT_VERSION, aws: PREFECT_AWS_VERSION });
    expect(findRealPrefect(`${bin}:/usr/bin:/bin`)).toEqual({ bin: join(bin, "prefect"), python: join(bin, "prefect-python") });
  });
});
