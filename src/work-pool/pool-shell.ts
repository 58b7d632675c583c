/**
 * Shell lines both pool paths share: the pool command on the operator's machine (work-pool.ts) and the
 * worker's own step with an in-stack server (worker-bootstrap.ts). Provider-free. They read WORK_POOL,
 * WORK_QUEUES and `$template_file`; no "${" or "%{" (the lines reach Terraform JSON).
 */

/**
 * Writes the stack's template to the pool. An existing pool is updated with `work-pool update
 * --base-job-template`, which changes the template only: `work-pool create --overwrite` would also send
 * is_paused = false and clear the concurrency limit and description an operator set
 * (PrefectHQ/prefect src/prefect/cli/work_pool.py `create` builds a full WorkPoolCreate and the client's
 * overwrite path PATCHes all of it; `update` sends only what is given). A create that loses a race with
 * another worker falls back to the update.
 */
export const WRITE_POOL = [
  'if prefect work-pool inspect "$WORK_POOL" >/dev/null 2>&1; then',
  '  prefect work-pool update "$WORK_POOL" --base-job-template "$template_file"',
  "else",
  '  prefect work-pool create "$WORK_POOL" --type ecs --base-job-template "$template_file" ||',
  '    prefect work-pool update "$WORK_POOL" --base-job-template "$template_file"',
  "fi",
].join("\n");

/** Creates each queue of WORK_QUEUES that the pool lacks (names are [A-Za-z0-9_.-], so unquoted splitting is safe). */
export const CREATE_QUEUES = [
  "for queue in $WORK_QUEUES; do",
  '  prefect work-queue inspect "$queue" --pool "$WORK_POOL" >/dev/null 2>&1 || prefect work-queue create "$queue" --pool "$WORK_POOL" ||',
  '    { echo "prefect-ecs: could not create work queue $queue in pool $WORK_POOL" >&2; exit 1; }',
  "done",
].join("\n");
