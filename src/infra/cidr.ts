import { usageError } from "../core/errors.js";

/**
 * CIDRs the operator admits to the load balancer. IPv4 only: the load balancer is created with
 * IpAddressType ipv4, so an IPv6 rule would admit nobody. The network address must be canonical
 * (`10.1.0.0/16`, not `10.1.2.3/16`), so what the group records is exactly what was typed.
 */
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** The problem with a CIDR, or undefined when it is valid. */
export function cidrProblem(cidr: string): string | undefined {
  const m = IPV4_CIDR.exec(cidr);
  if (!m) {
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(cidr)) return `has no prefix length (one address is ${cidr}/32)`;
    if (cidr.includes(":")) return "is IPv6; the load balancer is IPv4 only";
    return "is not an IPv4 CIDR like 203.0.113.0/24";
  }
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return "is not an IPv4 CIDR like 203.0.113.0/24";
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const network = bits === 0 ? 0 : address - (address % 2 ** (32 - bits));
  if (network !== address) return `has host bits set (the network is ${toDotted(network)}/${bits})`;
  return undefined;
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function validateCidrs(flag: string, cidrs: string[]): string[] {
  for (const cidr of cidrs) {
    const problem = cidrProblem(cidr);
    if (problem) throw usageError("invalid-cidr", `Invalid ${flag} '${cidr}': it ${problem}.`, `synkti infra up --project-name <project> ${flag} 203.0.113.0/24`);
  }
  return [...new Set(cidrs)];
}

/** True for a CIDR reaching beyond private address space (the key would cross the internet). */
export function isPublicCidr(cidr: string): boolean {
  const [a = 0, b = 0] = cidr.split(/[./]/).map(Number);
  const bits = Number(cidr.split("/")[1]);
  const privateBlock = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a === 127;
  // 10.0.0.0/7 reaches 11.x: only a block at least as narrow as its private range stays inside it.
  const narrowEnough = a === 10 ? bits >= 8 : a === 172 ? bits >= 12 : a === 192 ? bits >= 16 : bits >= 8;
  return !(privateBlock && narrowEnough);
}

/** An ACM (or IAM server) certificate ARN. */
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+|iam::\d{12}:server-certificate\/.+)$/;

export function validateCertificateArn(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  if (!CERTIFICATE_ARN.test(arn)) {
    throw usageError(
      "invalid-certificate-arn",
      `Invalid --certificate-arn '${arn}': it is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>).`,
      "aws acm list-certificates --region <region>   # then synkti infra up --project-name <project> --certificate-arn <arn>",
    );
  }
  return arn;
}
