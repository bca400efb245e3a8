import net from "node:net";
import { describe, expect, it } from "vitest";
import { closedPort, freePort, silentServer } from "../../support/free-port.js";

const connect = (port: number, host = "127.0.0.1") =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });

describe("free-port", () => {
  it("freePort gives a port that can be bound right away", async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it("works on other 127.0.0.0/8 addresses and refuses anything else", async () => {
    expect(await freePort("127.0.0.2")).toBeGreaterThan(0);
    await expect(freePort("0.0.0.0")).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(freePort("10.0.0.1")).rejects.toThrow(/127\.0\.0\.0\/8/);
  });

  it("closedPort refuses connections", async () => {
    await expect(connect(await closedPort())).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("silentServer accepts and never answers, until closed", async () => {
    const silent = await silentServer();
    const socket = await connect(silent.port);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const answered = await Promise.race([
      new Promise((resolve) => socket.once("data", () => resolve("data"))),
      new Promise((resolve) => setTimeout(() => resolve("silence"), 150)),
    ]);
    expect(answered).toBe("silence");
    expect(silent.connections()).toBe(1);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await silent[Symbol.asyncDispose]();
    await closed; // close() destroys accepted sockets too
    await expect(connect(silent.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("a fetch against a silentServer hangs until its own timeout", async () => {
    await using silent = await silentServer();
    await expect(fetch(silent.url, { signal: AbortSignal.timeout(100) })).rejects.toThrow(/timeout|aborted/i);
  });
});
