import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { BudgetsClient, DescribeBudgetsCommand } from "@aws-sdk/client-budgets";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { ListSubscriptionsCommand, ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeAddressesCommand,
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { DescribeClustersCommand, ECSClient, ListClustersCommand, ListServicesCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { DescribeAccessPointsCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from "@aws-sdk/client-efs";
import { EventBridgeClient, ListEventBusesCommand, ListRulesCommand } from "@aws-sdk/client-eventbridge";
import { IAMClient, ListInstanceProfilesCommand, ListPoliciesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ACMClient } from "@aws-sdk/client-acm";
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeDBInstancesCommand, DescribeDBParameterGroupsCommand, DescribeDBSubnetGroupsCommand, RDSClient } from "@aws-sdk/client-rds";
import { ListNamespacesCommand, ListServicesCommand as ListDiscoveryServicesCommand, ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { EMULATOR_CREDENTIALS } from "./emulator";

export const EMULATOR_REGION = "us-east-1";

/** AWS SDK v3 clients pointed at one emulator. */
export function awsClients(endpoint: string) {
  const config = { endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 2 };
  return {
    autoscaling: new ApplicationAutoScalingClient(config),
    ec2Autoscaling: new AutoScalingClient(config),
    budgets: new BudgetsClient(config),
    cloudwatch: new CloudWatchClient(config),
    dynamodb: new DynamoDBClient(config),
    kms: new KMSClient(config),
    sns: new SNSClient(config),
    ec2: new EC2Client(config),
    ecr: new ECRClient(config),
    ecs: new ECSClient(config),
    efs: new EFSClient(config),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    logs: new CloudWatchLogsClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    secrets: new SecretsManagerClient(config),
    sqs: new SQSClient(config),
    rds: new RDSClient(config),
    acm: new ACMClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    cloudMap: new ServiceDiscoveryClient(config),
  };
}
export type AwsClients = ReturnType<typeof awsClients>;

/** What exists in the emulator, per kind of resource, as sorted identifiers. */
export type Inventory = Record<string, string[]>;

const ids = (values: (string | undefined)[] | undefined) => (values ?? []).filter((v): v is string => !!v).sort();

/**
 * Lists every kind of resource the stack creates (and the neighbours it could leave behind, such as
 * network interfaces), in every service it uses. Compared before apply and after destroy.
 */
export async function inventory(aws: AwsClients): Promise<Inventory> {
  const { ec2, ecs, efs } = aws;
  const clusterArns = (await ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  const clusters = clusterArns.length ? ((await ecs.send(new DescribeClustersCommand({ clusters: clusterArns }))).clusters ?? []) : [];
  const activeClusters = clusters.filter((c) => c.status === "ACTIVE").map((c) => c.clusterArn!);
  const services = (await Promise.all(activeClusters.map((cluster) => ecs.send(new ListServicesCommand({ cluster }))))).flatMap(
    (r) => r.serviceArns ?? [],
  );
  const fileSystems = (await efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
  const mountTargets = (
    await Promise.all(fileSystems.map((fs) => efs.send(new DescribeMountTargetsCommand({ FileSystemId: fs.FileSystemId }))))
  ).flatMap((r) => r.MountTargets ?? []);
  const [
    vpcs,
    subnets,
    internetGateways,
    natGateways,
    addresses,
    routeTables,
    securityGroups,
    vpcEndpoints,
    flowLogs,
    networkInterfaces,
    instances,
    launchTemplates,
    autoscalingGroups,
    taskDefinitions,
    repositories,
    roles,
    policies,
    instanceProfiles,
    secrets,
    logGroups,
    queues,
    rules,
    eventBuses,
    accessPoints,
    scalableTargets,
    scalingPolicies,
    buckets,
    tables,
    topics,
    subscriptions,
    alarms,
    kmsKeys,
    budgets,
    dbInstances,
    dbSubnetGroups,
    dbParameterGroups,
    namespaces,
    discoveryServices,
    loadBalancers,
    targetGroups,
  ] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({})).then((r) => ids(r.Vpcs?.map((v) => `${v.VpcId} ${v.CidrBlock}`))),
    ec2.send(new DescribeSubnetsCommand({})).then((r) => ids(r.Subnets?.map((s) => s.SubnetId))),
    ec2.send(new DescribeInternetGatewaysCommand({})).then((r) => ids(r.InternetGateways?.map((g) => g.InternetGatewayId))),
    ec2.send(new DescribeNatGatewaysCommand({})).then((r) => ids(r.NatGateways?.filter((g) => g.State !== "deleted").map((g) => g.NatGatewayId))),
    ec2.send(new DescribeAddressesCommand({})).then((r) => ids(r.Addresses?.map((a) => `${a.AllocationId} ${a.PublicIp}`))),
    ec2.send(new DescribeRouteTablesCommand({})).then((r) => ids(r.RouteTables?.map((t) => t.RouteTableId))),
    ec2.send(new DescribeSecurityGroupsCommand({})).then((r) => ids(r.SecurityGroups?.map((g) => `${g.GroupId} ${g.GroupName}`))),
    ec2
      .send(new DescribeVpcEndpointsCommand({}))
      .then((r) => ids(r.VpcEndpoints?.filter((e) => e.State?.toLowerCase() !== "deleted").map((e) => e.VpcEndpointId))),
    ec2.send(new DescribeFlowLogsCommand({})).then((r) => ids(r.FlowLogs?.map((f) => f.FlowLogId))),
    ec2.send(new DescribeNetworkInterfacesCommand({})).then((r) => ids(r.NetworkInterfaces?.map((n) => n.NetworkInterfaceId))),
    ec2.send(new DescribeInstancesCommand({})).then((r) =>
      ids(
        r.Reservations?.flatMap((res) => res.Instances ?? [])
          .filter((i) => i.State?.Name !== "terminated")
          .map((i) => i.InstanceId),
      ),
    ),
    ec2.send(new DescribeLaunchTemplatesCommand({})).then((r) => ids(r.LaunchTemplates?.map((t) => `${t.LaunchTemplateId} ${t.LaunchTemplateName}`))),
    aws.ec2Autoscaling.send(new DescribeAutoScalingGroupsCommand({})).then((r) => ids(r.AutoScalingGroups?.map((g) => g.AutoScalingGroupName))),
    ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" })).then((r) => ids(r.taskDefinitionArns)),
    aws.ecr.send(new DescribeRepositoriesCommand({})).then((r) => ids(r.repositories?.map((repo) => repo.repositoryName))),
    aws.iam.send(new ListRolesCommand({})).then((r) => ids(r.Roles?.map((role) => role.RoleName))),
    aws.iam.send(new ListPoliciesCommand({ Scope: "Local" })).then((r) => ids(r.Policies?.map((p) => p.Arn))),
    aws.iam.send(new ListInstanceProfilesCommand({})).then((r) => ids(r.InstanceProfiles?.map((p) => p.InstanceProfileName))),
    aws.secrets.send(new ListSecretsCommand({})).then((r) => ids(r.SecretList?.map((s) => s.Name))),
    aws.logs.send(new DescribeLogGroupsCommand({})).then((r) => ids(r.logGroups?.map((g) => g.logGroupName))),
    aws.sqs.send(new ListQueuesCommand({})).then((r) => ids(r.QueueUrls)),
    aws.events.send(new ListRulesCommand({})).then((r) => ids(r.Rules?.map((rule) => rule.Name))),
    aws.events.send(new ListEventBusesCommand({})).then((r) => ids(r.EventBuses?.map((bus) => bus.Name))),
    efs.send(new DescribeAccessPointsCommand({})).then((r) => ids(r.AccessPoints?.map((a) => a.AccessPointId))),
    aws.autoscaling
      .send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" }))
      .then((r) => ids(r.ScalableTargets?.map((t) => t.ResourceId))),
    aws.autoscaling
      .send(new DescribeScalingPoliciesCommand({ ServiceNamespace: "ecs" }))
      .then((r) => ids(r.ScalingPolicies?.map((p) => p.PolicyName))),
    aws.s3.send(new ListBucketsCommand({})).then((r) => ids(r.Buckets?.map((b) => b.Name))),
    aws.dynamodb.send(new ListTablesCommand({})).then((r) => ids(r.TableNames)),
    aws.sns.send(new ListTopicsCommand({})).then((r) => ids(r.Topics?.map((t) => t.TopicArn))),
    aws.sns.send(new ListSubscriptionsCommand({})).then((r) => ids(r.Subscriptions?.map((sub) => `${sub.TopicArn} ${sub.Protocol} ${sub.Endpoint}`))),
    aws.cloudwatch.send(new DescribeAlarmsCommand({})).then((r) => ids(r.MetricAlarms?.map((a) => a.AlarmName))),
    // Keys scheduled for deletion count as gone (KMS keeps them for the waiting period, as AWS does), and so do
    // AWS-managed keys (aws/ebs for the encrypted NAT volume): AWS creates one per account and never deletes it.
    // moto makes that key a customer key named alias/aws/ebs (moto/ec2/models/elastic_block_store.py:682-691).
    Promise.all([aws.kms.send(new ListKeysCommand({})), aws.kms.send(new ListAliasesCommand({}))]).then(async ([keys, aliases]) => {
      const awsManaged = new Set((aliases.Aliases ?? []).filter((a) => a.AliasName?.startsWith("alias/aws/")).map((a) => a.TargetKeyId));
      const live = await Promise.all(
        (keys.Keys ?? [])
          .filter((k) => !awsManaged.has(k.KeyId))
          .map(async (k) => {
            const metadata = (await aws.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
            return metadata?.KeyState === "PendingDeletion" || metadata?.KeyManager === "AWS" ? undefined : k.KeyId;
          }),
      );
      return ids(live);
    }),
    aws.budgets.send(new DescribeBudgetsCommand({ AccountId: "123456789012" })).then((r) => ids(r.Budgets?.map((b) => b.BudgetName))),
    aws.rds.send(new DescribeDBInstancesCommand({})).then((r) => ids(r.DBInstances?.map((d) => d.DBInstanceIdentifier))),
    aws.rds.send(new DescribeDBSubnetGroupsCommand({})).then((r) => ids(r.DBSubnetGroups?.map((g) => g.DBSubnetGroupName))),
    // RDS's own default.* groups exist in every account.
    aws.rds
      .send(new DescribeDBParameterGroupsCommand({}))
      .then((r) => ids(r.DBParameterGroups?.map((g) => g.DBParameterGroupName).filter((name) => !name?.startsWith("default.")))),
    aws.cloudMap.send(new ListNamespacesCommand({})).then((r) => ids(r.Namespaces?.map((n) => n.Name))),
    aws.cloudMap.send(new ListDiscoveryServicesCommand({})).then((r) => ids(r.Services?.map((sv) => sv.Name))),
    aws.elb.send(new DescribeLoadBalancersCommand({})).then((r) => ids(r.LoadBalancers?.map((lb) => lb.LoadBalancerName))),
    aws.elb.send(new DescribeTargetGroupsCommand({})).then((r) => ids(r.TargetGroups?.map((g) => g.TargetGroupName))),
  ]);
  return {
    "ec2 vpcs": vpcs,
    "ec2 subnets": subnets,
    "ec2 internet gateways": internetGateways,
    "ec2 NAT gateways": natGateways,
    "ec2 Elastic IPs": addresses,
    "ec2 route tables": routeTables,
    "ec2 security groups": securityGroups,
    "ec2 VPC endpoints": vpcEndpoints,
    "ec2 flow logs": flowLogs,
    "ec2 network interfaces": networkInterfaces,
    "ec2 instances": instances,
    "ec2 launch templates": launchTemplates,
    "autoscaling groups": autoscalingGroups,
    "ecs clusters": ids(activeClusters),
    "ecs services": ids(services),
    "ecs task definitions": taskDefinitions,
    "ecr repositories": repositories,
    "iam roles": roles,
    "iam customer policies": policies,
    "iam instance profiles": instanceProfiles,
    "secretsmanager secrets": secrets,
    "logs log groups": logGroups,
    "sqs queues": queues,
    "events rules": rules,
    "events buses": eventBuses,
    "efs file systems": ids(fileSystems.map((fs) => fs.FileSystemId)),
    "efs mount targets": ids(mountTargets.map((m) => m.MountTargetId)),
    "efs access points": accessPoints,
    "application-autoscaling targets": scalableTargets,
    "application-autoscaling policies": scalingPolicies,
    "s3 buckets": buckets,
    "dynamodb tables": tables,
    "sns topics": topics,
    "sns subscriptions": subscriptions,
    "cloudwatch alarms": alarms,
    "kms keys": kmsKeys,
    "budgets budgets": budgets,
    "rds instances": dbInstances,
    "rds subnet groups": dbSubnetGroups,
    "rds parameter groups": dbParameterGroups,
    "servicediscovery namespaces": namespaces,
    "servicediscovery services": discoveryServices,
    "elbv2 load balancers": loadBalancers,
    "elbv2 target groups": targetGroups,
  };
}

/** What `after` holds that `before` did not, per kind (kinds with nothing new are left out). */
export function added(before: Inventory, after: Inventory): Inventory {
  const out: Inventory = {};
  for (const [kind, items] of Object.entries(after)) {
    const fresh = items.filter((item) => !(before[kind] ?? []).includes(item));
    if (fresh.length) out[kind] = fresh;
  }
  return out;
}
