import type { _InstanceType } from "@aws-sdk/client-ec2";
import type { AwsClients } from "./clients.js";

/** Default vCPUs of an instance type, or undefined when the region does not know it. */
export async function instanceVcpus(clients: AwsClients, instanceType: string, signal?: AbortSignal): Promise<number | undefined> {
  const { DescribeInstanceTypesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  try {
    const out = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }), {
      abortSignal: signal,
    });
    return out.InstanceTypes?.[0]?.VCpuInfo?.DefaultVCpus;
  } catch {
    return undefined;
  }
}
