import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";

/**
 * EC2 spot vCPU quotas by instance family. Quota codes from Service Quotas ("All G and VT Spot
 * Instance Requests" etc.); values are vCPUs, not instances.
 */
export const SPOT_VCPU_QUOTA_CODES: Record<string, { code: string; name: string }> = {
  g: { code: "L-3819A6DF", name: "All G and VT Spot Instance Requests" },
  p: { code: "L-7212CCBC", name: "All P4, P3 and P2 Spot Instance Requests" },
  inf: { code: "L-B5D1601B", name: "All Inf Spot Instance Requests" },
  standard: { code: "L-34B43A08", name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" },
};

export function spotQuotaFor(instanceType: string): { code: string; name: string } {
  const family = instanceType.split(".")[0] ?? "";
  if (family.startsWith("inf")) return SPOT_VCPU_QUOTA_CODES.inf!;
  if (family.startsWith("g") || family.startsWith("vt")) return SPOT_VCPU_QUOTA_CODES.g!;
  if (family.startsWith("p")) return SPOT_VCPU_QUOTA_CODES.p!;
  return SPOT_VCPU_QUOTA_CODES.standard!;
}

export type QuotaObservation =
  | { known: true; quotaName: string; code: string; vcpus: number }
  | { known: false; quotaName: string; code: string; reason: string };

export async function spotVcpuQuota(clients: AwsClients, instanceType: string, signal?: AbortSignal): Promise<QuotaObservation> {
  const { GetServiceQuotaCommand } = await import("@aws-sdk/client-service-quotas");
  const { code, name } = spotQuotaFor(instanceType);
  const client = await clients.serviceQuotas();
  try {
    const out = await client.send(new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }), { abortSignal: signal });
    const value = out.Quota?.Value;
    if (value === undefined) return { known: false, quotaName: name, code, reason: "Service Quotas returned no value" };
    return { known: true, quotaName: name, code, vcpus: value };
  } catch (error) {
    const errName = awsErrorName(error);
    // Not implemented by some endpoints (moto knows only the vpc service), or no permission to read.
    if (errName === "NoSuchResourceException" || errName === "AccessDeniedException" || errName === "AccessDenied") {
      return { known: false, quotaName: name, code, reason: `${errName}: ${error instanceof Error ? error.message : ""}`.trim() };
    }
    throw error;
  }
}
