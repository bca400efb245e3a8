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
  return quotaFor("spot", instanceType);
}

/** Running On-Demand vCPU quotas by family (the on-demand fallback's replacements count here). */
export const ON_DEMAND_VCPU_QUOTA_CODES: Record<string, { code: string; name: string }> = {
  g: { code: "L-DB2E81BA", name: "Running On-Demand G and VT instances" },
  p: { code: "L-417A185B", name: "Running On-Demand P instances" },
  inf: { code: "L-1945791B", name: "Running On-Demand Inf instances" },
  standard: { code: "L-1216C47A", name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" },
};

export function quotaFor(market: "spot" | "on-demand", instanceType: string): { code: string; name: string } {
  const codes = market === "spot" ? SPOT_VCPU_QUOTA_CODES : ON_DEMAND_VCPU_QUOTA_CODES;
  const family = instanceType.split(".")[0] ?? "";
  if (family.startsWith("inf")) return codes.inf!;
  if (family.startsWith("g") || family.startsWith("vt")) return codes.g!;
  if (family.startsWith("p")) return codes.p!;
  return codes.standard!;
}

export type QuotaObservation =
  | { known: true; quotaName: string; code: string; vcpus: number }
  | { known: false; quotaName: string; code: string; reason: string };

export async function spotVcpuQuota(clients: AwsClients, instanceType: string, signal?: AbortSignal): Promise<QuotaObservation> {
  return vcpuQuota(clients, spotQuotaFor(instanceType), signal);
}

/** One EC2 vCPU quota's value; unknown (not an error) where Service Quotas cannot say. */
export async function vcpuQuota(clients: AwsClients, quota: { code: string; name: string }, signal?: AbortSignal): Promise<QuotaObservation> {
  const { GetServiceQuotaCommand } = await import("@aws-sdk/client-service-quotas");
  const { code, name } = quota;
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
