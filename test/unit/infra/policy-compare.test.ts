import { describe, expect, it } from "vitest";
import { canonical, differingStatements, parsePolicy, samePolicy } from "../../../src/infra/policy-compare.js";

const doc = {
  Version: "2012-10-17",
  Statement: [{ Sid: "A", Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:x"] }],
};

describe("policy comparison by meaning", () => {
  it("ignores key order, list order, one-element lists and scalar types", () => {
    const reserialised = {
      Statement: { Resource: "arn:x", Action: ["s3:ListBucket", "s3:GetObject"], Effect: "Allow", Sid: "A" },
      Version: "2012-10-17",
    };
    expect(samePolicy(doc, reserialised)).toBe(true);
    expect(samePolicy({ Condition: { Bool: { k: false } } }, { Condition: { Bool: { k: "false" } } })).toBe(true);
    expect(canonical([["b"], "a"])).toEqual(["a", "b"]);
  });

  it("sees a changed action, resource or effect", () => {
    const broader = structuredClone(doc);
    broader.Statement[0]!.Resource = ["*"];
    expect(samePolicy(doc, broader)).toBe(false);
    expect(differingStatements(doc, broader)).toEqual(["A", "1 unexpected statement(s)"]);
  });

  it("parses IAM's URL-encoded documents and S3's plain ones; garbage is undefined", () => {
    const text = JSON.stringify(doc);
    expect(parsePolicy(encodeURIComponent(text))).toEqual(doc);
    expect(parsePolicy(text)).toEqual(doc);
    expect(parsePolicy("%E0%A4%A")).toBeUndefined();
    expect(parsePolicy(undefined)).toBeUndefined();
  });

  it("names at most three differing statements", () => {
    const many = { Statement: ["A", "B", "C", "D", "E"].map((Sid) => ({ Sid, Effect: "Allow", Action: "x:Y" })) };
    expect(differingStatements(many, { Statement: [] })).toEqual(["A", "B", "C", "2 more"]);
  });
});
