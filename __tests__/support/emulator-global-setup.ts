import { rmSync } from "node:fs";
import { join } from "node:path";
import { MOTO_INSTALL_HINT, requireMoto } from "./emulator";
import { ensureAwsProvider } from "./terraform";

/**
 * Runs once before the emulator tier: without moto's server (or Terraform) no lane can run, so the tier
 * stops at once with one line saying what to install, instead of every lane failing the same way.
 */
export default function setup(): void {
  try {
    requireMoto();
  } catch {
    console.error(MOTO_INSTALL_HINT);
    process.exit(1);
  }
  try {
    ensureAwsProvider();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  // Each lane records its Terraform timings here; start from none.
  rmSync(join(__dirname, "..", "..", "test-results", "emulator"), { recursive: true, force: true });
}
