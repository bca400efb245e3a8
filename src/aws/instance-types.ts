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

/** What preflight compares across a launch's types: vCPUs (quota), GPU count, CPU architectures. */
export interface InstanceTypeInfo {
  vcpus: number | undefined;
  gpus: number;
  architectures: string[];
}

/** One type's facts, or undefined when the region does not know the type. */
export async function instanceTypeInfo(clients: AwsClients, instanceType: string, signal?: AbortSignal): Promise<InstanceTypeInfo | undefined> {
  const { DescribeInstanceTypesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  try {
    const out = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }), { abortSignal: signal });
    const info = out.InstanceTypes?.[0];
    if (!info) return undefined;
    return {
      vcpus: info.VCpuInfo?.DefaultVCpus,
      gpus: (info.GpuInfo?.Gpus ?? []).reduce((sum, g) => sum + (g.Count ?? 0), 0),
      architectures: info.ProcessorInfo?.SupportedArchitectures ?? [],
    };
  } catch {
    return undefined;
  }
}
