import { Construct } from "constructs";
import { Fn, type ITerraformDependable, TerraformSelf } from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Resource } from "@cdktf/provider-null/lib/resource";

export const INSTALL_HINT = `prefect-ecs: the Prefect CLI (prefect) is not on PATH; install it with: ${PREFECT_PIP_INSTALL}`;

const REQUIRE_PREFECT = `command -v prefect >/dev/null 2>&1 || { echo "${INSTALL_HINT}" >&2; exit 127; }`;

import { TEMPLATE_TEMP_PREFIX } from "../naming";
import { CREATE_QUEUES, WRITE_POOL } from "./pool-shell";
import { PREFECT_PIP_INSTALL } from "../versions";

export { TEMPLATE_TEMP_PREFIX } from "../naming";

/**
 * Creates the pool or updates its template (see pool-shell.ts), then makes sure each listed queue exists. Values arrive as environment
 * variables, never spliced into the command, so no name or URL needs shell quoting. The template arrives as
 * text (about 30 KiB; Linux allows 128 KiB per variable) and lives in a temporary file only while the CLI
 * reads it: a file kept beside the stack would be missing on every fresh CI runner.
 */
export const CREATE_COMMAND = [
  "set -e",
  REQUIRE_PREFECT,
  // No "${" here: Terraform would read it as an interpolation. -t puts the file in $TMPDIR or /tmp.
  `template_file=$(mktemp -t ${TEMPLATE_TEMP_PREFIX}.XXXXXX)`,
  "trap 'rm -f \"$template_file\"' EXIT",
  'printf \'%s\' "$BASE_JOB_TEMPLATE" > "$template_file"',
  WRITE_POOL,
  CREATE_QUEUES,
].join("\n");

/** What the delete command prints when Prefect answers 403 (reserved name or a key without the right). */
export const DELETE_FORBIDDEN_HINT =
  "prefect-ecs: Prefect refused to delete work pool '$WORK_POOL' (HTTP 403). Names starting with 'prefect' are reserved " +
  "and can be neither created nor deleted; otherwise the API key lacks the right to delete pools. See README, Troubleshooting.";

/**
 * Deletes the pool; a pool that is already gone is not an error, anything else is. A 403 is checked first:
 * it is a refusal, not "already gone" (PrefectHQ/prefect src/prefect/server/api/workers.py, delete_work_pool).
 */
export const DELETE_COMMAND = [
  REQUIRE_PREFECT,
  'if output=$(prefect work-pool delete "$WORK_POOL" 2>&1); then echo "$output"; exit 0; fi',
  `case "$output" in *"403"*|*"Forbidden"*|*"reserved for internal use"*) echo "$output" >&2; echo "${DELETE_FORBIDDEN_HINT}" >&2; exit 1;; esac`,
  'case "$output" in *"does not exist"*|*"not found"*|*"Not Found"*) echo "prefect-ecs: work pool $WORK_POOL is already gone"; exit 0;; esac',
  'echo "$output" >&2',
  "exit 1",
].join("\n");

export interface WorkPoolProps {
  readonly poolName: string;
  /** The base job template as JSON text (may hold Terraform interpolations of ARNs and ids). */
  readonly templateJson: string;
  /** PREFECT_API_URL; not secret. */
  readonly apiUrl: string;
  /** Credential env var for the create command (an ephemeral variable reference). @default none */
  readonly credential?: { readonly envName: string; readonly value: string };
  /** Queues to create in the pool. @default none (the pool's default queue only) */
  readonly workQueues?: string[];
  /** What the template names: the pool is created after these and deleted before them. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * The Prefect ECS work pool, kept in step with the stack. Two null_resources run the Prefect CLI:
 * - `pool` stands for the pool's identity (name and API URL) and deletes the pool on destroy;
 * - `template_sync` creates the pool, or overwrites its template, whenever the template, name, API URL
 *   or queues change. Its triggers are configuration only (the template's sha256 and the pool's identity),
 *   never an attribute of a resource that might not exist yet, so an unchanged stack plans "No changes" on
 *   any machine, and the trigger is known whenever the template's own inputs are.
 * They are split because Terraform replaces a null_resource whose triggers change, and a replacement runs
 * destroy-time provisioners: one resource holding both would delete and re-create the pool (and its queues)
 * on every template change.
 */
export class WorkPool extends Construct {
  /** Deleted (with the pool) before anything the template names. */
  readonly pool: Resource;
  /** Done once the pool exists with the current template. */
  readonly templateSync: Resource;

  constructor(scope: Construct, id: string, props: WorkPoolProps) {
    super(scope, id);
    new NullProvider(this, "null");

    this.pool = new Resource(this, "pool", {
      triggers: { pool_name: props.poolName, api_url: props.apiUrl },
      // Depending on what the template names makes Terraform delete the pool before them.
      dependsOn: props.dependsOn,
      provisioners: [
        {
          // Destroy-time provisioners may only read self; the credential comes from the operator's environment.
          type: "local-exec",
          when: "destroy",
          command: DELETE_COMMAND,
          environment: {
            WORK_POOL: TerraformSelf.getString("triggers.pool_name"),
            PREFECT_API_URL: TerraformSelf.getString("triggers.api_url"),
          },
        },
      ],
    });
    const queues = (props.workQueues ?? []).join(" ");
    this.templateSync = new Resource(this, "template_sync", {
      // Any change here replaces this resource, which re-runs the create command (with --overwrite).
      triggers: {
        template_sha256: Fn.sha256(props.templateJson),
        pool_name: props.poolName,
        api_url: props.apiUrl,
        work_queues: queues,
      },
      dependsOn: [this.pool],
      provisioners: [
        {
          type: "local-exec",
          command: CREATE_COMMAND,
          environment: {
            WORK_POOL: props.poolName,
            BASE_JOB_TEMPLATE: props.templateJson,
            WORK_QUEUES: queues,
            PREFECT_API_URL: props.apiUrl,
            ...(props.credential ? { [props.credential.envName]: props.credential.value } : {}),
          },
        },
      ],
    });
  }
}
