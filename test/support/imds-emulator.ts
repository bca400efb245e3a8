/**
 * IMDSv2 emulator: a stand-in for http://169.254.169.254 on 127.0.0.1 (port 0 -> `url`).
 *
 * Behaviour spec (faithful to AWS's IMDSv2 and amazon-ec2-metadata-mock; see LOCAL-CLOUD.md):
 * 1. Any request carrying `X-Forwarded-For` is refused: 403.
 * 2. `PUT /latest/api/token` needs `X-aws-ec2-metadata-token-ttl-seconds`, an integer 1..21600,
 *    else 400. It answers a fresh token (text/plain) and echoes the TTL header. A token expires
 *    TTL seconds later on the emulator's clock (injectable, so tests expire tokens without waiting).
 * 3. Every GET needs `X-aws-ec2-metadata-token` holding an issued, unexpired token, else 401
 *    (IMDSv2 required, as synkti's launch template sets). Other methods: 405. Unknown paths: 404.
 * 4. Paths served:
 *    - /latest/dynamic/instance-identity/document: JSON (instanceId, region, availabilityZone,
 *      instanceType, privateIp, accountId, imageId, architecture, pendingTime, version);
 *    - /latest/meta-data/: instance-id, instance-type, local-ipv4, ami-id, instance-life-cycle,
 *      placement/availability-zone, placement/region;
 *    - tags/instance (keys, one a line) and tags/instance/<key>; with `tags: null` (instance
 *      metadata tags disabled) everything under tags/ is 404, as on AWS;
 *    - iam/security-credentials/ (the role name) and iam/security-credentials/<role> (dummy
 *      keys JSON: Code, LastUpdated, Type "AWS-HMAC", AccessKeyId, SecretAccessKey, Token,
 *      Expiration 6 h ahead); with `iamRole: null` (no instance profile) both are 404;
 *    - spot/instance-action: 404 until `injectSpotInterruption()`, then
 *      {"action":"terminate","time":"<notice + 2 min, UTC ISO without ms>"};
 *    - events/recommendations/rebalance: 404 until `injectRebalance()`, then {"noticeTime":"..."};
 *    - /latest/user-data: the `userData` option (404 without one).
 * 5. Modes (settable at start or any time): "normal"; "hang" accepts connections and never
 *    answers (a silent metadata address); "garbage" answers 200 text/html to everything, tokens
 *    included (a captive portal or stray web server).
 * 6. Every request is recorded (`requests`, `count()`), whatever the mode, for tests to assert on.
 * Addresses it reports (privateIp) default to 127.0.0.1: the local cloud never points at 10.x.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock } from "../../src/core/clock.js";

export type ImdsMode = "normal" | "hang" | "garbage";

export interface ImdsEmulatorOptions {
  instanceId?: string;
  instanceType?: string;
  region?: string;
  availabilityZone?: string;
  privateIp?: string;
  accountId?: string;
  imageId?: string;
  lifecycle?: "spot" | "on-demand";
  /** Instance tags; `null` plays "instance metadata tags disabled". */
  tags?: Record<string, string> | null;
  /** Instance profile role name; `null` plays an instance without one. */
  iamRole?: string | null;
  /** What the instance was launched with, served at /latest/user-data (404 when absent, as on AWS). */
  userData?: string;
  /** Raw body served as the identity document instead of the real one (to test validation). */
  identityBody?: string;
  mode?: ImdsMode;
  /** Only `now()` is used: token expiry, notice times and credential expiry. */
  clock?: { now(): number };
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number | "no-answer";
}

const TOKEN_PATH = "/latest/api/token";
const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER = "x-aws-ec2-metadata-token";
const GARBAGE = "<html><head><title>Welcome</title></head><body>It works!</body></html>\n";

/** UTC ISO 8601 without milliseconds, the format IMDS uses for times. */
export function imdsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class ImdsEmulator implements AsyncDisposable {
  readonly requests: RecordedRequest[] = [];
  mode: ImdsMode;
  tags: Record<string, string> | null;
  private readonly tokens = new Map<string, number>();
  private spotNotice: { action: string; time: string } | undefined;
  private rebalance: { noticeTime: string } | undefined;
  private readonly clock: { now(): number };
  private readonly identity: Record<string, unknown>;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: ImdsEmulatorOptions,
  ) {
    this.mode = options.mode ?? "normal";
    this.tags = options.tags === undefined ? {} : options.tags;
    this.clock = options.clock ?? systemClock;
    const region = options.region ?? "us-east-1";
    this.identity = {
      accountId: options.accountId ?? "123456789012",
      architecture: "x86_64",
      availabilityZone: options.availabilityZone ?? `${region}a`,
      imageId: options.imageId ?? "ami-0123456789abcdef0",
      instanceId: options.instanceId ?? "i-0123456789abcdef0",
      instanceType: options.instanceType ?? "g5.xlarge",
      pendingTime: imdsTime(this.clock.now()),
      privateIp: options.privateIp ?? "127.0.0.1",
      region,
      version: "2017-09-30",
    };
    server.on("request", (req, res) => this.handle(req, res));
  }

  static async start(options: ImdsEmulatorOptions = {}): Promise<ImdsEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new ImdsEmulator(server, `http://127.0.0.1:${port}`, options);
  }

  /** Schedules a spot interruption: `spot/instance-action` answers from now on. */
  injectSpotInterruption(action: "terminate" | "stop" | "hibernate" = "terminate"): { action: string; time: string } {
    this.spotNotice = { action, time: imdsTime(this.clock.now() + 120_000) };
    return this.spotNotice;
  }

  injectRebalance(): { noticeTime: string } {
    this.rebalance = { noticeTime: imdsTime(this.clock.now()) };
    return this.rebalance;
  }

  /** Invalidates every issued token (as if all expired): the next GETs get 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests recorded so far, optionally only those to `path` (and with `method`). */
  count(path?: string, method?: string): number {
    return this.requests.filter((r) => (!path || r.path === path) && (!method || r.method === method)).length;
  }

  async close(): Promise<void> {
    // Hanging requests keep sockets open: cut them, or close() would wait for ever.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://imds").pathname;
    const record: RecordedRequest = { method, path, status: "no-answer" };
    this.requests.push(record);
    if (this.mode === "hang") return;
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body);
    };
    if (this.mode === "garbage") return reply(200, GARBAGE, { "content-type": "text/html" });
    if (req.headers["x-forwarded-for"] !== undefined) return reply(403, "Forbidden");
    if (path === TOKEN_PATH) {
      if (method !== "PUT") return reply(405, "Method Not Allowed");
      const ttl = Number(req.headers[TTL_HEADER]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return reply(400, "Bad Request");
      const token = randomBytes(40).toString("base64");
      this.tokens.set(token, this.clock.now() + ttl * 1000);
      return reply(200, token, { [TTL_HEADER]: String(ttl) });
    }
    if (method !== "GET") return reply(405, "Method Not Allowed");
    const token = req.headers[TOKEN_HEADER];
    const expiresAt = typeof token === "string" ? this.tokens.get(token) : undefined;
    if (expiresAt === undefined || expiresAt <= this.clock.now()) return reply(401, "Unauthorized");
    const body = this.answer(path);
    if (body === undefined) return reply(404, "Not Found");
    return reply(200, body, path.endsWith("/document") ? { "content-type": "application/json" } : {});
  }

  /** The body for a GET path, or undefined for 404. */
  private answer(path: string): string | undefined {
    const id = this.identity;
    const meta = path.replace(/^\/latest\/meta-data\/?/, "");
    if (path === "/latest/dynamic/instance-identity/document") {
      return this.options.identityBody ?? JSON.stringify(id, null, 2);
    }
    if (path === "/latest/user-data") return this.options.userData;
    if (path === "/latest/meta-data/spot/instance-action") return this.spotNotice && JSON.stringify(this.spotNotice);
    if (path === "/latest/meta-data/events/recommendations/rebalance") {
      return this.rebalance && JSON.stringify(this.rebalance);
    }
    if (!path.startsWith("/latest/meta-data")) return undefined;
    const simple: Record<string, unknown> = {
      "": "ami-id\nevents/\niam/\ninstance-id\ninstance-life-cycle\ninstance-type\nlocal-ipv4\nplacement/\nspot/\ntags/",
      "ami-id": id.imageId,
      "instance-id": id.instanceId,
      "instance-type": id.instanceType,
      "instance-life-cycle": this.options.lifecycle ?? "spot",
      "local-ipv4": id.privateIp,
      "placement/availability-zone": id.availabilityZone,
      "placement/region": id.region,
    };
    if (meta in simple) return String(simple[meta]);
    if (meta.startsWith("tags/")) return this.tagsAnswer(meta.slice("tags/".length));
    if (meta.startsWith("iam/security-credentials")) return this.credentialsAnswer(meta);
    return undefined;
  }

  private tagsAnswer(rest: string): string | undefined {
    if (this.tags === null) return undefined;
    if (rest === "") return "instance";
    if (rest === "instance" || rest === "instance/") return Object.keys(this.tags).join("\n");
    const key = decodeURIComponent(rest.replace(/^instance\//, ""));
    return rest.startsWith("instance/") ? this.tags[key] : undefined;
  }

  private credentialsAnswer(meta: string): string | undefined {
    const role = this.options.iamRole === undefined ? "synkti-test-worker" : this.options.iamRole;
    if (role === null) return undefined;
    if (meta === "iam/security-credentials/" || meta === "iam/security-credentials") return role;
    if (meta !== `iam/security-credentials/${role}`) return undefined;
    const now = this.clock.now();
    return JSON.stringify({
      Code: "Success",
      LastUpdated: imdsTime(now),
      Type: "AWS-HMAC",
      AccessKeyId: "ASIAIMDSEMULATOR0001",
      SecretAccessKey: "imds-emulator-secret-access-key-not-real",
      Token: "imds-emulator-session-token-not-real",
      Expiration: imdsTime(now + 6 * 3600_000),
    });
  }
}
