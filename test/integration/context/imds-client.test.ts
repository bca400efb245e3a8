import { afterEach, describe, expect, it } from "vitest";
import { ImdsClient } from "../../../src/context/imds-client.js";
import { FakeClock } from "../../support/fake-clock.js";
import { closedPort, silentServer } from "../../support/free-port.js";
import { ImdsEmulator } from "../../support/imds-emulator.js";

// The real client (node:http transport, system clock) against the emulator and hostile loopback ports.
let imds: ImdsEmulator | undefined;
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

describe("ImdsClient over HTTP", () => {
  it("reads metadata with one token for many GETs", async () => {
    imds = await ImdsEmulator.start({ instanceId: "i-0abc1234def567890" });
    const client = new ImdsClient({ endpoint: imds.url });
    expect(await client.get("/latest/meta-data/instance-id")).toBe("i-0abc1234def567890");
    expect(await client.getJson("/latest/dynamic/instance-identity/document")).toMatchObject({ instanceId: "i-0abc1234def567890" });
    expect(await client.get("/latest/meta-data/spot/instance-action")).toBeUndefined();
    imds.injectSpotInterruption();
    expect(await client.getJson("/latest/meta-data/spot/instance-action")).toMatchObject({ action: "terminate" });
    expect(imds.count("/latest/api/token", "PUT")).toBe(1);
  });

  it("refreshes a token the server expired (401) and carries on", async () => {
    const serverClock = new FakeClock(Date.now());
    imds = await ImdsEmulator.start({ clock: serverClock });
    const client = new ImdsClient({ endpoint: imds.url, tokenTtlSeconds: 60 });
    await client.get("/latest/meta-data/instance-id");
    await serverClock.advance(61_000); // expired on the server; the client's own clock has not moved
    expect(await client.get("/latest/meta-data/instance-id")).toBe("i-0123456789abcdef0");
    expect(imds.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PUT 200", "GET 200", "GET 401", "PUT 200", "GET 200"]);
  });

  it("fails fast and typed on a closed port", async () => {
    const client = new ImdsClient({ endpoint: `http://127.0.0.1:${await closedPort()}` });
    const started = Date.now();
    await expect(client.token()).rejects.toMatchObject({ failure: "unreachable", message: expect.stringContaining("ECONNREFUSED") });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("gives up on a silent server at the deadline and leaves no socket behind", async () => {
    const silent = await silentServer();
    try {
      const client = new ImdsClient({ endpoint: silent.url, timeoutMs: 300 });
      const started = Date.now();
      await expect(client.token()).rejects.toMatchObject({ failure: "timeout" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(silent.connections()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it("calls a garbage server's token a bad answer", async () => {
    imds = await ImdsEmulator.start({ mode: "garbage" });
    await expect(new ImdsClient({ endpoint: imds.url }).token()).rejects.toMatchObject({ failure: "bad-answer" });
  });
});
