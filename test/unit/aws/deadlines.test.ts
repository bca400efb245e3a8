import { StandardRetryStrategy } from "@smithy/core/retry";
import type { RetryErrorInfo } from "@smithy/types";
import { describe, expect, it } from "vitest";
import { annotateCall, AwsNoAnswer, awsDeadlines, awsDeadlinesFromEnv } from "../../../src/aws/deadlines.js";
import { classifyAwsError, toSynktiError } from "../../../src/aws/errors.js";
import { withoutFutileRetries } from "../../../src/aws/retry.js";
import { isSynktiError } from "../../../src/core/errors.js";

describe("SYNKTI_AWS_TIMEOUT_MS", () => {
  it("unset: 15 s to answer, 5 s to connect, 60 s without a byte moving (like the AWS CLI)", () => {
    expect(awsDeadlinesFromEnv({})).toEqual({ connectMs: 5000, answerMs: 15_000, idleMs: 60_000 });
  });

  it("shortens every deadline; connecting gets half the answer deadline, at most 5 s", () => {
    expect(awsDeadlinesFromEnv({ SYNKTI_AWS_TIMEOUT_MS: "1500" })).toEqual({ connectMs: 750, answerMs: 1500, idleMs: 6000 });
    expect(awsDeadlinesFromEnv({ SYNKTI_AWS_TIMEOUT_MS: " 60000 " })).toEqual(awsDeadlines(60_000));
  });

  it.each(["soon", "1.5", "-1", "99", "600001", "1e4"])("'%s' is a usage error (exit 2) naming the valid values", (value) => {
    const error = (() => {
      try {
        awsDeadlinesFromEnv({ SYNKTI_AWS_TIMEOUT_MS: value });
      } catch (e) {
        return e;
      }
    })();
    expect(isSynktiError(error) && error.kind).toBe("usage");
    expect((error as Error).message).toContain(`SYNKTI_AWS_TIMEOUT_MS='${value}' is not valid`);
    expect((error as Error).message).toMatch(/whole number of milliseconds from 100 to 600000 \(default 15000\)/);
  });
});

describe("an endpoint that did not answer", () => {
  const silent = () => new AwsNoAnswer("http://127.0.0.1:4599", "answer", 1500).forOperation("ec2 DescribeInstances");

  it("says where, which call and how long synkti waited, in the message itself", () => {
    expect(silent().message).toBe("AWS did not answer at http://127.0.0.1:4599 (ec2 DescribeInstances) within 1.5 s");
    expect(new AwsNoAnswer("https://s3.us-east-1.amazonaws.com", "idle", 15_000).message).toBe(
      "AWS stopped answering at https://s3.us-east-1.amazonaws.com: nothing moved for 15 s",
    );
    expect(new AwsNoAnswer("https://sts.amazonaws.com", "connect", 5000).message).toMatch(/did not accept a connection at https:\/\/sts.amazonaws.com within 5 s/);
  });

  it("is exit 3 (could not observe) with what to check and a command to run, from the one mapping place", () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:4599";
    try {
      expect(classifyAwsError(silent())).toBe("unreachable");
      const error = toSynktiError(silent(), "listing the workers");
      expect(error).toMatchObject({ code: "aws-no-answer", kind: "unobservable", fault: "aws" });
      expect(error.message).toBe(
        "AWS did not answer at http://127.0.0.1:4599 (ec2 DescribeInstances) within 1.5 s while listing the workers; " +
          "check that AWS_ENDPOINT_URL=http://127.0.0.1:4599 is the endpoint you mean and that it runs.",
      );
      expect(error.remedy).toMatch(/^synkti preflight --project-name <project> .*SYNKTI_AWS_TIMEOUT_MS/);
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });

  it("on AWS's own endpoints, points at the network rather than an endpoint override", () => {
    const error = toSynktiError(new AwsNoAnswer("https://ec2.us-east-1.amazonaws.com", "answer", 15_000), "listing the workers");
    expect(error.message).toMatch(/check the network, a VPN or proxy, and the region\.$/);
  });

  it("a refused connection names the endpoint and the call too", () => {
    const refused = annotateCall(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4599"), { code: "ECONNREFUSED" }), {
      endpoint: "http://127.0.0.1:4599",
    });
    annotateCall(refused, { operation: "s3 HeadBucket" });
    const error = toSynktiError(refused, "checking bucket b");
    expect(error).toMatchObject({ code: "aws-unreachable", kind: "unobservable" });
    expect(error.message).toMatch(/^Could not reach AWS at http:\/\/127.0.0.1:4599 \(s3 HeadBucket\) while checking bucket b: connect ECONNREFUSED/);
  });
});

describe("retries", () => {
  const info = (error: unknown): RetryErrorInfo => ({ error: error as RetryErrorInfo["error"], errorType: "TRANSIENT" });

  it("a missed deadline is not retried: one silent attempt is the whole wait", async () => {
    const strategy = withoutFutileRetries(new StandardRetryStrategy(3), { capacity: false });
    const token = await strategy.acquireInitialRetryToken("");
    await expect(strategy.refreshRetryTokenForRetry(token, info(new AwsNoAnswer("http://x", "answer", 1000)))).rejects.toThrow(/not retried/);
  });

  it("a quick failure (reset connection, 500) keeps the SDK's retries", async () => {
    const strategy = withoutFutileRetries(new StandardRetryStrategy(3), { capacity: false });
    const token = await strategy.acquireInitialRetryToken("");
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await expect(strategy.refreshRetryTokenForRetry(token, info(reset))).resolves.toBeDefined();
  });

  it("capacity errors are not retried where asked (EC2), and are elsewhere", async () => {
    const capacity = Object.assign(new Error("no capacity"), { name: "InsufficientInstanceCapacity", $metadata: { httpStatusCode: 500 } });
    const ec2 = withoutFutileRetries(new StandardRetryStrategy(3), { capacity: true });
    await expect(ec2.refreshRetryTokenForRetry(await ec2.acquireInitialRetryToken(""), info(capacity))).rejects.toThrow(/capacity/);
    const other = withoutFutileRetries(new StandardRetryStrategy(3), { capacity: false });
    await expect(other.refreshRetryTokenForRetry(await other.acquireInitialRetryToken(""), info(capacity))).resolves.toBeDefined();
  });
});
