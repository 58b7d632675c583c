import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { boundedName, PREFECT_SERVER_PORT } from "../naming";
import { stackOutput } from "../stacks/outputs";

/** TLS 1.2 and 1.3 only, the policy FSBP ELB.17 and checkov CKV_AWS_103 accept. */
export const PUBLIC_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Seconds an idle connection stays open at the load balancer; the server keeps its own open longer. */
export const PUBLIC_IDLE_TIMEOUT_SECONDS = 60;
/** The server's keep-alive must outlast the load balancer's idle timeout, or the balancer reuses closed connections (502s). */
export const SERVER_KEEPALIVE_SECONDS = 75;

export interface PublicListenerProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Public subnets in at least two AZs. */
  readonly subnetIds: string[];
  /** ACM certificate for the listener (in the stack's region). */
  readonly certificateArn: string;
  /** Who may connect. */
  readonly allowedCidrs: string[];
  /** The server's security group: the balancer may reach it on the API port, nothing else. */
  readonly serverSecurityGroupId: string;
}

/**
 * The opt-in internet-facing HTTPS entry to the in-stack server: an application load balancer with one HTTPS
 * listener (no plain HTTP listener at all) forwarding to the server task. The server requires its basic-auth
 * string in this mode (checked in settings); the balancer drops malformed headers and speaks TLS 1.2+ only.
 */
export class PublicListener extends Construct {
  readonly targetGroup: LbTargetGroup;
  readonly listener: LbListener;

  constructor(scope: Construct, id: string, props: PublicListenerProps) {
    super(scope, id);
    const name = `${props.namePrefix}-prefect`;
    const securityGroup = new SecurityGroup(this, "security_group", {
      name: `${name}-public`,
      description: "Prefect server's public listener: HTTPS from the allowed ranges; the API port of the server only",
      vpcId: props.vpcId,
      tags: { Name: `${name}-public` },
    });
    props.allowedCidrs.forEach(
      (cidr, i) =>
        new VpcSecurityGroupIngressRule(this, `https_${i}`, {
          securityGroupId: securityGroup.id,
          description: `HTTPS from ${cidr}`,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: cidr,
        }),
    );
    new VpcSecurityGroupEgressRule(this, "to_server", {
      securityGroupId: securityGroup.id,
      description: "Prefect API of the server",
      ipProtocol: "tcp",
      fromPort: PREFECT_SERVER_PORT,
      toPort: PREFECT_SERVER_PORT,
      referencedSecurityGroupId: props.serverSecurityGroupId,
    });
    new VpcSecurityGroupIngressRule(this, "server_from_listener", {
      securityGroupId: props.serverSecurityGroupId,
      description: "Prefect API from the public listener",
      ipProtocol: "tcp",
      fromPort: PREFECT_SERVER_PORT,
      toPort: PREFECT_SERVER_PORT,
      referencedSecurityGroupId: securityGroup.id,
    });

    const balancer = new Lb(this, "load_balancer", {
      // ALB names are at most 32 characters.
      name: boundedName(`${name}-public`, 32),
      internal: false,
      loadBalancerType: "application",
      subnets: props.subnetIds,
      securityGroups: [securityGroup.id],
      dropInvalidHeaderFields: true,
      idleTimeout: PUBLIC_IDLE_TIMEOUT_SECONDS,
    });
    this.targetGroup = new LbTargetGroup(this, "target_group", {
      name: boundedName(`${name}-server`, 32),
      port: PREFECT_SERVER_PORT,
      protocol: "HTTP",
      targetType: "ip",
      vpcId: props.vpcId,
      // One server task: do not wait five minutes for it to drain on each deploy.
      deregistrationDelay: "30",
      healthCheck: { path: "/api/health", matcher: "200", interval: 30, timeout: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
    });
    this.listener = new LbListener(this, "https", {
      loadBalancerArn: balancer.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: PUBLIC_TLS_POLICY,
      certificateArn: props.certificateArn,
      defaultAction: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
    });
    stackOutput(
      this,
      "prefect_server_public_dns_name",
      balancer.dnsName,
      "DNS name of the server's public listener: point the certificate's host name at it (CNAME or alias)",
    );
  }
}
