import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import {
  bucketPolicy,
  placeholdersOf,
  POLICY_TEMPLATES,
  policyVars,
  renderTemplate,
  trustPolicy,
  type PolicyVars,
} from "../../../src/infra/policies.js";

const names = projectNames("acme");
const vars = policyVars(names, { accountId: "123456789012", partition: "aws-cn", region: "cn-north-1" });

describe("policy templates", () => {
  it("use only the placeholders PolicyVars provides (terraform passes the same keys)", () => {
    const keys = Object.keys(vars).sort();
    for (const template of Object.values(POLICY_TEMPLATES)) {
      for (const placeholder of placeholdersOf(template)) expect(keys).toContain(placeholder);
    }
    expect(placeholdersOf(POLICY_TEMPLATES.trust)).toEqual([]); // terraform loads it with file()
  });

  it("render every placeholder, in keys too, and leave no ${ behind", () => {
    const rendered = JSON.stringify(renderTemplate(POLICY_TEMPLATES.worker, vars));
    expect(rendered).not.toContain("${");
    expect(rendered).toContain("arn:aws-cn:s3:::acme-models/checkpoints/logs/*");
    expect(renderTemplate({ "a-${project}": ["${bucket}"] }, vars)).toEqual({ "a-acme": ["acme-models"] });
  });

  it("refuse an unknown placeholder instead of rendering a blank", () => {
    expect(() => renderTemplate({ x: "${nope}" }, vars as PolicyVars)).toThrow(/unknown placeholder \$\{nope\}/);
  });

  it("the bucket policy denies every S3 action without TLS, on the bucket and its objects", () => {
    const [statement, ...rest] = bucketPolicy(vars).Statement;
    expect(rest).toEqual([]);
    expect(statement).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws-cn:s3:::acme-models", "arn:aws-cn:s3:::acme-models/*"],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("the trust policy lets only EC2 assume the role", () => {
    expect(trustPolicy().Statement).toEqual([
      expect.objectContaining({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }),
    ]);
  });
});
