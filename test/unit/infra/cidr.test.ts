import { describe, expect, it } from "vitest";
import { cidrProblem, isPublicCidr, validateCertificateArn, validateCidrs } from "../../../src/infra/cidr.js";

describe("CIDRs the operator admits", () => {
  it.each([
    ["203.0.113.0/24", undefined],
    ["0.0.0.0/0", undefined],
    ["198.51.100.7/32", undefined],
    ["198.51.100.7", /no prefix length \(one address is 198.51.100.7\/32\)/],
    ["10.1.2.3/16", /host bits set \(the network is 10.1.0.0\/16\)/],
    ["256.0.0.0/8", /not an IPv4 CIDR/],
    ["10.0.0.0/33", /not an IPv4 CIDR/],
    ["::/0", /IPv6/],
    ["example.com", /not an IPv4 CIDR/],
  ])("%s", (cidr, problem) => {
    if (problem) expect(cidrProblem(cidr)).toMatch(problem);
    else expect(cidrProblem(cidr)).toBeUndefined();
  });

  it("a bad value is a usage error (exit 2) naming the flag, with an example", () => {
    expect(() => validateCidrs("--allow-cidr", ["1.2.3.4"])).toThrow(expect.objectContaining({ kind: "usage", message: expect.stringContaining("--allow-cidr '1.2.3.4'") }));
    expect(validateCidrs("--allow-cidr", ["10.0.0.0/8", "10.0.0.0/8"])).toEqual(["10.0.0.0/8"]);
  });

  it("tells public from private ranges (the key in clear over the internet)", () => {
    expect(isPublicCidr("0.0.0.0/0")).toBe(true);
    expect(isPublicCidr("203.0.113.0/24")).toBe(true);
    expect(isPublicCidr("10.0.0.0/8")).toBe(false);
    expect(isPublicCidr("172.16.0.0/12")).toBe(false);
    expect(isPublicCidr("192.168.1.0/24")).toBe(false);
    expect(isPublicCidr("10.0.0.0/7")).toBe(true);
  });

  it("accepts only certificate ARNs", () => {
    expect(validateCertificateArn("arn:aws:acm:us-east-1:123456789012:certificate/abc-1")).toBe("arn:aws:acm:us-east-1:123456789012:certificate/abc-1");
    expect(() => validateCertificateArn("my-cert")).toThrow(/not an ACM certificate ARN/);
  });
});
