import type { TestProject } from "vitest/node";
import { MOTO_INSTALL_HINT, requireMoto } from "./emulator";
import { ensureAwsProvider } from "./terraform";
import { findRealPrefect, type PrefectServer, startPrefectServer } from "./prefect-real";

declare module "vitest" {
  export interface ProvidedContext {
    /** The tier's shared Prefect server (no auth): each test file uses pools of its own names. */
    prefectServer: { apiUrl: string; clientEnv: Record<string, string> };
  }
}

let server: PrefectServer | undefined;

/**
 * Runs once before the real-Prefect tier: without the pinned Prefect on PATH nothing here can run, so the tier
 * stops at once with one line saying how to install it (never a silent skip); the same for moto's server and the
 * Terraform AWS provider. Then one server starts for all files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The files that apply the stack or read AWS use moto's server and the Terraform AWS provider, as the emulator tier does.
  for (const check of [findRealPrefect, requireMoto, ensureAwsProvider]) {
    try {
      check();
    } catch (error) {
      console.error(check === requireMoto ? MOTO_INSTALL_HINT : (error as Error).message);
      process.exit(1);
    }
  }
  const started = Date.now();
  server = await startPrefectServer();
  console.log(`real-Prefect tier: server ${server.apiUrl} (pid ${server.pid}) healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide("prefectServer", { apiUrl: server.apiUrl, clientEnv: server.clientEnv });
  return async () => {
    await server?.stop();
  };
}
