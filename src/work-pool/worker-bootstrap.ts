/**
 * How the worker creates its own work pool when the Prefect server runs inside this stack (prefect_server).
 * The operator's machine cannot reach that server, and `prefect worker start --base-job-template` is ignored
 * once the pool exists (PrefectHQ/prefect src/prefect/workers/base.py, BaseWorker._update_local_work_pool_info),
 * so the container first writes the stack's template to the pool (created if missing), then starts the worker. A new template changes the task definition, so the next worker task writes it to the pool.
 * Provider-free: tests run the script with a stand-in `prefect`.
 */
import { TEMPLATE_TEMP_PREFIX } from "../naming";
import { CREATE_QUEUES, WRITE_POOL } from "./pool-shell";

/** How long the worker waits for the server's migrations: with one probe's timeout it stays within the start period. */
export const SERVER_WAIT_SECONDS = 240;
/** The worker's health check must not count the wait (ECS allows a start period of at most 300 s). */
export const BOOTSTRAP_START_PERIOD_SECONDS = 300;
/** The environment variable carrying SERVER_WAIT_SECONDS (tests shorten it). */
export const SERVER_WAIT_ENV = "PREFECT_ECS_SERVER_WAIT_SECONDS";

/**
 * Waits for `/api/ready`, which answers 200 only once the server reaches its database (`/api/health` does not
 * check it) and needs no credential even with PREFECT_SERVER_API_AUTH_STRING (src/prefect/server/api/server.py).
 * A deadline, not a count, bounds the wait: a probe that hangs for its whole timeout still counts. Python,
 * because the Prefect images have no curl.
 */
const WAIT_FOR_SERVER = `python -c "
import os, sys, time, urllib.request
deadline = time.monotonic() + int(os.environ['${SERVER_WAIT_ENV}'])
while True:
    try:
        urllib.request.urlopen(os.environ['PREFECT_API_URL'] + '/ready', timeout=5)
        sys.exit(0)
    except Exception:
        if time.monotonic() + 5 > deadline:
            sys.exit(1)
        time.sleep(2)
"`;

/** The template arrives gzipped and base64-encoded: no quotes to escape inside the task definition, and about
 * a quarter of the size (ECS caps a task definition at 64 KiB). */
export const TEMPLATE_ENV = "BASE_JOB_TEMPLATE_GZIP_B64";
const DECODE = `python -c "import base64, gzip, os, sys; sys.stdout.write(gzip.decompress(base64.b64decode(os.environ['${TEMPLATE_ENV}'])).decode())"`;

/** Stops the container with a line saying what failed (the task then stops as EssentialContainerExited). */
const fail = (what: string) => `{ echo "prefect-ecs: ${what}" >&2; exit 1; }`;

/**
 * The container command: wait for the server, write the pool's template and create its queues, then replace the
 * shell with the worker. Values arrive in environment variables (WORK_POOL, WORK_QUEUES and the template),
 * never spliced into the script. Every failure exits non-zero with a line saying what failed, so the task stops
 * as EssentialContainerExited (the alarms' task-stop rule and `npm run status` show it) and ECS retries.
 * No "${" or "%{" anywhere: the script reaches Terraform JSON, where they would start a template.
 */
export function workerBootstrapScript(workerStart: string[]): string {
  const quoted = workerStart.map((arg) => (/^[A-Za-z0-9_./:=-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`));
  return [
    // -f: no globbing of anything that reaches a word.
    "set -euf",
    `${WAIT_FOR_SERVER} || ${fail(`the Prefect server at $PREFECT_API_URL was not ready within $${SERVER_WAIT_ENV} s; see the server's log group`)}`,
    `template_file=$(mktemp -t ${TEMPLATE_TEMP_PREFIX}.XXXXXX)`,
    "trap 'rm -f \"$template_file\"' EXIT",
    `${DECODE} > "$template_file" || ${fail(`could not decode the base job template from ${TEMPLATE_ENV}`)}`,
    `if ! (\n${WRITE_POOL}\n); then ${fail("could not create or update work pool $WORK_POOL with the stack's base job template")}; fi`,
    CREATE_QUEUES,
    'rm -f "$template_file"',
    `exec ${quoted.join(" ")}`,
  ].join("\n");
}
