import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ImdsClient } from "../../../src/context/imds-client.js";
import { ImdsError } from "../../../src/context/imds-error.js";
import type { ImdsRequest, ImdsResponse, ImdsTransport } from "../../../src/context/imds-transport.js";
import { FakeClock } from "../../support/fake-clock.js";

type Answer = ImdsResponse | "hang" | Error;

/** A transport played by a function; "hang" never answers but honours the abort signal. */
function scripted(answer: (req: ImdsRequest, n: number) => Answer): { transport: ImdsTransport; seen: ImdsRequest[] } {
  const seen: ImdsRequest[] = [];
  const transport: ImdsTransport = (req, signal) => {
    seen.push(req);
    const a = answer(req, seen.length);
    if (a === "hang") {
      return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    }
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { transport, seen };
}

const ok = (body: string, headers: Record<string, string> = {}): ImdsResponse => ({ status: 200, headers, body });
const status = (code: number): ImdsResponse => ({ status: code, headers: {}, body: "" });
const TOKEN = "AQAEAFakeTokenForUnitTests0123456789abcdefghijklmnopq==";

/** An IMDS that issues numbered tokens and answers GETs through `onGet`. */
function imdsLike(onGet: (req: ImdsRequest) => Answer, ttlHeader?: string) {
  let issued = 0;
  return scripted((req) => {
    if (req.method === "PUT") {
      issued += 1;
      return ok(`${TOKEN}${issued}`, ttlHeader ? { "x-aws-ec2-metadata-token-ttl-seconds": ttlHeader } : {});
    }
    return onGet(req);
  });
}

describe("ImdsClient", () => {
  it("PUTs a token with a TTL, then sends it on every GET, caching it", async () => {
    const { transport, seen } = imdsLike((req) => ok(`answer for ${req.url}`));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1/", transport, clock: new FakeClock() });
    expect(await client.get("/latest/meta-data/instance-id")).toBe("answer for http://127.0.0.1:1/latest/meta-data/instance-id");
    await client.get("/latest/meta-data/local-ipv4");
    expect(seen.map((r) => r.method)).toEqual(["PUT", "GET", "GET"]);
    expect(seen[0]!.headers["x-aws-ec2-metadata-token-ttl-seconds"]).toBe("21600");
    expect(seen[1]!.headers["x-aws-ec2-metadata-token"]).toBe(`${TOKEN}1`);
    expect(seen[2]!.headers["x-aws-ec2-metadata-token"]).toBe(`${TOKEN}1`);
  });

  it("shares one token request between concurrent callers", async () => {
    const { transport, seen } = imdsLike(() => ok("x"));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    await Promise.all([client.get("/a"), client.get("/b"), client.get("/c")]);
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(1);
  });

  it("renews the token shortly before it expires (granted TTL, on the injected clock)", async () => {
    const clock = new FakeClock();
    const { transport, seen } = imdsLike(() => ok("x"), "600");
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock, tokenTtlSeconds: 21600 });
    await client.get("/a");
    await clock.advance(539_000); // 600 s granted, renewed 60 s early
    await client.get("/a");
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(1);
    await clock.advance(1_000);
    await client.get("/a");
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(2);
  });

  it("on 401 drops the token and retries once with a fresh one", async () => {
    const { transport, seen } = imdsLike((req) => (req.headers["x-aws-ec2-metadata-token"] === `${TOKEN}1` ? status(401) : ok("fresh")));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    expect(await client.get("/a")).toBe("fresh");
    expect(seen.map((r) => r.method)).toEqual(["PUT", "GET", "PUT", "GET"]);
  });

  it("gives up with 'unauthorized' when even a fresh token gets 401", async () => {
    const { transport } = imdsLike(() => status(401));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    await expect(client.get("/a")).rejects.toMatchObject({ failure: "unauthorized", status: 401 });
  });

  it("maps 404 to undefined and other statuses to typed errors", async () => {
    const { transport } = imdsLike((req) => (req.url.endsWith("/missing") ? status(404) : req.url.endsWith("/forbidden") ? status(403) : status(500)));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    expect(await client.get("/missing")).toBeUndefined();
    await expect(client.get("/forbidden")).rejects.toMatchObject({ failure: "refused" });
    await expect(client.get("/boom")).rejects.toMatchObject({ failure: "http-error", status: 500 });
  });

  it("refuses a token that is not one (HTML from a stray server)", async () => {
    const { transport } = scripted(() => ok("<html><body>It works!</body></html>"));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    const error = await client.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImdsError);
    expect(error).toMatchObject({ failure: "bad-answer", kind: "unobservable" });
  });

  it("calls a 404/405 on the token path 'not IMDSv2', and a 403 'refused'", async () => {
    for (const [code, failure] of [[404, "bad-answer"], [405, "bad-answer"], [403, "refused"], [400, "http-error"]] as const) {
      const { transport } = scripted(() => status(code));
      const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
      await expect(client.token()).rejects.toMatchObject({ failure });
    }
  });

  it("parses JSON, and calls broken JSON a bad answer", async () => {
    const { transport } = imdsLike((req) => ok(req.url.endsWith("/json") ? '{"a":1}' : "{broken"));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    expect(await client.getJson("/json")).toEqual({ a: 1 });
    await expect(client.getJson("/broken")).rejects.toMatchObject({ failure: "bad-answer" });
  });

  it("validates JSON against a schema when given one", async () => {
    const { transport } = imdsLike((req) => ok(req.url.endsWith("/good") ? '{"action":"terminate"}' : '{"action":7}'));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    const schema = z.object({ action: z.string() });
    const notice: { action: string } | undefined = await client.getJson("/good", { schema });
    expect(notice).toEqual({ action: "terminate" });
    await expect(client.getJson("/bad", { schema })).rejects.toMatchObject({ failure: "bad-answer", message: expect.stringContaining("action") });
  });

  it("times out a silent server on the injected clock, without real waiting", async () => {
    const clock = new FakeClock();
    const { transport } = scripted(() => "hang");
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock, timeoutMs: 2000 });
    const outcome = client.token({ timeoutMs: 1000 }).catch((e: unknown) => e);
    await clock.advance(999);
    expect(clock.pending()).toBe(1);
    await clock.advance(1);
    expect(await outcome).toMatchObject({ failure: "timeout", message: expect.stringContaining("within 1000 ms") });
  });

  it("a failed token request is not cached: the next call tries again", async () => {
    const { transport, seen } = scripted((_req, n) => (n === 1 ? Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) : ok(TOKEN)));
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock: new FakeClock() });
    await expect(client.token()).rejects.toMatchObject({ failure: "unreachable", message: expect.stringContaining("ECONNREFUSED") });
    expect(await client.token()).toBe(TOKEN);
    expect(seen).toHaveLength(2);
  });

  it("stops at once when the caller's signal aborts, with the caller's reason", async () => {
    const clock = new FakeClock();
    const { transport } = scripted(() => "hang");
    const client = new ImdsClient({ endpoint: "http://127.0.0.1:1", transport, clock });
    const controller = new AbortController();
    const outcome = client.token({ signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error("Ctrl-C"));
    expect(await outcome).toMatchObject({ message: "Ctrl-C" });
  });
});
