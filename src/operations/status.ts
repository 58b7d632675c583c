import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import type { Settings } from "../settings";
import { PREFECT_CLOUD_API } from "../settings/prefect-connection";
import { ALL_CONTROL_CHARACTERS, isLoopbackHost, isPrivateHost, redactUrl } from "../settings/service-rules";

/**
 * `npm run status`: one screen answering "is it working?" for a deployed stack, from AWS (the worker
 * service and its alarms) and from Prefect's REST API (the pool, its workers, its last flow runs).
 * Each finding that means "not working" is a problem; the command exits non-zero with the first one.
 */

/** A worker whose last heartbeat is older than this is taken as gone (Prefect's own offline mark is about 90 s). */
export const HEARTBEAT_STALE_SECONDS = 120;

export interface PrefectTarget {
  /** Base URL ending in /api (Cloud: .../accounts/<id>/workspaces/<id>). */
  readonly apiUrl: string;
  /** The Authorization header value; never printed. */
  readonly authorization?: string;
}

export interface StatusSources {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly prefect?: PrefectTarget;
}

export interface StatusReport {
  readonly lines: string[];
  readonly problems: string[];
}

/**
 * Where Prefect is and how to authenticate, from the settings and the environment; the credential is never echoed.
 * The credential follows the stack's target: a bearer API key for Prefect Cloud, the basic auth string for a
 * self-hosted server with `self_hosted_auth = "auth_string"`, nothing otherwise, so neither reaches the wrong server.
 */
export function prefectTarget(settings: Settings, env: NodeJS.ProcessEnv): { target?: PrefectTarget; missing?: string } {
  const override = env.PREFECT_API_URL;
  if (override !== undefined) {
    const problem = overrideError(override, settings.prefect_api_allow_plain_http);
    if (problem) return { missing: `PREFECT_API_URL${shownUrl(override)} is not usable: ${problem}` };
  }
  // The in-stack server answers inside the VPC only: the operator reaches it through a port forward.
  if (settings.prefect_server && override === undefined)
    return {
      missing:
        "Prefect: the in-stack server is private; open a port forward (README, Self-hosted server) and run with PREFECT_API_URL=http://localhost:4200/api",
    };
  const account = env.TF_VAR_prefect_account_id ?? settings.prefect_account_id;
  const workspace = env.TF_VAR_prefect_workspace_id ?? settings.prefect_workspace_id;
  const stackUrl =
    settings.prefect_api_url ?? (account && workspace ? `${PREFECT_CLOUD_API}/accounts/${account}/workspaces/${workspace}` : undefined);
  // The stack's credential goes only to the stack's own server: a PREFECT_API_URL left exported for another server
  // (a local one at http://localhost:4200/api, another workspace) is reported, never sent the key.
  if (override !== undefined) {
    const elsewhere = overrideElsewhere(settings, override, stackUrl);
    if (elsewhere) return { missing: `PREFECT_API_URL${shownUrl(override)} ${elsewhere}` };
  }
  const apiUrl = override ?? stackUrl;
  if (!apiUrl) return { missing: "Prefect: no API URL: set TF_VAR_prefect_account_id and TF_VAR_prefect_workspace_id (or PREFECT_API_URL)" };
  let authorization: string | undefined;
  if (settings.prefect_target === "cloud") {
    const key = env.PREFECT_API_KEY ?? env.TF_VAR_prefect_api_key ?? settings.prefect_api_key;
    if (!key) return { missing: "Prefect: no credential: set PREFECT_API_KEY (or TF_VAR_prefect_api_key) to read the work pool" };
    authorization = `Bearer ${key}`;
  } else if (settings.self_hosted_auth === "auth_string") {
    const auth = env.PREFECT_API_AUTH_STRING ?? env.TF_VAR_prefect_api_auth_string ?? settings.prefect_api_auth_string;
    if (!auth) return { missing: "Prefect: no credential: set PREFECT_API_AUTH_STRING (or TF_VAR_prefect_api_auth_string) to read the work pool" };
    authorization = `Basic ${Buffer.from(auth).toString("base64")}`;
  }
  return { target: { apiUrl: apiUrl.replace(/\/+$/, ""), authorization } };
}

/** The URL as a message may show it: origin and path only (no user, password, query or fragment); nothing if it does not parse. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return ` = "${parsed.origin}${parsed.pathname}"`;
  } catch {
    return "";
  }
}

/** An override must be a plain http(s) URL: no user, password, query or fragment; plain HTTP only to a private or loopback host. */
function overrideError(url: string, allowPlainHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'use an http(s) URL ending in /api, such as "http://127.0.0.1:4200/api"';
  }
  if (parsed.username || parsed.password) return "it holds a user name or password; give the auth string in PREFECT_API_AUTH_STRING instead";
  if (parsed.search || parsed.hash) return "a query or fragment cannot be part of the API URL";
  if (parsed.protocol === "https:") return undefined;
  if (parsed.protocol !== "http:") return 'use an http(s) URL ending in /api, such as "http://127.0.0.1:4200/api"';
  const host = parsed.hostname.toLowerCase();
  return isLoopbackHost(host) || isPrivateHost(host) || allowPlainHttp
    ? undefined
    : "plain HTTP to a public host would send the credential unencrypted; use https (or prefect_api_allow_plain_http = true)";
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, "").toLowerCase() === b.replace(/\/+$/, "").toLowerCase();

/**
 * Why an exported PREFECT_API_URL is not this stack's server, or undefined when it is: Prefect Cloud stacks take
 * only their own workspace's URL; a self-hosted server its own URL, or a port forward on this machine (loopback);
 * the in-stack server a port forward, or a private address inside the VPC.
 */
function overrideElsewhere(settings: Settings, override: string, stackUrl: string | undefined): string | undefined {
  const host = new URL(override).hostname.toLowerCase();
  const loopback = isLoopbackHost(host);
  if (settings.prefect_target === "cloud") {
    if (stackUrl === undefined)
      return /^https:\/\/api\.prefect\.cloud\/api\/accounts\/[0-9a-f-]{36}\/workspaces\/[0-9a-f-]{36}\/?$/i.test(override)
        ? undefined
        : "is not a Prefect Cloud workspace URL, and this stack's key is for Prefect Cloud; unset PREFECT_API_URL";
    return sameUrl(override, stackUrl)
      ? undefined
      : `is not this stack's Prefect Cloud workspace (${stackUrl}); its key is sent only there: unset PREFECT_API_URL or point it at that workspace`;
  }
  if (settings.prefect_server)
    return loopback || isPrivateHost(host)
      ? undefined
      : "is not a port forward to the in-stack server (a loopback or private address); unset it or point it at the forward";
  return loopback || (stackUrl !== undefined && sameUrl(override, stackUrl))
    ? undefined
    : `is neither this stack's server (${stackUrl}) nor a port forward on this machine; its credential is sent only there: unset PREFECT_API_URL or point it at one of them`;
}

/**
 * How long ago, for a human. A time slightly after `now` (the server stamped a heartbeat after this command read
 * its clock, or the two clocks differ a little) reads as 0 s ago, not as a negative age.
 */
export const ago = (from: Date | undefined, now: Date) =>
  from ? `${Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000))} s ago` : "never";

async function awsSide(settings: Settings, sources: StatusSources, report: StatusReport): Promise<void> {
  const cluster = settings.name_prefix;
  const serviceName = `${settings.name_prefix}-worker`;
  const serverName = `${settings.name_prefix}-prefect-server`;
  let described;
  try {
    described = await sources.ecs.send(
      new DescribeServicesCommand({ cluster, services: [serviceName, ...(settings.prefect_server ? [serverName] : [])] }),
    );
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    if (name === "ClusterNotFoundException") {
      report.problems.push(`not deployed: no ECS cluster ${cluster} in ${settings.aws_region} (npm run deploy creates it)`);
      return;
    }
    if (/Credential|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|AccessDenied/i.test(`${name} ${String(error)}`)) {
      report.problems.push(`AWS: no usable credentials (${name || "error"}); sign in (e.g. aws sso login) and run again`);
      return;
    }
    throw error;
  }
  const service = described.services?.find((s) => s.status !== "INACTIVE" && s.serviceName === serviceName);
  if (settings.prefect_server) {
    // The in-stack server: the worker can do nothing without it.
    const server = described.services?.find((s) => s.status !== "INACTIVE" && s.serviceName === serverName);
    if (!server) report.problems.push(`not deployed: no Prefect server service ${serverName} in cluster ${cluster}`);
    else {
      report.lines.push(`Prefect server service ${serverName}: desired ${server.desiredCount ?? 0}, running ${server.runningCount ?? 0}`);
      if ((server.runningCount ?? 0) < 1)
        report.problems.push(`the Prefect server runs no task: read its log group /ecs/${settings.name_prefix}/prefect-server`);
    }
  }
  if (!service) {
    report.problems.push(`not deployed: no worker service ${serviceName} in cluster ${cluster}`);
    return;
  }
  const { desiredCount = 0, runningCount = 0, pendingCount = 0 } = service;
  report.lines.push(`Worker service ${serviceName}: desired ${desiredCount}, running ${runningCount}, pending ${pendingCount}`);
  if (runningCount < desiredCount) report.problems.push(`the worker service runs ${runningCount} of ${desiredCount} desired task(s)`);
  const deployment = service.deployments?.find((d) => d.status === "PRIMARY");
  if (deployment) {
    report.lines.push(
      `  last deployment: ${deployment.rolloutState ?? "unknown"}${deployment.rolloutStateReason ? ` (${deployment.rolloutStateReason})` : ""}`,
    );
    if (deployment.rolloutState === "FAILED")
      report.problems.push(`the last deployment failed: ${deployment.rolloutStateReason ?? "no reason given"}`);
  }
  for (const event of (service.events ?? []).slice(0, 5)) report.lines.push(`  ${event.createdAt?.toISOString() ?? ""} ${event.message ?? ""}`);

  let alarms;
  try {
    alarms = (await sources.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${settings.name_prefix}-` }))).MetricAlarms ?? [];
  } catch (error) {
    report.problems.push(`AWS: cannot read the stack's alarms (${(error as { name?: string }).name ?? "error"})`);
    return;
  }
  if (alarms.length) {
    report.lines.push("Alarms:");
    for (const alarm of alarms) {
      report.lines.push(`  ${alarm.StateValue?.padEnd(17)} ${alarm.AlarmName}`);
      if (alarm.StateValue === "ALARM") report.problems.push(`alarm ${alarm.AlarmName} is in ALARM`);
    }
  }
}

async function prefectSide(settings: Settings, sources: StatusSources, now: Date, report: StatusReport): Promise<void> {
  const target = sources.prefect!;
  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const response = await fetch(`${target.apiUrl}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...(target.authorization ? { Authorization: target.authorization } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: response.status < 300 ? await response.json() : undefined };
  };
  const pool = settings.work_pool_name;
  const poolPath = `/work_pools/${encodeURIComponent(pool)}`;
  let found;
  try {
    found = await call("GET", poolPath);
  } catch (error) {
    // fetch's own message may quote the URL; only its cause's code is shown.
    const code = (error as { cause?: { code?: string } }).cause?.code ?? "no answer";
    report.problems.push(`Prefect: cannot reach ${redactUrl(target.apiUrl)} (${code})`);
    return;
  }
  if (found.status === 401 || found.status === 403) {
    report.problems.push(`Prefect: the API refused the credential (HTTP ${found.status}); check PREFECT_API_KEY or the auth string`);
    return;
  }
  if (found.status === 404) {
    report.problems.push(
      settings.prefect_server
        ? `Prefect: work pool ${pool} does not exist (the worker creates it when it starts: see the worker's log group), unless manage_work_pool = false`
        : `Prefect: work pool ${pool} does not exist (npm run deploy creates it, unless manage_work_pool = false)`,
    );
    return;
  }
  if (found.status >= 300) {
    report.problems.push(`Prefect: reading work pool ${pool} answered HTTP ${found.status}`);
    return;
  }
  report.lines.push(`Work pool ${pool}: ${found.json.status ?? "unknown"}${found.json.is_paused ? " (paused)" : ""}`);
  if (found.json.is_paused) report.problems.push(`work pool ${pool} is paused: flow runs wait until it is resumed`);

  const workerAnswer = await call("POST", `${poolPath}/workers/filter`, { limit: 10 });
  if (workerAnswer.status >= 300) {
    report.problems.push(`Prefect: reading the pool's workers answered HTTP ${workerAnswer.status}`);
    return;
  }
  const workers: { name: string; last_heartbeat_time?: string; status?: string }[] = workerAnswer.json ?? [];
  const fresh = workers.filter((w) => w.last_heartbeat_time && (now.getTime() - Date.parse(w.last_heartbeat_time)) / 1000 <= HEARTBEAT_STALE_SECONDS);
  for (const worker of workers) {
    report.lines.push(
      `  worker ${worker.name}: ${worker.status ?? "?"}, last heartbeat ${ago(worker.last_heartbeat_time ? new Date(worker.last_heartbeat_time) : undefined, now)}`,
    );
  }
  if (!fresh.length) report.problems.push(`no worker has polled work pool ${pool} in the last ${HEARTBEAT_STALE_SECONDS} s`);

  const runAnswer = await call("POST", "/flow_runs/filter", { work_pools: { name: { any_: [pool] } }, sort: "EXPECTED_START_TIME_DESC", limit: 5 });
  if (runAnswer.status >= 300) {
    report.problems.push(`Prefect: reading the pool's flow runs answered HTTP ${runAnswer.status}`);
    return;
  }
  const runs: { name: string; state?: { type?: string; name?: string }; expected_start_time?: string }[] = runAnswer.json ?? [];
  report.lines.push(runs.length ? "Last flow runs:" : "Last flow runs: none yet");
  for (const run of runs) report.lines.push(`  ${run.expected_start_time ?? ""} ${run.name}: ${run.state?.name ?? run.state?.type ?? "?"}`);
}

/** An error's name or network code for a message: never its text, which may quote a URL or a credential. */
const errorCode = (error: unknown): string =>
  (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code ?? (error as { name?: string }).name ?? "error";

/** Gathers the report; the AWS and Prefect sides are read independently so one failing does not hide the other. */
export async function gatherStatus(settings: Settings, sources: StatusSources): Promise<StatusReport> {
  const now = new Date();
  const report: StatusReport = { lines: [`Stack ${settings.name_prefix} (${settings.aws_region})`], problems: [] };
  try {
    await awsSide(settings, sources, report);
  } catch (error) {
    report.problems.push(`AWS: cannot read the stack (${errorCode(error)}); check the network, AWS_ENDPOINT_URL and the region`);
  }
  if (sources.prefect) {
    try {
      await prefectSide(settings, sources, now, report);
    } catch (error) {
      report.problems.push(`Prefect: reading the pool failed (${errorCode(error)})`);
    }
  }
  return report;
}

/**
 * Text from AWS and the Prefect API (names, reasons, events) as the terminal may show it: control characters
 * (escape sequences, OSC-8 links, a newline that would forge an "OK:" line) are shown as "?".
 */
const printable = (text: string): string => text.replace(ALL_CONTROL_CHARACTERS, "?");

/** The screen: findings, then one last line saying whether it works and, if not, why. */
export function renderStatus(report: StatusReport, missing: string[] = []): { text: string; ok: boolean } {
  const problems = [...report.problems, ...missing];
  const last = problems.length
    ? `NOT OK: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more above)` : ""}`
    : "OK: the worker runs and polls its pool";
  const body = [...report.lines, ...(problems.length > 1 ? ["Problems:", ...problems.map((p) => `  - ${p}`)] : [])];
  return { text: [...body, last].map(printable).join("\n"), ok: problems.length === 0 };
}
