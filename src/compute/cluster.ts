import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { stackOutput } from "../stacks/outputs";

export interface ClusterProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Name of a Cloud Map private DNS namespace for the cluster's services. @default none */
  readonly serviceDiscoveryNamespace?: string;
  /** Container Insights metrics (billed per metric; see npm run cost). @default true */
  readonly containerInsights?: boolean;
}

/** The ECS cluster the worker and its flow runs share. */
export class Cluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** The Cloud Map namespace, when service_discovery_namespace names one. */
  readonly namespace?: ServiceDiscoveryPrivateDnsNamespace;
  /** What a task in this cluster needs first: the cluster and its Fargate capacity providers. */
  readonly prerequisites: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    const namespace = (this.namespace = props.serviceDiscoveryNamespace
      ? new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
          name: props.serviceDiscoveryNamespace,
          vpc: props.vpcId,
          description: `Service discovery for ${props.namePrefix}`,
        })
      : undefined);
    this.cluster = new EcsCluster(this, "cluster", {
      name: props.namePrefix,
      setting: [{ name: "containerInsights", value: props.containerInsights === false ? "disabled" : "enabled" }],
      serviceConnectDefaults: namespace ? { namespace: namespace.arn } : undefined,
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity_providers", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
    this.prerequisites = [this.cluster, this.capacityProviders];
    stackOutput(this, "cluster_name", this.cluster.name, "ECS cluster name");
    stackOutput(this, "cluster_arn", this.cluster.arn, "ECS cluster ARN");
  }
}
