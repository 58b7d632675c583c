/**
 * How the worker creates its own work pool when the Prefect server runs inside this stack (prefect_server).
 * The operator's machine cannot reach that server, and `prefect worker start --base-job-template` is ignored
 * once the pool exists (PrefectHQ/prefect src/prefect/workers/base.py, BaseWorker._update_local_work_pool_info),
 * so the container first runs `prefect work-pool create --overwrite` with the stack's template, then starts the
 * worker. A new template changes the task definition, so the next worker task writes it to the pool.
 * Provider-free: tests run the script with a stand-in `prefect`.
 */
import { TEMPLATE_TEMP_PREFIX } from "../naming";

/** Seconds between readiness probes, and how many: the server runs its migrations before it answers. */
export const READY_PROBE_INTERVAL_SECONDS = 5;
export const READY_PROBE_ATTEMPTS = 48;
/** The worker's health check must not count the wait (ECS allows a start period of at most 300 s). */
export const BOOTSTRAP_START_PERIOD_SECONDS = 300;

/**
 * `/api/ready` answers 200 only once the server can reach its database (`/api/health` does not check it), and
 * needs no credential even with PREFECT_SERVER_API_AUTH_STRING (src/prefect/server/api/server.py).
 * Python, because the Prefect images have no curl.
 */
const PROBE = `python -c "import os, urllib.request; urllib.request.urlopen(os.environ['PREFECT_API_URL'] + '/ready', timeout=5)" >/dev/null 2>&1`;

/** The template arrives gzipped and base64-encoded: no quotes to escape inside the task definition, and about
 * a quarter of the size (ECS caps a task definition at 64 KiB). */
export const TEMPLATE_ENV = "BASE_JOB_TEMPLATE_GZIP_B64";
const DECODE = `python -c "import base64, gzip, os, sys; sys.stdout.write(gzip.decompress(base64.b64decode(os.environ['${TEMPLATE_ENV}'])).decode())"`;

/**
 * The container command: wait for the server, create or overwrite the pool and its queues, then replace the
 * shell with the worker. Values arrive in environment variables (WORK_POOL, WORK_QUEUES and the template),
 * never spliced into the script. Every failure exits non-zero with a line saying what failed, so the task stops
 * as EssentialContainerExited (the alarms' task-stop rule and `npm run status` show it) and ECS retries.
 * No "${" or "%{" anywhere: the script reaches Terraform JSON, where they would start a template.
 */
export function workerBootstrapScript(workerStart: string[]): string {
  const quoted = workerStart.map((arg) => (/^[A-Za-z0-9_./:=-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`));
  return [
    "set -eu",
    "attempt=1",
    `until ${PROBE}; do`,
    `  if [ "$attempt" -ge ${READY_PROBE_ATTEMPTS} ]; then echo "prefect-ecs: the Prefect server at $PREFECT_API_URL was not ready after $attempt checks (${READY_PROBE_ATTEMPTS * READY_PROBE_INTERVAL_SECONDS} s); see the server's log group" >&2; exit 1; fi`,
    "  attempt=$((attempt + 1))",
    `  sleep ${READY_PROBE_INTERVAL_SECONDS}`,
    "done",
    `template_file=$(mktemp -t ${TEMPLATE_TEMP_PREFIX}.XXXXXX)`,
    `${DECODE} > "$template_file"`,
    'if ! prefect work-pool create "$WORK_POOL" --type ecs --base-job-template "$template_file" --overwrite; then',
    '  echo "prefect-ecs: could not create or update work pool $WORK_POOL with the stack\'s base job template" >&2',
    "  exit 1",
    "fi",
    'rm -f "$template_file"',
    'for queue in $WORK_QUEUES; do prefect work-queue inspect "$queue" --pool "$WORK_POOL" >/dev/null 2>&1 || prefect work-queue create "$queue" --pool "$WORK_POOL"; done',
    `exec ${quoted.join(" ")}`,
  ].join("\n");
}
