/**
 * A fault-injecting HTTP proxy in front of moto: AWS's failures, on demand.
 *
 * Behaviour spec:
 * - Listens on 127.0.0.1 (random port); point the SDK/binary at `url` instead of moto's. Host and
 *   target must be in 127.0.0.0/8.
 * - Every request is named `service:Operation` (see `describeRequest`):
 *   - service: the SigV4 credential scope (`Authorization` header or presigned `X-Amz-Credential`),
 *     else guessed from the query `Version` (EC2/IAM/STS), else `s3`;
 *   - JSON protocol: the `X-Amz-Target` header (`Prefix.Operation`);
 *   - query protocol (EC2, IAM, STS): `Action=` in the form body or the query string;
 *   - S3 REST (path-style only): from method, path depth and sub-resource, e.g. PUT /b/k ->
 *     s3:PutObject, GET /b?list-type=2 -> s3:ListObjectsV2, HEAD /b -> s3:HeadBucket, POST
 *     /b/k?uploads -> s3:CreateMultipartUpload, PUT /b?lifecycle -> s3:PutBucketLifecycleConfiguration.
 *   `/moto-api/*` (test control) is forwarded untouched: no rules, not counted.
 * - Rules are tried in the order added; the first active match applies. A rule matches an action
 *   (`"ec2:RunInstances"`, a bare `"RunInstances"` for any service, a RegExp or `"*"`), optionally
 *   a predicate on the parsed request (`when`, e.g. Placement.AvailabilityZone), and only its first
 *   `times` matches. It can delay (`delayMs`, then forward), answer an AWS error (`error`), or
 *   drop the connection (`drop`: the client sees ECONNRESET); a delay applies before either. A
 *   rule with `cutAfterBytes` forwards, then closes the connection once that many bytes of the
 *   answer's body have been sent (a connection lost mid-transfer: the client has the headers and
 *   exactly those bytes, then the stream ends short of its Content-Length).
 * - Errors are shaped per protocol with AWS's status codes: EC2 `<Response><Errors>...` (e.g.
 *   RequestLimitExceeded 503, InsufficientInstanceCapacity 500, UnauthorizedOperation 403), IAM/STS
 *   `<ErrorResponse><Error><Type>` (Throttling 400, AccessDenied 403), S3 `<Error>` (SlowDown 503,
 *   no body on HEAD), JSON `{"__type"}` + `x-amzn-ErrorType`. Shorthands pick each service's own
 *   code: "throttle", "capacity", "access-denied", "server-error", "unavailable".
 * - Everything else is forwarded verbatim to the target's host:port with the client's own Host
 *   header: the SDK signs Host, and moto under IAM enforcement recomputes SigV4 signatures from the
 *   headers it receives (a mismatch is AuthFailure 401), so rewriting Host would break every call.
 *   Bodies of query/JSON requests are buffered (small, needed for `Action=`); all others stream.
 * - `counts()` gives calls per action, `calls()` each call with its time, outcome and parsed
 *   request (for API calls per minute, and the offline IAM proof); `resetCounts()` clears both. `close()`/asyncDispose stops it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { assertLoopback, LOOPBACK } from "./free-port.js";

export type Protocol = "ec2" | "query" | "rest-xml" | "json";

export interface AwsRequestInfo {
  /** `service:Operation`, e.g. "ec2:RunInstances". */
  action: string;
  service: string;
  operation: string;
  protocol: Protocol;
  method: string;
  path: string;
  /** Query-protocol parameters (form body + query string), or the URL query for REST. */
  params: Record<string, string>;
  /** Parsed body of a JSON-protocol request. */
  json?: unknown;
  /** The request's headers, names lowercase (e.g. `x-amz-expected-bucket-owner`). */
  headers: Record<string, string>;
}

export type FaultKind = "throttle" | "capacity" | "access-denied" | "server-error" | "unavailable";
export interface AwsErrorSpec {
  code: string;
  message?: string;
  /** Default: AWS's own status for the code (see STATUS), else 400. */
  status?: number;
}

export interface FaultRule {
  action: string | RegExp;
  when?: (request: AwsRequestInfo) => boolean;
  times?: number;
  delayMs?: number;
  error?: FaultKind | AwsErrorSpec;
  drop?: boolean;
  /** Forward, but close the connection after this many bytes of the answer's body. */
  cutAfterBytes?: number;
}

export interface CallRecord {
  action: string;
  at: number;
  outcome: "forwarded" | "error" | "dropped" | "cut";
  /** The request as named and parsed (params, headers, path): what the IAM proof translates (test/support/iam). */
  request: AwsRequestInfo;
}

export interface FaultProxy extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  addRule(rule: FaultRule): number;
  removeRule(id: number): void;
  clearRules(): void;
  /** How many requests a rule has acted on. */
  ruleHits(id: number): number;
  counts(): Record<string, number>;
  calls(): CallRecord[];
  resetCounts(): void;
  close(): Promise<void>;
}

const SHORTHANDS: Record<FaultKind, Record<Protocol, string>> = {
  throttle: { ec2: "RequestLimitExceeded", query: "Throttling", "rest-xml": "SlowDown", json: "ThrottlingException" },
  capacity: { ec2: "InsufficientInstanceCapacity", query: "InsufficientInstanceCapacity", "rest-xml": "InsufficientInstanceCapacity", json: "InsufficientInstanceCapacity" },
  "access-denied": { ec2: "UnauthorizedOperation", query: "AccessDenied", "rest-xml": "AccessDenied", json: "AccessDeniedException" },
  "server-error": { ec2: "InternalError", query: "InternalFailure", "rest-xml": "InternalError", json: "InternalFailure" },
  unavailable: { ec2: "Unavailable", query: "ServiceUnavailable", "rest-xml": "ServiceUnavailable", json: "ServiceUnavailable" },
};

/** AWS's HTTP status for error codes that are not a plain 400. */
export const STATUS: Record<string, number> = {
  RequestLimitExceeded: 503, SlowDown: 503, ServiceUnavailable: 503, Unavailable: 503,
  InsufficientInstanceCapacity: 500, InternalError: 500, InternalFailure: 500, ServiceFailure: 500,
  AccessDenied: 403, UnauthorizedOperation: 403, SignatureDoesNotMatch: 403, InvalidClientTokenId: 403,
  NoSuchKey: 404, NoSuchBucket: 404, NotFound: 404,
};

const QUERY_VERSIONS: Record<string, string> = { "2016-11-15": "ec2", "2010-05-08": "iam", "2011-06-15": "sts" };

/** S3 sub-resources that turn into Put/Get/Delete<Name> operations. */
const S3_SUBRESOURCES: Record<string, [bucket: string, object: string]> = {
  lifecycle: ["BucketLifecycleConfiguration", ""], publicAccessBlock: ["PublicAccessBlock", ""],
  encryption: ["BucketEncryption", ""], policy: ["BucketPolicy", ""], versioning: ["BucketVersioning", ""],
  ownershipControls: ["BucketOwnershipControls", ""], cors: ["BucketCors", ""], location: ["BucketLocation", ""],
  tagging: ["BucketTagging", "ObjectTagging"], acl: ["BucketAcl", "ObjectAcl"],
};

function s3Operation(method: string, path: string, query: URLSearchParams, headers: http.IncomingHttpHeaders): string {
  const [bucket = "", ...rest] = path.replace(/^\//, "").split("/");
  const hasKey = rest.join("/") !== "";
  const verb = method === "PUT" ? "Put" : method === "DELETE" ? "Delete" : "Get";
  for (const [sub, [onBucket, onObject]] of Object.entries(S3_SUBRESOURCES)) {
    const name = hasKey ? onObject : onBucket;
    if (query.has(sub) && name && ["GET", "PUT", "DELETE"].includes(method)) return `${verb}${name}`;
  }
  if (bucket === "") return "ListBuckets";
  if (!hasKey) {
    if (method === "HEAD") return "HeadBucket";
    if (method === "PUT") return "CreateBucket";
    if (method === "DELETE") return "DeleteBucket";
    if (method === "POST" && query.has("delete")) return "DeleteObjects";
    if (query.has("uploads")) return "ListMultipartUploads";
    if (query.has("versions")) return "ListObjectVersions";
    return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
  }
  const copy = headers["x-amz-copy-source"] !== undefined;
  if (method === "HEAD") return "HeadObject";
  if (method === "POST") return query.has("uploads") ? "CreateMultipartUpload" : "CompleteMultipartUpload";
  if (method === "PUT") return query.has("partNumber") ? (copy ? "UploadPartCopy" : "UploadPart") : copy ? "CopyObject" : "PutObject";
  if (method === "DELETE") return query.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  return query.has("uploadId") ? "ListParts" : "GetObject";
}

/** Names a request; `body` is the buffered body of a query/JSON request, else undefined. */
export function describeRequest(method: string, rawUrl: string, headers: http.IncomingHttpHeaders, body?: Buffer): AwsRequestInfo {
  const url = new URL(rawUrl, "http://proxy");
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(`${headers.authorization ?? ""} Credential=${url.searchParams.get("X-Amz-Credential") ?? ""}`);
  const contentType = String(headers["content-type"] ?? "");
  const target = headers["x-amz-target"];
  const base = { method, path: url.pathname, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v ?? "")])) };
  if (typeof target === "string") {
    let json: unknown;
    try { json = JSON.parse(body?.toString("utf8") || "{}"); } catch { json = undefined; }
    const service = scope?.[1] ?? target.split(".")[0]!.toLowerCase();
    const operation = target.split(".").pop()!;
    return { ...base, action: `${service}:${operation}`, service, operation, protocol: "json", params: {}, json };
  }
  const params = Object.fromEntries(url.searchParams);
  if (contentType.startsWith("application/x-www-form-urlencoded") && body) Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
  if (params.Action) {
    const service = scope?.[1] ?? QUERY_VERSIONS[params.Version ?? ""] ?? "unknown";
    const protocol = service === "ec2" ? "ec2" : "query";
    return { ...base, action: `${service}:${params.Action}`, service, operation: params.Action, protocol, params };
  }
  const service = scope?.[1] ?? "s3";
  const operation = service === "s3" ? s3Operation(method, url.pathname, url.searchParams, headers) : `${method} ${url.pathname}`;
  return { ...base, action: `${service}:${operation}`, service, operation, protocol: "rest-xml", params };
}

const xml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The status, headers and body AWS would send for this error on this request's protocol. */
export function awsErrorResponse(request: AwsRequestInfo, fault: FaultKind | AwsErrorSpec) {
  const spec = typeof fault === "string" ? { code: SHORTHANDS[fault][request.protocol] } : fault;
  const status = spec.status ?? STATUS[spec.code] ?? 400;
  const code = xml(spec.code);
  const message = xml(spec.message ?? `${spec.code} (injected by the fault proxy for ${request.action})`);
  const id = randomUUID();
  const xmlType = { "content-type": "text/xml" };
  switch (request.protocol) {
    case "ec2":
      return { status, headers: { ...xmlType, "x-amzn-requestid": id }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${id}</RequestID></Response>` };
    case "query": {
      const ns = request.params.Version ? ` xmlns="https://${request.service}.amazonaws.com/doc/${xml(request.params.Version)}/"` : "";
      const type = status >= 500 ? "Receiver" : "Sender";
      return { status, headers: { ...xmlType, "x-amzn-requestid": id }, body: `<ErrorResponse${ns}><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>` };
    }
    case "json":
      return { status, headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": id, "x-amzn-errortype": spec.code }, body: JSON.stringify({ __type: spec.code, message: spec.message ?? `${spec.code} (injected)` }) };
    case "rest-xml": {
      const headers = { ...xmlType, "x-amz-request-id": id, "x-amz-id-2": id };
      // S3 sends no body for HEAD; the SDK then names the error from the status alone.
      const body = request.method === "HEAD" ? "" : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${id}</RequestId><HostId>${id}</HostId></Error>`;
      return { status, headers, body };
    }
  }
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);
const endToEnd = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name, value]) => value !== undefined && !HOP_BY_HOP.has(name))) as http.OutgoingHttpHeaders;

function matches(rule: FaultRule, request: AwsRequestInfo): boolean {
  const { action } = rule;
  const named = action instanceof RegExp ? action.test(request.action) : action === "*" || action === request.action || action === request.operation;
  return named && (rule.when?.(request) ?? true);
}

const readAll = async (req: http.IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

export async function startFaultProxy(options: { target: string; host?: string }): Promise<FaultProxy> {
  const target = new URL(options.target);
  assertLoopback(target.hostname); // the local cloud never forwards beyond 127.0.0.0/8
  const agent = new http.Agent({ keepAlive: true });
  const rules = new Map<number, { rule: FaultRule; hits: number }>();
  let nextId = 1;
  let calls: CallRecord[] = [];

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer, cutAfterBytes?: number) => {
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent });
    let cut = false;
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      if (cutAfterBytes === undefined) return void answer.pipe(res);
      let sent = 0;
      answer.on("data", (bytes: Buffer) => {
        if (cut) return;
        const part = bytes.subarray(0, cutAfterBytes - sent);
        sent += part.byteLength;
        if (part.byteLength > 0) res.write(part);
        if (sent < cutAfterBytes) return;
        cut = true;
        upstream.destroy();
        res.socket?.end(); // a FIN after the bytes written so far (destroy could drop them)
      });
      answer.on("end", () => void (cut || res.end()));
    });
    upstream.on("error", (error) => {
      if (cut) return;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`fault proxy: target unreachable: ${error.message}`);
      else res.destroy();
    });
    res.on("close", () => { if (!res.writableFinished) upstream.destroy(); });
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    if (url.startsWith("/moto-api/")) return forward(req, res);
    const contentType = String(req.headers["content-type"] ?? "");
    const buffered = contentType.startsWith("application/x-www-form-urlencoded") || contentType.startsWith("application/x-amz-json") || req.headers["x-amz-target"] !== undefined;
    const body = buffered ? await readAll(req) : undefined;
    const request = describeRequest(method, url, req.headers, body);
    const record: CallRecord = { action: request.action, at: Date.now(), outcome: "forwarded", request };
    calls.push(record);

    const entry = [...rules.values()].find(({ rule, hits }) => hits < (rule.times ?? Infinity) && matches(rule, request));
    if (entry === undefined) return forward(req, res, body);
    entry.hits += 1;
    const { rule } = entry;
    if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    if (req.socket.destroyed) return; // the client gave up during the delay
    if (rule.drop) {
      record.outcome = "dropped";
      req.socket.destroy();
    } else if (rule.error !== undefined) {
      record.outcome = "error";
      const answer = awsErrorResponse(request, rule.error);
      if (!buffered) req.resume(); // discard an unread (e.g. PutObject) body
      res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) }).end(answer.body);
    } else {
      if (rule.cutAfterBytes !== undefined) record.outcome = "cut";
      forward(req, res, body, rule.cutAfterBytes);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end(`fault proxy bug: ${String(error)}`);
    });
  });
  const host = options.host ?? LOOPBACK;
  assertLoopback(host);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    }));

  return {
    url: `http://${host}:${port}`,
    port,
    addRule: (rule) => {
      const id = nextId++;
      rules.set(id, { rule, hits: 0 });
      return id;
    },
    removeRule: (id) => void rules.delete(id),
    clearRules: () => rules.clear(),
    ruleHits: (id) => rules.get(id)?.hits ?? 0,
    counts: () => {
      const counts: Record<string, number> = {};
      for (const { action } of calls) counts[action] = (counts[action] ?? 0) + 1;
      return counts;
    },
    calls: () => calls.map((call) => ({ ...call })),
    resetCounts: () => void (calls = []),
    close,
    [Symbol.asyncDispose]: close,
  };
}
