import { z } from "zod";

export const IDENTITY_PATH = "/latest/dynamic/instance-identity/document";

/**
 * Layer 3: the instance identity document. Only a document with EC2's shape counts as evidence:
 * a stray web server answering 200 to everything, or a half-configured emulator, must not turn a
 * laptop into a worker. (The signature is not checked: IMDS is link-local and the endpoint is the
 * operator's own setting; the point is to tell EC2 from not-EC2, not to resist an attacker.)
 */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

export const IdentityDocumentSchema = z
  .object({
    instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, "an instance id like i-0123456789abcdef0"),
    region: z.string().regex(REGION, "a region like us-east-1"),
    availabilityZone: z.string().min(1),
    instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type like g5.xlarge"),
    privateIp: z.ipv4().optional(),
    accountId: z.string().regex(/^\d{12}$/, "a 12-digit account id").optional(),
    imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, "an AMI id").optional(),
    architecture: z.string().optional(),
  })
  .refine((doc) => doc.availabilityZone.startsWith(doc.region) && doc.availabilityZone.length > doc.region.length, {
    message: "availabilityZone must be inside region (e.g. us-east-1a in us-east-1)",
    path: ["availabilityZone"],
  });

export type IdentityDocument = z.infer<typeof IdentityDocumentSchema>;

export type IdentityParse = { ok: true; document: IdentityDocument } | { ok: false; problem: string };

/** Pure: a body from IMDS -> a validated document, or why it is not one. */
export function parseIdentityDocument(body: string): IdentityParse {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const flat = body.replace(/\s+/g, " ").trim();
    return { ok: false, problem: `not JSON: ${JSON.stringify(flat.length > 60 ? `${flat.slice(0, 60)}...` : flat)}` };
  }
  const parsed = IdentityDocumentSchema.safeParse(json);
  if (parsed.success) return { ok: true, document: parsed.data };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "document"}: ${issue.message}`);
  return { ok: false, problem: `not an EC2 identity document (${problems.join("; ")})` };
}
