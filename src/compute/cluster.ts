import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { stackOutput } from "../stacks/outputs";
import { FlowRunInstances, type FlowRunInstancesProps } from "./flow-run-instances";

export interface ClusterProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Name of a Cloud Map private DNS namespace for the cluster's services. @default none */
  readonly serviceDiscoveryNamespace?: string;
  /** Container Insights metrics (billed per metric; see npm run cost). @default true */
  readonly containerInsights?: boolean;
  /** Warm EC2 capacity for flow runs (flow_run_capacity = "ec2"), as a capacity provider of this cluster. @default none */
  readonly flowRunInstances?: Omit<FlowRunInstancesProps, "namePrefix" | "clusterName" | "vpcId">;
}

/** The ECS cluster the worker and its flow runs share. */
export class Cluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** The Cloud Map namespace, when service_discovery_namespace names one. */
  readonly namespace?: ServiceDiscoveryPrivateDnsNamespace;
  /** The flow runs' EC2 capacity, when the settings ask for it. */
  readonly flowRunInstances?: FlowRunInstances;
  /** What a task in this cluster needs first: the cluster and its capacity providers. */
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
    this.flowRunInstances = props.flowRunInstances
      ? new FlowRunInstances(this, "flow_run_instances", {
          ...props.flowRunInstances,
          namePrefix: props.namePrefix,
          clusterName: this.cluster.name,
          vpcId: props.vpcId,
        })
      : undefined;
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity_providers", {
      clusterName: this.cluster.name,
      // RunTask may name only providers associated with the cluster.
      capacityProviders: ["FARGATE", "FARGATE_SPOT", ...(this.flowRunInstances ? [this.flowRunInstances.capacityProvider.name] : [])],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
    this.prerequisites = [this.cluster, this.capacityProviders, ...(this.flowRunInstances?.prerequisites ?? [])];
    stackOutput(this, "cluster_name", this.cluster.name, "ECS cluster name");
    stackOutput(this, "cluster_arn", this.cluster.arn, "ECS cluster ARN");
  }
}
