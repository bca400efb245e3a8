// moto has no EC2 quotas in Service Quotas, so this observation is tested against a recorded AWS
// response served on loopback: the real SDK parses the real response shape.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { spotQuotaFor, spotVcpuQuota } from "../../../src/aws/quotas.js";
import { spotQuota } from "../../../src/preflight/deployer/compute.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { FakeClock } from "../../support/fake-clock.js";

// GetServiceQuota for L-3819A6DF as returned by AWS (account id replaced).
const RECORDED = {
  Quota: {
    Adjustable: true,
    GlobalQuota: false,
    QuotaArn: "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-3819A6DF",
    QuotaCode: "L-3819A6DF",
    QuotaName: "All G and VT Spot Instance Requests",
    ServiceCode: "ec2",
    ServiceName: "Amazon Elastic Compute Cloud (Amazon EC2)",
    Unit: "None",
    Value: 8.0,
  },
};

let server: http.Server;
let requests: Array<{ target: string | undefined; body: string }> = [];
let answer: { status: number; body: unknown } = { status: 200, body: RECORDED };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ target: req.headers["x-amz-target"] as string | undefined, body });
      res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.AWS_ENDPOINT_URL_SERVICE_QUOTAS = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  delete process.env.AWS_ENDPOINT_URL_SERVICE_QUOTAS;
  server.close();
});

describe("spot vCPU quota", () => {
  it("maps instance families to their spot quota code", () => {
    expect(spotQuotaFor("g5.xlarge").code).toBe("L-3819A6DF");
    expect(spotQuotaFor("g6e.2xlarge").code).toBe("L-3819A6DF");
    expect(spotQuotaFor("p4d.24xlarge").code).toBe("L-7212CCBC");
    expect(spotQuotaFor("inf2.xlarge").code).toBe("L-B5D1601B");
  });

  it("reads the quota value through the real SDK from a recorded response", async () => {
    requests = [];
    answer = { status: 200, body: RECORDED };
    const clients = createAwsClients({ region: "us-east-1", role: "deployer" });
    const quota = await spotVcpuQuota(clients, "g5.xlarge");
    expect(quota).toEqual({ known: true, quotaName: "All G and VT Spot Instance Requests", code: "L-3819A6DF", vcpus: 8 });
    expect(requests[0]?.target).toBe("ServiceQuotasV20190624.GetServiceQuota");
    expect(JSON.parse(requests[0]!.body)).toEqual({ ServiceCode: "ec2", QuotaCode: "L-3819A6DF" });
  });

  it("an endpoint without the quota gives 'not verified', not a pass", async () => {
    answer = { status: 400, body: { __type: "NoSuchResourceException", message: "This service is not available in the current Region." } };
    const clients = createAwsClients({ region: "us-east-1", role: "deployer" });
    const quota = await spotVcpuQuota(clients, "g5.xlarge");
    expect(quota.known).toBe(false);
  });

  it("fails when the workers plus one failover replacement do not fit, with the quota request as fix", () => {
    const ctx = deployerContext(
      { clients: createAwsClients({ region: "us-east-1", role: "deployer" }), clock: new FakeClock() },
      { project: "my-app", region: "us-east-1", workers: 2 },
    );
    const known = { known: true as const, quotaName: "All G and VT Spot Instance Requests", code: "L-3819A6DF", vcpus: 8 };
    const tight = spotQuota.verdict({ quota: known, vcpusPerInstance: 4 }, ctx);
    expect(tight.status).toBe("fail");
    expect(tight.observed).toContain("need 12");
    expect(tight.fix?.command).toContain("--quota-code L-3819A6DF --desired-value 12");
    expect(spotQuota.verdict({ quota: { ...known, vcpus: 12 }, vcpusPerInstance: 4 }, ctx).status).toBe("pass");
    const unknown = spotQuota.verdict({ quota: { known: false, quotaName: "x", code: "L-3819A6DF", reason: "no" }, vcpusPerInstance: 4 }, ctx);
    expect(unknown.status).toBe("warn");
    expect(unknown.observed).toMatch(/^not verified/);
  });
});
