/**
 * The fault proxy's own behaviour, against a local echo server instead of moto: request naming,
 * error shapes, rule matching and verbatim forwarding.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsErrorResponse, describeRequest, startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { closedPort } from "../../support/free-port.js";

const sigv4 = (service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc` });
const form = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
const name = (method: string, url: string, headers: http.IncomingHttpHeaders = sigv4("s3"), body?: string) =>
  describeRequest(method, url, headers, body === undefined ? undefined : Buffer.from(body)).action;

describe("describeRequest names a request service:Operation", () => {
  it.each([
    ["POST", "/", { ...sigv4("ec2"), ...form }, "Action=RunInstances&Version=2016-11-15", "ec2:RunInstances"],
    ["POST", "/", { ...sigv4("iam"), ...form }, "Action=CreateRole&Version=2010-05-08", "iam:CreateRole"],
    ["GET", "/?Action=GetCallerIdentity&Version=2011-06-15", {}, undefined, "sts:GetCallerIdentity"],
    ["POST", "/", { ...sigv4("ssm"), "x-amz-target": "AmazonSSM.GetParameter" }, "{}", "ssm:GetParameter"],
    ["GET", "/", sigv4("s3"), undefined, "s3:ListBuckets"],
    ["PUT", "/bucket", sigv4("s3"), undefined, "s3:CreateBucket"],
    ["HEAD", "/bucket", sigv4("s3"), undefined, "s3:HeadBucket"],
    ["GET", "/bucket?list-type=2&prefix=a", sigv4("s3"), undefined, "s3:ListObjectsV2"],
    ["PUT", "/bucket?lifecycle", sigv4("s3"), undefined, "s3:PutBucketLifecycleConfiguration"],
    ["PUT", "/bucket?publicAccessBlock", sigv4("s3"), undefined, "s3:PutPublicAccessBlock"],
    ["GET", "/bucket?encryption", sigv4("s3"), undefined, "s3:GetBucketEncryption"],
    ["PUT", "/bucket/a/b.bin", sigv4("s3"), undefined, "s3:PutObject"],
    ["GET", "/bucket/a/b.bin", sigv4("s3"), undefined, "s3:GetObject"],
    ["HEAD", "/bucket/a/b.bin", sigv4("s3"), undefined, "s3:HeadObject"],
    ["DELETE", "/bucket/a/b.bin", sigv4("s3"), undefined, "s3:DeleteObject"],
    ["POST", "/bucket/k?uploads", sigv4("s3"), undefined, "s3:CreateMultipartUpload"],
    ["PUT", "/bucket/k?partNumber=1&uploadId=u", sigv4("s3"), undefined, "s3:UploadPart"],
    ["POST", "/bucket/k?uploadId=u", sigv4("s3"), undefined, "s3:CompleteMultipartUpload"],
    ["POST", "/bucket?delete", sigv4("s3"), undefined, "s3:DeleteObjects"],
    ["GET", "/bucket/k?X-Amz-Credential=AKID%2F20261125%2Fus-east-1%2Fs3%2Faws4_request", {}, undefined, "s3:GetObject"],
  ])("%s %s -> %s", (method, url, headers, body, action) => {
    expect(name(method, url, headers as http.IncomingHttpHeaders, body)).toBe(action);
  });

  it("gives query parameters and JSON bodies to predicates", () => {
    const run = describeRequest("POST", "/", { ...sigv4("ec2"), ...form }, Buffer.from("Action=RunInstances&Placement.AvailabilityZone=us-east-1a"));
    expect(run).toMatchObject({ protocol: "ec2", operation: "RunInstances", params: { "Placement.AvailabilityZone": "us-east-1a" } });
    const json = describeRequest("POST", "/", { ...sigv4("ssm"), "x-amz-target": "AmazonSSM.GetParameter" }, Buffer.from('{"Name":"x"}'));
    expect(json).toMatchObject({ protocol: "json", json: { Name: "x" } });
  });
});

describe("awsErrorResponse shapes errors per protocol", () => {
  const ec2 = describeRequest("POST", "/", { ...sigv4("ec2"), ...form }, Buffer.from("Action=RunInstances"));
  const iam = describeRequest("POST", "/", { ...sigv4("iam"), ...form }, Buffer.from("Action=CreateRole&Version=2010-05-08"));
  const headObject = describeRequest("HEAD", "/b/k", sigv4("s3"));

  it("EC2: <Response><Errors><Error>, RequestID, 503 for RequestLimitExceeded, 500 for capacity", () => {
    const throttled = awsErrorResponse(ec2, "throttle");
    expect(throttled.status).toBe(503);
    expect(throttled.body).toMatch(/<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[^<]+<\/RequestID><\/Response>$/);
    expect(awsErrorResponse(ec2, "capacity")).toMatchObject({ status: 500 });
    expect(awsErrorResponse(ec2, "access-denied").body).toContain("<Code>UnauthorizedOperation</Code>");
  });

  it("IAM/STS: <ErrorResponse> with Type Sender (4xx) or Receiver (5xx) and the service namespace", () => {
    const throttled = awsErrorResponse(iam, "throttle");
    expect(throttled.status).toBe(400);
    expect(throttled.body).toMatch(/^<ErrorResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>Throttling<\/Code>/);
    expect(awsErrorResponse(iam, "access-denied").status).toBe(403);
    expect(awsErrorResponse(iam, "server-error").body).toContain("<Type>Receiver</Type>");
  });

  it("S3: <Error> with 503 SlowDown, and no body on HEAD", () => {
    const put = describeRequest("PUT", "/b/k", sigv4("s3"));
    expect(awsErrorResponse(put, "throttle")).toMatchObject({ status: 503 });
    expect(awsErrorResponse(put, "throttle").body).toMatch(/<Error><Code>SlowDown<\/Code>/);
    expect(awsErrorResponse(headObject, { code: "AccessDenied" })).toMatchObject({ status: 403, body: "" });
  });

  it("explicit codes keep their status unless given; messages are XML-escaped", () => {
    expect(awsErrorResponse(ec2, { code: "InvalidParameterValue", message: "a <b> & c" })).toMatchObject({ status: 400 });
    expect(awsErrorResponse(ec2, { code: "InvalidParameterValue", message: "a <b> & c" }).body).not.toContain("<b>");
    expect(awsErrorResponse(ec2, { code: "Whatever", status: 502 }).status).toBe(502);
  });
});

describe("the proxy", () => {
  let upstream: http.Server;
  let proxy: FaultProxy;
  const seen: { method?: string; url?: string; host?: string; bytes: number }[] = [];

  beforeAll(async () => {
    upstream = http.createServer(async (req, res) => {
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      seen.push({ method: req.method, url: req.url, host: req.headers.host, bytes });
      res.writeHead(200, { "content-type": "text/plain", "x-upstream": "yes" }).end(`echo ${bytes}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    proxy = await startFaultProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });
  afterEach(() => {
    proxy.clearRules();
    proxy.resetCounts();
    seen.length = 0;
  });

  const ec2Call = (action: string, extra = "") =>
    fetch(proxy.url, { method: "POST", headers: { ...sigv4("ec2"), ...form }, body: `Action=${action}&Version=2016-11-15${extra}` });

  it("forwards verbatim, keeping the client's Host header and streaming large bodies", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 1);
    const response = await fetch(`${proxy.url}/bucket/key`, { method: "PUT", headers: sigv4("s3"), body });
    expect(response.headers.get("x-upstream")).toBe("yes");
    expect(await response.text()).toBe(`echo ${body.length}`);
    expect(seen[0]).toMatchObject({ method: "PUT", url: "/bucket/key", host: new URL(proxy.url).host, bytes: body.length });
    expect(proxy.counts()).toEqual({ "s3:PutObject": 1 });
  });

  it("applies the first matching rule only `times` times, honouring `when`", async () => {
    const id = proxy.addRule({ action: "RunInstances", error: "capacity", times: 2, when: (r) => r.params["Placement.AvailabilityZone"] === "us-east-1a" });
    expect((await ec2Call("RunInstances", "&Placement.AvailabilityZone=us-east-1b")).status).toBe(200);
    expect((await ec2Call("RunInstances", "&Placement.AvailabilityZone=us-east-1a")).status).toBe(500);
    expect((await ec2Call("RunInstances", "&Placement.AvailabilityZone=us-east-1a")).status).toBe(500);
    expect((await ec2Call("RunInstances", "&Placement.AvailabilityZone=us-east-1a")).status).toBe(200);
    expect(proxy.ruleHits(id)).toBe(2);
    expect(proxy.counts()).toEqual({ "ec2:RunInstances": 4 });
    expect(proxy.calls().map((c) => c.outcome)).toEqual(["forwarded", "error", "error", "forwarded"]);
  });

  it("removes rules, matches RegExp and '*'", async () => {
    const id = proxy.addRule({ action: /^ec2:Describe/, error: "throttle" });
    expect((await ec2Call("DescribeInstances")).status).toBe(503);
    proxy.removeRule(id);
    expect((await ec2Call("DescribeInstances")).status).toBe(200);
    proxy.addRule({ action: "*", error: "server-error" });
    expect((await ec2Call("TerminateInstances")).status).toBe(500);
  });

  it("delays, then forwards", async () => {
    proxy.addRule({ action: "ec2:DescribeInstances", delayMs: 200 });
    const started = Date.now();
    expect((await ec2Call("DescribeInstances")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("drops the connection", async () => {
    proxy.addRule({ action: "ec2:DescribeInstances", drop: true });
    await expect(ec2Call("DescribeInstances")).rejects.toThrow();
    expect(proxy.calls()[0]?.outcome).toBe("dropped");
  });

  it("cuts an answer after some bytes of its body: the client gets exactly those, then the stream fails", async () => {
    proxy.addRule({ action: "s3:PutObject", cutAfterBytes: 3 });
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.request(`${proxy.url}/bucket/key`, { method: "PUT", headers: sigv4("s3") }, resolve).on("error", reject).end("hello"),
    );
    let got = "";
    const ended = await new Promise<string>((resolve) => {
      answer.on("data", (b: Buffer) => (got += b.toString()));
      answer.on("end", () => resolve("end"));
      answer.on("aborted", () => resolve("aborted"));
      answer.on("error", () => resolve("error"));
    });
    expect(answer.statusCode).toBe(200);
    expect(got).toBe("ech"); // of "echo 5"
    expect(ended).not.toBe("end");
    expect(proxy.calls()[0]?.outcome).toBe("cut");
  });

  it("passes /moto-api/ through without counting or faulting it", async () => {
    proxy.addRule({ action: "*", error: "server-error" });
    expect((await fetch(`${proxy.url}/moto-api/reset`, { method: "POST" })).status).toBe(200);
    expect(proxy.counts()).toEqual({});
  });

  it("stays on loopback: refuses a non-loopback target or address", async () => {
    await expect(startFaultProxy({ target: "http://10.0.0.1:5000" })).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(startFaultProxy({ target: proxy.url, host: "0.0.0.0" })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });

  it("answers 502 when the target is down", async () => {
    await using down = await startFaultProxy({ target: `http://127.0.0.1:${await closedPort()}` });
    const response = await fetch(down.url, { method: "POST", headers: form, body: "Action=DescribeRegions&Version=2016-11-15" });
    expect(response.status).toBe(502);
  });
});
