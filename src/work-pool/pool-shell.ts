/**
 * Shell lines both pool paths share: the pool command on the operator's machine (work-pool.ts) and the
 * worker's own step with an in-stack server (worker-bootstrap.ts). Provider-free. They read WORK_POOL,
 * WORK_QUEUES and `$template_file`; no "${" or "%{" (the lines reach Terraform JSON).
 */

/** What the CLI prints when the server answers 403 to a create (PrefectHQ/prefect src/prefect/server/api/workers.py, create_work_pool). */
export const RESERVED_POOL_HINT =
  "prefect-ecs: work pool names starting with 'prefect' (any case) are reserved by Prefect; choose another work_pool_name.";

/**
 * Writes the stack's template to the pool. An existing pool is updated with `work-pool update
 * --base-job-template`, which changes the template only: `work-pool create --overwrite` would also send
 * is_paused = false and clear the concurrency limit and description an operator set
 * (PrefectHQ/prefect src/prefect/cli/work_pool.py `create` builds a full WorkPoolCreate and the client's
 * overwrite path PATCHes all of it; `update` sends only what is given). Only a create that lost a race with
 * another writer ("already exists") falls back to the update: any other refusal (a reserved name, a template
 * the server turns down, a wrong key) is printed once and fails, instead of a second, confusing error from an
 * update of a pool that is not there.
 */
export const WRITE_POOL = [
  'if prefect work-pool inspect "$WORK_POOL" >/dev/null 2>&1; then',
  '  prefect work-pool update "$WORK_POOL" --base-job-template "$template_file"',
  'elif output=$(prefect work-pool create "$WORK_POOL" --type ecs --base-job-template "$template_file" 2>&1); then',
  "  printf '%s\\n' \"$output\"",
  "else",
  '  case "$output" in',
  '    *"already exists"*) prefect work-pool update "$WORK_POOL" --base-job-template "$template_file";;',
  `    *"reserved for internal use"*) printf '%s\\n' "$output" >&2; echo "${RESERVED_POOL_HINT}" >&2; exit 1;;`,
  "    *) printf '%s\\n' \"$output\" >&2; exit 1;;",
  "  esac",
  "fi",
].join("\n");

/** Creates each queue of WORK_QUEUES that the pool lacks (names are [A-Za-z0-9_.-], so unquoted splitting is safe). */
export const CREATE_QUEUES = [
  "for queue in $WORK_QUEUES; do",
  '  prefect work-queue inspect "$queue" --pool "$WORK_POOL" >/dev/null 2>&1 || prefect work-queue create "$queue" --pool "$WORK_POOL" ||',
  '    { echo "prefect-ecs: could not create work queue $queue in pool $WORK_POOL" >&2; exit 1; }',
  "done",
].join("\n");
