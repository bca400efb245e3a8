/**
 * The deadlines of src/aws (deadlines.ts, http-handler.ts) on real sockets: the real clients
 * against a silent endpoint, against moto, and against moto behind a proxy that lets bytes through
 * slowly (a slow uplink or downlink that keeps moving).
 */
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import net from "node:net";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { ListRolesCommand } from "@aws-sdk/client-iam";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../../src/aws/clients.js";
import { awsDeadlines, AwsNoAnswer } from "../../../src/aws/deadlines.js";
import { createS3Transfer } from "../../../src/aws/s3-transfer.js";
import { isSynktiError, type SynktiError } from "../../../src/core/errors.js";
import { silentServer, type SilentServer } from "../../support/free-port.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

let moto: Moto;
let silent: SilentServer;
const saved = { ...process.env };

beforeAll(async () => {
  [moto, silent] = await Promise.all([startMoto(), silentServer()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), silent?.close()]);
});
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_ENDPOINT_URL")) delete process.env[key];
  Object.assign(process.env, saved);
});

/** Clients as the CLI builds them, with the endpoint variables given (set before the clients exist). */
function clientsAt(endpoints: Record<string, string>, timeoutMs: number): AwsClients {
  Object.assign(process.env, awsEnvFor(moto.url), endpoints);
  return createAwsClients({ role: "deployer", region: "us-east-1", deadlines: awsDeadlines(timeoutMs) });
}

async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await work.then(
    () => new Error("expected the call to fail"),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;

describe("an endpoint that accepts and never answers", () => {
  it("each client's call ends at the answer deadline, once (no retry), naming the endpoint and the call", async () => {
    const clients = clientsAt({ AWS_ENDPOINT_URL: silent.url }, 700);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["ec2 DescribeInstances", async () => (await clients.ec2()).send(new DescribeInstancesCommand({}))],
      ["iam ListRoles", async () => (await clients.iam()).send(new ListRolesCommand({}))],
      ["sts GetCallerIdentity", () => clients.identity()],
    ];
    for (const [operation, call] of calls) {
      const before = silent.connections();
      const { error, ms } = await failure(call());
      expect(error).toBeInstanceOf(AwsNoAnswer);
      expect((error as Error).message).toBe(`AWS did not answer at ${silent.url} (${operation}) within 0.7 s`);
      expect(ms).toBeGreaterThanOrEqual(650);
      expect(ms).toBeLessThan(700 + 3000);
      expect(silent.connections() - before, operation).toBe(1);
    }
  });

  it("leaves no socket open: the request is destroyed, so nothing keeps the process alive", async () => {
    const baseline = tcpSockets();
    const clients = clientsAt({ AWS_ENDPOINT_URL: silent.url }, 500);
    await failure((async () => (await clients.ec2()).send(new DescribeInstancesCommand({})))());
    // Both ends of the connection live in this process; give the server side a moment to see the close.
    for (let i = 0; i < 20 && tcpSockets() > baseline; i++) await new Promise((r) => setTimeout(r, 50));
    expect(tcpSockets()).toBe(baseline);
  });

  it("an S3 upload that stops moving ends at the idle deadline (4 x SYNKTI_AWS_TIMEOUT_MS), naming the endpoint", async () => {
    // STS answers (moto), S3 is silent: the upload itself is what gets no answer.
    const clients = clientsAt({ AWS_ENDPOINT_URL_STS: moto.url, AWS_ENDPOINT_URL_S3: silent.url }, 400);
    // The bucket owner (STS, asked once and remembered) first: on a loaded machine moto's first answer
    // can miss a 0.4 s deadline, and this test is about the upload's idle deadline, not STS's.
    for (let attempt = 1; attempt <= 20; attempt++) if (await clients.accountId().then(() => true, () => false)) break;
    const transfer = await createS3Transfer(clients);
    const body = randomBytes(256 * 1024);
    const { error, ms } = await failure(
      transfer.putBytes("b", "k", body, { sha256Hex: "00".repeat(32), large: true }),
    );
    expect(isSynktiError(error) && error.code).toBe("aws-no-answer");
    expect((error as SynktiError).kind).toBe("unobservable");
    expect((error as Error).message).toMatch(new RegExp(`^AWS stopped answering at ${silent.url} \\(s3 PutObject\\): nothing moved for 1\\.6 s while uploading s3://b/k`));
    expect(ms).toBeGreaterThanOrEqual(1500);
    expect(ms).toBeLessThan(1600 + 3000);
  });
});

/**
 * A port whose accept queue is full: a new connection's SYN is dropped, so connecting hangs (a
 * black-holed address, without leaving 127.0.0.1). Python, because Node always accepts.
 */
async function unacceptingPort(): Promise<{ port: number; close: () => void }> {
  const script = [
    "import socket, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "port = s.getsockname()[1]",
    "fill = [socket.socket() for _ in range(4)]",
    "for c in fill: c.setblocking(False); c.connect_ex(('127.0.0.1', port))",
    "print(port, flush=True)",
    "time.sleep(300)",
  ].join("\n");
  const child = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    child.once("error", reject);
  });
  return { port, close: () => child.kill("SIGKILL") };
}

describe("an endpoint that never accepts the connection", () => {
  it("the call ends at the connect deadline, naming the endpoint", async () => {
    const hole = await unacceptingPort();
    try {
      const url = `http://127.0.0.1:${hole.port}`;
      const clients = clientsAt({ AWS_ENDPOINT_URL: url }, 800);
      const { error, ms } = await failure((async () => (await clients.ec2()).send(new DescribeInstancesCommand({})))());
      expect((error as Error).message).toBe(`AWS did not accept a connection at ${url} (ec2 DescribeInstances) within 0.4 s`);
      expect(ms).toBeLessThan(800 + 3000);
    } finally {
      hole.close();
    }
  });
});

/**
 * A TCP proxy to moto that lets at most `bytesPerSecond` through in the direction given: a slow
 * link that keeps moving, never silent for long.
 */
async function slowLink(target: number, direction: "up" | "down", bytesPerSecond: number) {
  const throttle = (from: net.Socket, to: net.Socket) =>
    from.on("data", (chunk: Buffer) => {
      from.pause();
      to.write(chunk);
      setTimeout(() => from.resume(), (chunk.length / bytesPerSecond) * 1000);
    });
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) open.add(s), s.on("close", () => open.delete(s));
    for (const s of [client, upstream]) s.on("error", () => [client, upstream].forEach((x) => x.destroy()));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    if (direction === "up") throttle(client, upstream).resume();
    else client.pipe(upstream);
    if (direction === "down") throttle(upstream, client).resume();
    else upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return { url, close };
}

describe("a transfer that keeps moving is never cut short", () => {
  const bucket = "deadline-transfers";
  const size = 12 << 20; // 12 MiB at 3 MiB/s: about 4 s, four answer deadlines of 1 s
  const rate = 3 << 20;
  const body = randomBytes(size);

  beforeAll(async () => {
    const s3 = new S3Client(sdkConfigFor(moto.url));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big", Body: body }));
    s3.destroy();
  });

  it("an upload longer than the answer deadline succeeds (the plain client, with an answer deadline, would have cut it)", { timeout: 30_000 }, async () => {
    const link = await slowLink(moto.port, "up", rate);
    try {
      const clients = clientsAt({ AWS_ENDPOINT_URL: link.url }, 1000);
      const transfer = await createS3Transfer(clients);
      const started = Date.now();
      await transfer.putBytes(bucket, "up", body, { sha256Hex: sha256(body), large: true });
      expect(Date.now() - started).toBeGreaterThan(2000); // it really took longer than the answer deadline

      const plain = await failure((async () => (await clients.s3()).send(new PutObjectCommand({ Bucket: bucket, Key: "plain", Body: body })))());
      expect(plain.error).toBeInstanceOf(AwsNoAnswer);
      expect((plain.error as Error).message).toMatch(/did not answer at .* \(s3 PutObject\) within 1 s/);
    } finally {
      await link.close();
    }
  });

  it("a download longer than the answer deadline succeeds: the deadline ends with the response headers", { timeout: 30_000 }, async () => {
    const link = await slowLink(moto.port, "down", rate);
    try {
      const transfer = await createS3Transfer(clientsAt({ AWS_ENDPOINT_URL: link.url }, 1000));
      const started = Date.now();
      const stream = await transfer.getStream(bucket, "big");
      let received = 0;
      for await (const chunk of stream!) received += chunk.length;
      expect(received).toBe(size);
      expect(Date.now() - started).toBeGreaterThan(2000);
    } finally {
      await link.close();
    }
  });
});

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
