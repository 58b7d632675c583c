/**
 * Runs a command-line entry point. Errors print as their message alone (settings problems already read
 * as sentences); set DEBUG=1 for the stack. Either way the exit code is 1.
 */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error && !process.env.DEBUG ? error.message : error);
    process.exit(1);
  });
}
