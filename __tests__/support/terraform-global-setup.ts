import { ensureAwsProvider } from "./terraform";

/**
 * Runs once before the real-Terraform tier: installs hashicorp/aws (from a mirror, or once into the shared
 * plugin cache) before test files start side by side, or stops the tier with one line saying how to get it.
 */
export default function setup(): void {
  try {
    ensureAwsProvider();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
