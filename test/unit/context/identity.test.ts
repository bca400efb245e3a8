import { describe, expect, it } from "vitest";
import { parseIdentityDocument } from "../../../src/context/identity.js";

const real = {
  accountId: "123456789012",
  architecture: "x86_64",
  availabilityZone: "us-east-1d",
  billingProducts: null,
  imageId: "ami-0abcdef1234567890",
  instanceId: "i-0af01c0123456789a",
  instanceType: "g5.xlarge",
  kernelId: null,
  pendingTime: "2026-01-01T00:00:00Z",
  privateIp: "172.31.22.33",
  ramdiskId: null,
  region: "us-east-1",
  version: "2017-09-30",
};
const parse = (doc: unknown) => parseIdentityDocument(typeof doc === "string" ? doc : JSON.stringify(doc));

describe("identity document validation", () => {
  it("accepts a real document and keeps what synkti uses", () => {
    const result = parse(real);
    expect(result).toMatchObject({ ok: true, document: { instanceId: real.instanceId, region: "us-east-1", privateIp: real.privateIp } });
  });

  it("accepts legacy 8-digit instance ids, local zones, GovCloud, and a missing privateIp", () => {
    expect(parse({ ...real, instanceId: "i-0af01c01" }).ok).toBe(true);
    expect(parse({ ...real, availabilityZone: "us-east-1-bos-1a" }).ok).toBe(true);
    expect(parse({ ...real, region: "us-gov-west-1", availabilityZone: "us-gov-west-1a" }).ok).toBe(true);
    const { privateIp: _ignored, ...noIp } = real;
    expect(parse(noIp).ok).toBe(true);
  });

  it.each([
    ["HTML from a stray web server", "<html><body>It works!</body></html>"],
    ["an empty body", ""],
    ["JSON that is not a document", { hello: "world" }],
    ["a malformed instance id", { ...real, instanceId: "i-XYZ" }],
    ["an instance id too long", { ...real, instanceId: "i-0af01c0123456789ab" }],
    ["a region that is not one", { ...real, region: "mars", availabilityZone: "marsa" }],
    ["a zone outside the region", { ...real, availabilityZone: "eu-west-1a" }],
    ["a zone equal to the region", { ...real, availabilityZone: "us-east-1" }],
    ["a bad private IP", { ...real, privateIp: "10.0.0.999" }],
    ["a bad account id", { ...real, accountId: "12345" }],
    ["an array", [real]],
  ])("rejects %s", (_what, body) => {
    const result = parse(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(/^not (JSON|an EC2 identity document)/);
  });
});
