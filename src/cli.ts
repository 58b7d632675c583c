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

/** What every script in scripts/ declares: how to call it, what it does, and its work on its arguments. */
export interface Script {
  /** e.g. "npm run --silent stack-name [-- <environment>]" */
  readonly usage: string;
  /** One or two sentences. */
  readonly description: string;
  readonly run: (args: string[]) => Promise<void>;
}

/** The one skeleton of the scripts: `--help` prints usage, anything else runs under runCli's error handling. */
export function runScript(script: Script, args = process.argv.slice(2)): void {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(`Usage: ${script.usage}\n\n${script.description}`);
    return;
  }
  runCli(() => script.run(args));
}
