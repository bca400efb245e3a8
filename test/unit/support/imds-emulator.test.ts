import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../support/fake-clock.js";
import { ImdsEmulator, type ImdsEmulatorOptions } from "../../support/imds-emulator.js";

// The emulator's behaviour spec, point by point (see the doc comment in imds-emulator.ts).
let emulator: ImdsEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: ImdsEmulatorOptions = {}): Promise<ImdsEmulator> {
  emulator = await ImdsEmulator.start(options);
  return emulator;
}

async function token(imds: ImdsEmulator, ttl = "60"): Promise<string> {
  const res = await fetch(`${imds.url}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": ttl },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-aws-ec2-metadata-token-ttl-seconds")).toBe(ttl);
  return res.text();
}

async function get(imds: ImdsEmulator, path: string, tok?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${imds.url}${path}`, { headers: tok ? { "X-aws-ec2-metadata-token": tok } : {} });
  return { status: res.status, body: await res.text() };
}

describe("IMDS emulator", () => {
  it("listens on loopback only", async () => {
    const imds = await start();
    expect(imds.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("issues tokens only for a TTL of 1..21600 seconds", async () => {
    const imds = await start();
    const put = (headers: Record<string, string>) =>
      fetch(`${imds.url}/latest/api/token`, { method: "PUT", headers }).then((r) => r.status);
    expect(await put({})).toBe(400);
    expect(await put({ "X-aws-ec2-metadata-token-ttl-seconds": "0" })).toBe(400);
    expect(await put({ "X-aws-ec2-metadata-token-ttl-seconds": "21601" })).toBe(400);
    expect(await put({ "X-aws-ec2-metadata-token-ttl-seconds": "abc" })).toBe(400);
    expect(await put({ "X-aws-ec2-metadata-token-ttl-seconds": "21600" })).toBe(200);
    expect((await fetch(`${imds.url}/latest/api/token`)).status).toBe(405);
  });

  it("refuses requests with X-Forwarded-For", async () => {
    const imds = await start();
    const res = await fetch(`${imds.url}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "203.0.113.9" },
    });
    expect(res.status).toBe(403);
  });

  it("answers GETs only with a valid, unexpired token", async () => {
    const clock = new FakeClock();
    const imds = await start({ clock });
    expect((await get(imds, "/latest/meta-data/instance-id")).status).toBe(401);
    expect((await get(imds, "/latest/meta-data/instance-id", "made-up")).status).toBe(401);
    const tok = await token(imds, "60");
    expect(await get(imds, "/latest/meta-data/instance-id", tok)).toEqual({ status: 200, body: "i-0123456789abcdef0" });
    await clock.advance(60_000);
    expect((await get(imds, "/latest/meta-data/instance-id", tok)).status).toBe(401);
    const fresh = await token(imds);
    imds.revokeTokens();
    expect((await get(imds, "/latest/meta-data/instance-id", fresh)).status).toBe(401);
  });

  it("serves the identity document and the metadata of the same instance", async () => {
    const imds = await start({ instanceId: "i-0abc1234def567890", region: "eu-west-1", privateIp: "127.0.0.7" });
    const tok = await token(imds);
    const doc = JSON.parse((await get(imds, "/latest/dynamic/instance-identity/document", tok)).body);
    expect(doc).toMatchObject({
      instanceId: "i-0abc1234def567890",
      region: "eu-west-1",
      availabilityZone: "eu-west-1a",
      instanceType: "g5.xlarge",
      privateIp: "127.0.0.7",
      accountId: "123456789012",
    });
    const meta = async (p: string) => (await get(imds, `/latest/meta-data/${p}`, tok)).body;
    expect(await meta("instance-id")).toBe(doc.instanceId);
    expect(await meta("local-ipv4")).toBe("127.0.0.7");
    expect(await meta("placement/availability-zone")).toBe("eu-west-1a");
    expect(await meta("placement/region")).toBe("eu-west-1");
    expect(await meta("instance-type")).toBe("g5.xlarge");
    expect(await meta("ami-id")).toMatch(/^ami-/);
    expect((await get(imds, "/latest/meta-data/no-such-thing", tok)).status).toBe(404);
  });

  it("serves instance tags, or 404 everywhere under tags/ when they are disabled", async () => {
    const imds = await start({ tags: { SynktiCluster: "demo", SynktiRole: "worker" } });
    const tok = await token(imds);
    expect((await get(imds, "/latest/meta-data/tags/instance", tok)).body).toBe("SynktiCluster\nSynktiRole");
    expect((await get(imds, "/latest/meta-data/tags/instance/SynktiRole", tok)).body).toBe("worker");
    expect((await get(imds, "/latest/meta-data/tags/instance/Missing", tok)).status).toBe(404);
    imds.tags = null;
    expect((await get(imds, "/latest/meta-data/tags/instance", tok)).status).toBe(404);
    expect((await get(imds, "/latest/meta-data/tags/instance/SynktiRole", tok)).status).toBe(404);
  });

  it("serves instance-profile credentials in the shape EC2 uses", async () => {
    const clock = new FakeClock(Date.parse("2026-03-01T12:00:00Z"));
    const imds = await start({ iamRole: "demo-synkti-worker", clock });
    const tok = await token(imds);
    expect((await get(imds, "/latest/meta-data/iam/security-credentials/", tok)).body).toBe("demo-synkti-worker");
    const creds = JSON.parse((await get(imds, "/latest/meta-data/iam/security-credentials/demo-synkti-worker", tok)).body);
    expect(creds).toMatchObject({ Code: "Success", Type: "AWS-HMAC", LastUpdated: "2026-03-01T12:00:00Z" });
    expect(creds.Expiration).toBe("2026-03-01T18:00:00Z");
    for (const key of ["AccessKeyId", "SecretAccessKey", "Token"]) expect(typeof creds[key]).toBe("string");
    const none = await start({ iamRole: null });
    const tok2 = await token(none);
    expect((await get(none, "/latest/meta-data/iam/security-credentials/", tok2)).status).toBe(404);
    await none.close();
  });

  it("answers spot/instance-action and rebalance only after injection", async () => {
    const clock = new FakeClock(Date.parse("2026-03-01T12:00:00.123Z"));
    const imds = await start({ clock });
    const tok = await token(imds);
    expect((await get(imds, "/latest/meta-data/spot/instance-action", tok)).status).toBe(404);
    expect((await get(imds, "/latest/meta-data/events/recommendations/rebalance", tok)).status).toBe(404);
    imds.injectRebalance();
    expect(JSON.parse((await get(imds, "/latest/meta-data/events/recommendations/rebalance", tok)).body)).toEqual({
      noticeTime: "2026-03-01T12:00:00Z",
    });
    imds.injectSpotInterruption();
    expect(JSON.parse((await get(imds, "/latest/meta-data/spot/instance-action", tok)).body)).toEqual({
      action: "terminate",
      time: "2026-03-01T12:02:00Z",
    });
  });

  it("serves a raw identity body when told to, for validation tests", async () => {
    const imds = await start({ identityBody: '{"hello":"world"}' });
    const tok = await token(imds);
    expect((await get(imds, "/latest/dynamic/instance-identity/document", tok)).body).toBe('{"hello":"world"}');
  });

  it("answers garbage (200 HTML) to everything in garbage mode", async () => {
    const imds = await start({ mode: "garbage" });
    const res = await fetch(`${imds.url}/latest/api/token`, { method: "PUT" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(await res.text()).toMatch(/^<html>/);
    expect((await get(imds, "/latest/dynamic/instance-identity/document")).status).toBe(200);
  });

  it("accepts and never answers in hang mode, and still closes promptly", async () => {
    const imds = await start({ mode: "hang" });
    const outcome = await fetch(`${imds.url}/latest/api/token`, { method: "PUT", signal: AbortSignal.timeout(200) }).then(
      () => "answered",
      (error: Error) => error.name,
    );
    expect(outcome).toBe("TimeoutError");
    expect(imds.requests).toEqual([{ method: "PUT", path: "/latest/api/token", status: "no-answer" }]);
    void fetch(`${imds.url}/latest/meta-data/`).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    await imds.close();
    emulator = undefined;
  });

  it("counts requests by path and method", async () => {
    const imds = await start();
    const tok = await token(imds);
    await get(imds, "/latest/meta-data/instance-id", tok);
    await get(imds, "/latest/meta-data/instance-id");
    expect(imds.count()).toBe(3);
    expect(imds.count("/latest/api/token", "PUT")).toBe(1);
    expect(imds.count("/latest/meta-data/instance-id")).toBe(2);
    expect(imds.requests.map((r) => r.status)).toEqual([200, 200, 401]);
  });
});
