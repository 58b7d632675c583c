import type { Settings } from "./index";
import { inStackServerUrl } from "../naming";

export const PREFECT_CLOUD_API = "https://api.prefect.cloud/api";

export type CredentialEnv = "PREFECT_API_KEY" | "PREFECT_API_AUTH_STRING";

/** Where the credential the tasks read lives. */
export type CredentialStore =
  /** The stack writes a secret `<name_prefix>/<suffix>` from a plan-time variable. */
  | {
      readonly kind: "managed";
      readonly envName: CredentialEnv;
      readonly secretSuffix: string;
      readonly variable: "prefect_api_key" | "prefect_api_auth_string";
    }
  /** The operator's own secret (an ARN, optionally with `:<json-key>`); its value never passes through Terraform. */
  | { readonly kind: "existing"; readonly envName: "PREFECT_API_KEY"; readonly arn: string }
  | { readonly kind: "none" };

/** Everything about reaching Prefect that follows from settings, decided in one place. */
export interface PrefectConnection {
  readonly target: "cloud" | "self_hosted";
  /** The server runs in this stack (prefect_server): only the VPC reaches it, so the worker creates the pool. */
  readonly inStackServer: boolean;
  /** PREFECT_API_URL, with `{account}` and `{workspace}` where Prefect Cloud's ids go (they are plan-time values). */
  readonly apiUrlTemplate: string;
  /** TCP ports the worker and flow runs need outbound: 443, plus a self-hosted server's own port. */
  readonly egressPorts: readonly number[];
  /** Plan-time variables that must have a value. */
  readonly required: {
    readonly accountAndWorkspace: boolean;
    readonly apiKey: boolean;
    readonly authString: boolean;
    readonly serverDbPassword: boolean;
  };
  readonly store: CredentialStore;
  /** The credential env var the worker and flow runs get through `secrets[].valueFrom`, if any. */
  readonly taskCredential?: CredentialEnv;
  /** The credential env var the pool command gets (from its plan-time variable), if any. */
  readonly poolCommandCredential?: { readonly envName: CredentialEnv; readonly variable: "prefect_api_key" | "prefect_api_auth_string" };
}

/** TCP port of an http(s) URL (explicit, or 443/80 by scheme). */
export function urlPort(url: string): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : parsed.protocol === "http:" ? 80 : 443;
}

export function planPrefectConnection(s: Settings): PrefectConnection {
  const serverUrl = s.prefect_server ? inStackServerUrl(s) : s.prefect_api_url;
  // An in-stack server is reached through rules naming its security group, not an open port.
  const egressPorts = s.prefect_server ? [443] : [...new Set([443, urlPort(serverUrl ?? PREFECT_CLOUD_API)])];
  if (serverUrl === undefined) {
    const store: CredentialStore = s.existing_api_key_secret_arn
      ? { kind: "existing", envName: "PREFECT_API_KEY", arn: s.existing_api_key_secret_arn }
      : { kind: "managed", envName: "PREFECT_API_KEY", secretSuffix: "prefect-api-key", variable: "prefect_api_key" };
    return {
      target: "cloud",
      inStackServer: false,
      apiUrlTemplate: `${PREFECT_CLOUD_API}/accounts/{account}/workspaces/{workspace}`,
      egressPorts,
      // The pool command needs the key even when the tasks read the operator's own secret.
      required: { accountAndWorkspace: true, apiKey: store.kind === "managed" || s.manage_work_pool, authString: false, serverDbPassword: false },
      store,
      taskCredential: "PREFECT_API_KEY",
      poolCommandCredential: s.manage_work_pool ? { envName: "PREFECT_API_KEY", variable: "prefect_api_key" } : undefined,
    };
  }
  const auth = s.self_hosted_auth === "auth_string";
  return {
    target: "self_hosted",
    inStackServer: s.prefect_server,
    apiUrlTemplate: serverUrl,
    egressPorts,
    required: { accountAndWorkspace: false, apiKey: false, authString: auth, serverDbPassword: s.prefect_server },
    // The basic-auth secret ends in "-auth": a name ending in a hyphen and six characters reads as an ARN suffix.
    store: auth
      ? { kind: "managed", envName: "PREFECT_API_AUTH_STRING", secretSuffix: "prefect-api-auth", variable: "prefect_api_auth_string" }
      : { kind: "none" },
    taskCredential: auth ? "PREFECT_API_AUTH_STRING" : undefined,
    // An in-stack server is private: the worker container creates the pool (see worker-bootstrap.ts), not the operator's machine.
    poolCommandCredential:
      auth && s.manage_work_pool && !s.prefect_server ? { envName: "PREFECT_API_AUTH_STRING", variable: "prefect_api_auth_string" } : undefined,
  };
}
