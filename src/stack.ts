import type { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { FlowRunEnvironment } from "./features/flow-runs";
import { TaskNetwork } from "./features/network";
import { Operations } from "./features/operations";
import { Platform } from "./features/platform";
import { InStackServer } from "./features/prefect-server";
import { Worker } from "./features/worker";
import { stackName } from "./naming";
import { type Deployment, SettingsError } from "./settings";
import { planPrefectConnection } from "./settings/prefect-connection";
import { ReadableIdStack } from "./stacks/readable-id-stack";
import { configureStateBackend } from "./stacks/state-backend";
import { declareVariables } from "./stacks/variables";

/**
 * Everything one Prefect worker deployment needs, built from one validated settings object, as a list of
 * features (src/features/) and what each hands the next. Terraform logical ids are the construct path without
 * hashes (`network_vpc`), so plans stay readable and stable across refactors that do not rename constructs;
 * features build their parts in this stack's scope, so they add nothing to those paths.
 */
export class PrefectEcsStack extends ReadableIdStack {
  /** Notes for the operator (e.g. how to move local state to S3); main.ts attaches them as warnings. */
  readonly notes: string[] = [];

  constructor(scope: Construct, deployment: Deployment) {
    super(scope, stackName(deployment.settings));
    const { settings } = deployment;

    new AwsProvider(this, "aws", {
      region: settings.aws_region,
      defaultTags: [{ tags: { ...settings.tags, Project: settings.project_name, Environment: settings.environment, ManagedBy: "cdktf" } }],
    });
    const note = configureStateBackend(this, {
      projectName: settings.project_name,
      environment: settings.environment,
      bucket: settings.state_bucket,
      lockTable: settings.state_lock_table,
      useLockfile: settings.state_locking === "s3_lockfile",
      region: settings.state_region,
    });
    if (note) this.notes.push(note);

    const connection = planPrefectConnection(settings);
    const inputs = declareVariables(this, deployment, connection.required);
    const credentialValue = { prefect_api_key: inputs.prefectApiKey, prefect_api_auth_string: inputs.prefectApiAuthString };
    const context = {
      stack: this,
      settings,
      connection,
      partition: new DataAwsPartition(this, "partition").partition,
      prefectApiUrl: connection.apiUrlTemplate.replace("{account}", inputs.prefectAccountId).replace("{workspace}", inputs.prefectWorkspaceId),
    };

    // Each feature takes the settings and the parts of earlier ones it uses, and exposes what later ones need.
    const network = new TaskNetwork(context);
    const platform = new Platform(context, network, credentialValue);
    const server = connection.inStackServer ? new InStackServer(context, network, platform, inputs) : undefined;
    const flowRuns = new FlowRunEnvironment(context, network, platform, credentialValue);
    const worker = new Worker(context, network, platform, flowRuns, server);
    new Operations(context, network, platform, worker, server);

    // ECS's 64 KiB limit, checked now rather than by RegisterTaskDefinition at apply, after everything else exists.
    const sizeProblems = [worker.sizeError(deployment), server?.sizeError()].filter((problem): problem is string => problem !== undefined);
    if (sizeProblems.length) throw new SettingsError(deployment.source, sizeProblems);
  }
}
