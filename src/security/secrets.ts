import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { literal } from "../literal";
import { stackOutput } from "../stacks/outputs";

/** How a container gets one credential: env var name, ECS `valueFrom`, and the ARN IAM must allow. */
export interface ContainerSecret {
  /** PREFECT_API_KEY or PREFECT_API_AUTH_STRING. */
  readonly envName: string;
  /** ECS `secrets[].valueFrom`: the secret ARN, with `:<json-key>::` when the secret is JSON. */
  readonly valueFrom: string;
  /** The secret itself (no JSON key), for `secretsmanager:GetSecretValue`. */
  readonly secretArn: string;
}

export type CredentialSource =
  /** The stack stores the value of a sensitive, ephemeral Terraform variable. */
  | {
      readonly kind: "managed";
      readonly envName: string;
      readonly secretName: string;
      readonly value: string;
      readonly version: number;
      readonly recoveryWindowDays: number;
    }
  /** The operator's own secret; its value never passes through Terraform. */
  | { readonly kind: "existing"; readonly envName: string; readonly arn: string };

export interface SecretsProps {
  readonly source: CredentialSource;
}

/** Splits `arn:…:secret:name-AbCdEf:json-key` into the secret ARN and the optional JSON key. */
export function splitSecretArn(arn: string): { secretArn: string; jsonKey?: string } {
  const parts = arn.split(":");
  return { secretArn: parts.slice(0, 7).join(":"), jsonKey: parts[7] };
}

/** The Prefect credential the worker (and flow runs) read from Secrets Manager. */
export class Secrets extends Construct {
  readonly credential: ContainerSecret;
  /** The secret and its value, when the stack writes them: tasks must not start before they exist. */
  readonly prerequisites: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const { source } = props;
    if (source.kind === "existing") {
      const { secretArn, jsonKey } = splitSecretArn(source.arn);
      // The JSON key is free text from settings: kept literal so Terraform cannot read it as a template.
      this.credential = { envName: source.envName, secretArn, valueFrom: jsonKey ? `${secretArn}:${literal(jsonKey)}::` : secretArn };
      this.output();
      return;
    }
    const secret = new SecretsmanagerSecret(this, "secret", {
      name: source.secretName,
      description: `${source.envName} for the Prefect worker and its flow runs`,
      recoveryWindowInDays: source.recoveryWindowDays,
    });
    // Write-only: the value goes to AWS but is never stored in Terraform state or shown in plans.
    // Bump the version number to push a new value.
    const value = new SecretsmanagerSecretVersion(this, "secret_value", {
      secretId: secret.id,
      secretStringWo: source.value,
      secretStringWoVersion: source.version,
    });
    this.prerequisites.push(secret, value);
    this.credential = { envName: source.envName, secretArn: secret.arn, valueFrom: secret.arn };
    this.output();
  }

  private output(): void {
    stackOutput(this, "prefect_credential_secret_arn", this.credential.secretArn, "Secrets Manager secret holding the Prefect credential");
  }
}
