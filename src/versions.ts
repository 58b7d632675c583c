/**
 * The one place Prefect versions are pinned. The worker image, the Prefect CLI the pipelines install, and any
 * flow or server image must run the same Prefect version: client/server skew breaks the worker's websocket and
 * crashes runs (PrefectHQ/prefect#21099, #20775). prefecthq/prefect-aws images are tagged
 * `<prefect-aws>-python<python>-prefect<prefect>` for pairs that were current together (0.7.11 with 3.8.3).
 */
export const PREFECT_VERSION = "3.8.3";
export const PREFECT_AWS_VERSION = "0.7.11";
export const PYTHON_VERSION = "3.12";

export const DEFAULT_WORKER_IMAGE = `prefecthq/prefect-aws:${PREFECT_AWS_VERSION}-python${PYTHON_VERSION}-prefect${PREFECT_VERSION}`;

/** How to install the Prefect CLI at the pinned versions (single quotes: hints also appear inside shell strings). */
export const PREFECT_PIP_INSTALL = `pip install 'prefect==${PREFECT_VERSION}' 'prefect-aws==${PREFECT_AWS_VERSION}'`;

/** The plain Prefect image at the same version: flows build from it, and the in-stack server (`prefect_server`) runs it. */
export const PREFECT_IMAGE = `prefecthq/prefect:${PREFECT_VERSION}-python${PYTHON_VERSION}`;

/**
 * The Terraform every stack needs: write-only arguments (the secrets' `secret_string_wo`, the database's
 * `password_wo`) arrived in 1.11, ephemeral variables in 1.10. Older versions fail with this constraint's
 * message instead of an unknown-argument error deep in the plan.
 */
export const TERRAFORM_REQUIRED_VERSION = ">= 1.11";
