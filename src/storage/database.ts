import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { stackOutput } from "../stacks/outputs";

/** PostgreSQL's default port; left unset on the instance (RDS uses it), named here for the security group rules. */
export const DATABASE_PORT = 5432;
/** Not "postgres": FSBP RDS.25 asks for an admin name other than the engine's default. */
export const DATABASE_USER = "prefect";
export const DATABASE_NAME = "prefect";
/** PostgreSQL's own log and the major-version upgrade log, exported to CloudWatch (FSBP RDS.9 / RDS.36). */
const EXPORTED_LOGS = ["postgresql", "upgrade"] as const;

export interface DatabaseProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Private subnets in at least two AZs (an RDS subnet group needs two). */
  readonly subnetIds: string[];
  /** The only security group that may connect (the Prefect server's). */
  readonly clientSecurityGroupId: string;
  /** PostgreSQL major version ("16"); RDS picks the minor and applies minor upgrades itself. */
  readonly engineVersion: string;
  readonly instanceClass: string;
  readonly storageGb: number;
  /** Storage autoscaling grows the volume up to this size; equal to storageGb turns it off. */
  readonly maxStorageGb: number;
  /** Days of automated backups; 0 turns them off. */
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  /** Take a snapshot named `<prefix>-prefect-final` when the database is deleted. */
  readonly finalSnapshot: boolean;
  /** Create the database from this snapshot instead of empty. @default an empty database */
  readonly restoreSnapshot?: string;
  /** The master password: a sensitive, ephemeral variable reference, sent write-only. */
  readonly password: string;
  /** Bump to push a new password to RDS and to the secret the server reads. */
  readonly passwordVersion: number;
  /** Recovery window of the password's secret. */
  readonly secretRecoveryWindowDays: number;
  /** Days to keep the database's PostgreSQL and upgrade logs in CloudWatch. */
  readonly logRetentionDays: number;
}

/**
 * RDS PostgreSQL for the in-stack Prefect server: private, encrypted, TLS-only, reachable from the server alone.
 * The password never enters state or plans: it comes from an ephemeral variable and is written (write-only) to
 * the instance and to a secret the server's task reads through `secrets[].valueFrom`. Not RDS-managed
 * credentials: RDS rotates those every 7 days by default, and Prefect reads the password only when it starts, so
 * a running server would lose its database a week after each start.
 */
export class Database extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  /** The secret holding the master password (the whole secret string is the password). */
  readonly passwordSecret: SecretsmanagerSecret;
  /** The password's secret, its value and the instance: the server must not start before them. */
  readonly prerequisites: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const name = `${props.namePrefix}-prefect`;
    this.securityGroup = new SecurityGroup(this, "security_group", {
      name: `${name}-db`,
      description: `Prefect database: PostgreSQL from the Prefect server only; no outbound traffic`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-db` },
    });
    new VpcSecurityGroupIngressRule(this, "postgres_from_server", {
      securityGroupId: this.securityGroup.id,
      description: "PostgreSQL from the Prefect server",
      ipProtocol: "tcp",
      fromPort: DATABASE_PORT,
      toPort: DATABASE_PORT,
      referencedSecurityGroupId: props.clientSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, "server_to_postgres", {
      securityGroupId: props.clientSecurityGroupId,
      description: "PostgreSQL to the Prefect database",
      ipProtocol: "tcp",
      fromPort: DATABASE_PORT,
      toPort: DATABASE_PORT,
      referencedSecurityGroupId: this.securityGroup.id,
    });

    const subnetGroup = new DbSubnetGroup(this, "subnet_group", {
      name,
      description: "Private subnets of the Prefect database",
      subnetIds: props.subnetIds,
    });
    // PostgreSQL 15+ on RDS already defaults to force_ssl; set it anyway so the rule is visible and kept.
    const parameterGroup = new DbParameterGroup(this, "parameter_group", {
      name: `${name}-postgres${props.engineVersion}`,
      family: `postgres${props.engineVersion}`,
      description: "Prefect database: TLS required",
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        // Statements slower than a second, and no statement text otherwise: DDL logging would also record
        // password changes (ALTER ROLE … PASSWORD).
        { name: "log_min_duration_statement", value: "1000" },
        { name: "log_statement", value: "none" },
      ],
      // A major-version change needs a new group before the instance moves to it.
      lifecycle: { createBeforeDestroy: true },
    });

    this.passwordSecret = new SecretsmanagerSecret(this, "password_secret", {
      name: `${props.namePrefix}/prefect-db-password`,
      description: "Master password of the Prefect database, read by the Prefect server's task",
      recoveryWindowInDays: props.secretRecoveryWindowDays,
    });
    const passwordValue = new SecretsmanagerSecretVersion(this, "password_value", {
      secretId: this.passwordSecret.id,
      secretStringWo: props.password,
      secretStringWoVersion: props.passwordVersion,
    });

    // RDS creates these groups on first export with no expiry; created here, they keep log_retention_days.
    const logGroups = EXPORTED_LOGS.map(
      (log) =>
        new CloudwatchLogGroup(this, `${log}_log_group`, {
          name: `/aws/rds/instance/${name}/${log}`,
          retentionInDays: props.logRetentionDays,
        }),
    );
    this.instance = new DbInstance(this, "instance", {
      identifier: name,
      engine: "postgres",
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      allocatedStorage: props.storageGb,
      // Prefect keeps flow runs and their logs until deleted: let RDS grow the volume rather than fill it.
      maxAllocatedStorage: props.maxStorageGb > props.storageGb ? props.maxStorageGb : undefined,
      storageType: "gp3",
      storageEncrypted: true,
      dbName: props.restoreSnapshot ? undefined : DATABASE_NAME,
      username: props.restoreSnapshot ? undefined : DATABASE_USER,
      passwordWo: props.password,
      passwordWoVersion: props.passwordVersion,
      snapshotIdentifier: props.restoreSnapshot,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameterGroup.name,
      publiclyAccessible: false,
      multiAz: false,
      backupRetentionPeriod: props.backupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection,
      skipFinalSnapshot: !props.finalSnapshot,
      finalSnapshotIdentifier: props.finalSnapshot ? `${name}-final` : undefined,
      autoMinorVersionUpgrade: true,
      // A change of engine_version in settings is the operator's decision to upgrade.
      allowMajorVersionUpgrade: true,
      // Settings changes take effect at apply, not in a maintenance window days later.
      applyImmediately: true,
      enabledCloudwatchLogsExports: [...EXPORTED_LOGS],
      dependsOn: [passwordValue, ...logGroups],
    });
    this.prerequisites = [this.passwordSecret, passwordValue, this.instance];
    stackOutput(this, "prefect_database_endpoint", this.instance.address, "Host name of the Prefect server's PostgreSQL database (private)");
    stackOutput(this, "prefect_database_identifier", this.instance.identifier, "RDS identifier of the Prefect database");
  }
}
