// On AWS a bucket name taken by another account answers 403 to HeadBucket; moto answers 200 for
// any bucket, so this observation is tested against a loopback endpoint that answers as AWS does.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { bucket } from "../../../src/preflight/deployer/infra.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { FakeClock } from "../../support/fake-clock.js";

let server: http.Server;
let status = 403;
const seen: string[] = [];
const headers: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.method === "POST") {
      // STS GetCallerIdentity: every S3 request names the caller's account as the expected owner.
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDTEST</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>TEST</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      return;
    }
    seen.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    // S3 answers HEAD without a body; the status is all the SDK gets.
    res.writeHead(status, { "x-amz-request-id": "TEST", "x-amz-bucket-region": "us-east-1" });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.AWS_ENDPOINT_URL_S3 = process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  delete process.env.AWS_ENDPOINT_URL_S3;
  delete process.env.AWS_ENDPOINT_URL_STS;
  server.close();
});

function ctx() {
  return deployerContext(
    { clients: createAwsClients({ region: "us-east-1", role: "deployer" }), clock: new FakeClock() },
    { project: "taken-name", region: "us-east-1" },
  );
}

describe("bucket requirement", () => {
  it("reports a bucket owned by another account (403) as its own failure, not as missing", async () => {
    status = 403;
    const c = ctx();
    const observed = await bucket.observe(c, new AbortController().signal);
    expect(observed).toEqual({ state: "foreign" });
    expect(seen.at(-1)).toMatch(/^HEAD \/taken-name-models\/?$/);
    expect(headers.at(-1)?.["x-amz-expected-bucket-owner"]).toBe("123456789012");
    const finding = bucket.verdict(observed, c);
    expect(finding.status).toBe("fail");
    expect(finding.observed).toMatch(/another account/);
    expect(finding.fix?.needs).toEqual(["another-project-name"]);
  });

  it("reports a missing bucket (404) with infra up as the fix", async () => {
    status = 404;
    const c = ctx();
    const finding = bucket.verdict(await bucket.observe(c, new AbortController().signal), c);
    expect(finding).toMatchObject({ status: "fail", fix: { command: "synkti infra up --project-name taken-name --region us-east-1" } });
  });
});
