import type { LaunchTemplateConfig } from "@cdktf/provider-aws/lib/launch-template";

export interface InstanceHardeningProps {
  /** The Name tag of the instances, their volumes and the template. */
  readonly name: string;
  readonly securityGroupId: string;
  readonly volumeGb: number;
  /** A launch address (the NAT instance needs one to reach the EC2 API before its Elastic IP). */
  readonly publicAddress: boolean;
}

/**
 * What every instance the stack launches shares: IMDSv2 only with one hop (containers cannot reach the instance's
 * credentials), one interface in the given security group, an encrypted gp3 root volume deleted with the instance,
 * and the Name tag on instance, volume and template.
 */
export function hardenedInstance(
  props: InstanceHardeningProps,
): Pick<LaunchTemplateConfig, "metadataOptions" | "networkInterfaces" | "blockDeviceMappings" | "tagSpecifications" | "tags"> {
  const tags = { Name: props.name };
  return {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    networkInterfaces: [
      { deviceIndex: 0, associatePublicIpAddress: String(props.publicAddress), securityGroups: [props.securityGroupId], deleteOnTermination: "true" },
    ],
    blockDeviceMappings: [
      { deviceName: "/dev/xvda", ebs: { volumeSize: props.volumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
    ],
    tagSpecifications: [
      { resourceType: "instance", tags },
      { resourceType: "volume", tags },
    ],
    tags,
  };
}
