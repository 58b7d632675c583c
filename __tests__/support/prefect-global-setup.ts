import type { TestProject } from "vitest/node";
import { findRealPrefect, type PrefectServer, REAL_PREFECT_HINT, startPrefectServer } from "./prefect-real";

declare module "vitest" {
  export interface ProvidedContext {
    /** The tier's shared Prefect server (no auth): each test file uses pools of its own names. */
    prefectServer: { apiUrl: string; clientEnv: Record<string, string> };
  }
}

let server: PrefectServer | undefined;

/**
 * Runs once before the real-Prefect tier: without the pinned Prefect on PATH nothing here can run, so the tier
 * stops at once with one line saying how to install it (never a silent skip). Then one server starts for all files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    findRealPrefect();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const started = Date.now();
  server = await startPrefectServer();
  console.log(`real-Prefect tier: server ${server.apiUrl} (pid ${server.pid}) healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide("prefectServer", { apiUrl: server.apiUrl, clientEnv: server.clientEnv });
  return async () => {
    await server?.stop();
  };
}

export { REAL_PREFECT_HINT };
