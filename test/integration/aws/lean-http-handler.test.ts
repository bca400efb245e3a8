/**
 * The lean HTTP handler under the weights fetch's ranged GETs (src/aws/lean-http-handler.ts),
 * against servers of the test's own on loopback: plain HTTP and TLS bodies arrive whole and in
 * order (also when iterated piece by piece with pauses), a certificate nobody vouches for is
 * refused, and every deadline and cut ends the request with an error that names what happened.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpRequest } from "@smithy/types";
import { awsDeadlines } from "../../../src/aws/deadlines.js";
import { createLeanHttpHandler } from "../../../src/aws/lean-http-handler.js";

const BODY = randomBytes(5 * 1024 * 1024 + 123);
const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function listen(server: net.Server): Promise<number> {
  closers.push(() => server.close());
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** Answers any GET with 206 and `BODY`'s bytes of the Range asked for, echoing what it was sent. */
function rangeAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const [, from, to] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "") ?? [];
  const part = BODY.subarray(Number(from ?? 0), Number(to ?? BODY.length - 1) + 1);
  res.writeHead(206, { "content-length": part.length, "x-seen-owner": String(req.headers["x-amz-expected-bucket-owner"]), "x-seen-path": req.url ?? "" });
  res.end(part);
}

const request = (protocol: "http:" | "https:", port: number, headers: Record<string, string> = {}): HttpRequest => ({
  method: "GET",
  protocol,
  hostname: protocol === "https:" ? "localhost" : "127.0.0.1",
  port,
  path: "/bucket/org/m/a%20b.bin",
  query: { "x-id": "GetObject" },
  headers: { range: `bytes=0-${BODY.length - 1}`, "x-amz-expected-bucket-owner": "123456789012", ...headers },
});

/** Reads the body as the fetch does, pausing between pieces; hashes what it got. */
async function drain(body: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const piece of body) {
    await new Promise((resolve) => setImmediate(resolve)); // the next read must wait for this one
    hash.update(piece);
    bytes += piece.byteLength;
  }
  return { bytes, sha256: hash.digest("hex") };
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
  return { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) };
}

describe("the lean HTTP handler", { timeout: 30_000 }, () => {
  it("sends the SDK's request as it is (path, query, headers) and hands over every byte of the answer, in order", async () => {
    const port = await listen(http.createServer(rangeAnswer));
    const { response } = await createLeanHttpHandler(awsDeadlines(2000)).handle(request("http:", port));
    expect(response.statusCode).toBe(206);
    expect(response.headers["x-seen-owner"]).toBe("123456789012");
    expect(response.headers["x-seen-path"]).toBe("/bucket/org/m/a%20b.bin?x-id=GetObject");
    expect(await drain(response.body)).toEqual({ bytes: BODY.length, sha256: sha256(BODY) });
  });

  it("over TLS, with the certificate checked: a CA it trusts gets the bytes, an unknown one is refused", async () => {
    const { key, cert } = selfSignedCertificate();
    const port = await listen(https.createServer({ key, cert }, rangeAnswer));
    const { response } = await createLeanHttpHandler(awsDeadlines(2000), { ca: cert }).handle(request("https:", port));
    expect(await drain(response.body)).toEqual({ bytes: BODY.length, sha256: sha256(BODY) });
    await expect(createLeanHttpHandler(awsDeadlines(2000)).handle(request("https:", port))).rejects.toThrow(/self-signed certificate/);
  });

  it("read as a stream (the SDK's error parser does), the body arrives whole too", async () => {
    const port = await listen(http.createServer(rangeAnswer));
    const { response } = await createLeanHttpHandler(awsDeadlines(2000)).handle(request("http:", port));
    const pieces: Buffer[] = [];
    for await (const piece of (response.body as NodeJS.ReadableStream).pipe(new (await import("node:stream")).PassThrough())) pieces.push(piece as Buffer);
    expect(sha256(Buffer.concat(pieces))).toBe(sha256(BODY));
  });

  it("an endpoint that accepts and never answers ends at the answer deadline, naming it, with no socket left", async () => {
    const sockets: net.Socket[] = [];
    const port = await listen(net.createServer((s) => void sockets.push(s.resume())));
    closers.push(() => sockets.forEach((s) => s.destroy()));
    const started = Date.now();
    await expect(createLeanHttpHandler(awsDeadlines(600)).handle(request("http:", port))).rejects.toThrow(`http://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sockets.length).toBe(1);
    expect(sockets.every((s) => s.readableEnded)).toBe(true); // the handler closed its end
  });

  it("a body that stops moving ends at the idle deadline; a body cut short says how much was missing", async () => {
    const port = await listen(
      net.createServer((s) =>
        s.once("data", (head) => {
          const cut = head.toString().includes("cut");
          s.write(`HTTP/1.1 206 Partial Content\r\ncontent-length: 1000\r\n\r\n${"x".repeat(400)}`);
          if (cut) s.destroy(); // else: silent from here on
        }),
      ),
    );
    const deadlines = { ...awsDeadlines(2000), idleMs: 500 };
    const stalled = await createLeanHttpHandler(deadlines).handle(request("http:", port));
    await expect(drain(stalled.response.body)).rejects.toThrow(/0\.5 s|idle|inactiv/i);
    const cut = await createLeanHttpHandler(deadlines).handle(request("http:", port, { "x-cut": "cut" }));
    await expect(drain(cut.response.body)).rejects.toMatchObject({ code: "ECONNRESET", message: "socket hang up: the connection closed with 600 bytes of the answer still to come" });
  });

  it("an abort mid-body (Ctrl-C) ends the read at once", async () => {
    const port = await listen(http.createServer(rangeAnswer));
    const stop = new AbortController();
    const { response } = await createLeanHttpHandler(awsDeadlines(2000)).handle(request("http:", port), { abortSignal: stop.signal });
    let seen = 0;
    await expect(
      (async () => {
        for await (const piece of response.body as AsyncIterable<Uint8Array>) {
          seen += piece.byteLength;
          stop.abort(new Error("interrupted"));
        }
      })(),
    ).rejects.toThrow("interrupted");
    expect(seen).toBeLessThan(BODY.length);
  });

  it("a body nobody has read yet, then Ctrl-C: no error thrown at nobody (the process goes on); a later read gets it", async () => {
    const port = await listen(http.createServer(rangeAnswer));
    const stop = new AbortController();
    const { response } = await createLeanHttpHandler(awsDeadlines(2000)).handle(request("http:", port), { abortSignal: stop.signal });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      stop.abort(new Error("fetch over"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
      await expect(drain(response.body)).rejects.toThrow("fetch over");
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("refuses a request with a body (it is for GETs): nothing is sent", async () => {
    let connections = 0;
    const port = await listen(net.createServer((s) => void (connections++, s.destroy())));
    await expect(createLeanHttpHandler(awsDeadlines(2000)).handle({ ...request("http:", port), method: "PUT", body: Buffer.from("x") })).rejects.toThrow("sends no request bodies (PUT /bucket/org/m/a%20b.bin)");
    expect(connections).toBe(0);
  });
});
