import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { IncompleteUpload, ObjectHead, PartUpload, S3Transfer, UploadedPart } from "../../../src/aws/s3-transfer.js";

/**
 * An in-memory S3Transfer for unit tests of the upload orchestration.
 * Behaviour:
 * - objects live in `objects` (key -> bytes + metadata); `putBytes` stores one, after `delayMs`;
 * - a multipart upload lives in `uploads` (id -> key, metadata, parts) from create until complete
 *   or abort, and `listIncompleteUploads` lists them (what S3 would bill). `uploadPart` waits
 *   `delayMs`, then copies the body and checks it against the SHA-256 sent, as S3 does (a caller
 *   that reused the buffer while the part was "on the wire" is caught here); `completeMultipartUpload`
 *   checks every listed part's ETag and SHA-256, then stores the object with S3's composite checksum;
 * - keys in `failKeys` make `putBytes` and `uploadPart` throw;
 * - `copyObject` copies bytes and metadata (a missing source throws, as S3's NoSuchKey would);
 * - checksums as S3 keeps them: a PUT's or copy's SHA-256, a multipart upload's composite "-<parts>".
 * It records the peak of requests in flight (every call is one) and the calls, e.g. "list m/", "put k",
 * "create k", "part k 2", "complete k", "abort k", "delete k".
 */
export interface FakeObject {
  body: Buffer;
  metadata: Record<string, string>;
  /** S3's checksum, as HEAD shows it: the content's SHA-256, or "<composite>-<parts>" for multipart. */
  checksumSha256?: string;
  etag?: string;
}

interface FakeUpload {
  key: string;
  metadata: Record<string, string>;
  parts: Map<number, { body: Buffer; etag: string; sha256Hex: string }>;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();

/** What S3 stores for an object sent in one PUT, or as multipart with SHA-256 per part. */
export function s3Checksum(body: Buffer, partSize?: number): Pick<FakeObject, "checksumSha256" | "etag"> {
  if (partSize === undefined || body.length <= partSize) return { checksumSha256: sha256(body).toString("base64"), etag: '"single"' };
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += partSize) parts.push(sha256(body.subarray(at, at + partSize)));
  return { checksumSha256: `${sha256(Buffer.concat(parts)).toString("base64")}-${parts.length}`, etag: `"multipart-${parts.length}"` };
}

export class FakeTransfer implements S3Transfer {
  readonly objects = new Map<string, FakeObject>();
  readonly uploads = new Map<string, FakeUpload>();
  readonly calls: string[] = [];
  readonly failKeys = new Set<string>();
  bucket = true;
  delayMs = 0;
  inFlight = 0;
  peakInFlight = 0;
  private ids = 0;

  private async busy<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      signal?.throwIfAborted();
      return await work();
    } finally {
      this.inFlight -= 1;
    }
  }

  async bucketAccess(): Promise<"owned" | "missing"> {
    return this.bucket ? "owned" : "missing";
  }

  head(_bucket: string, key: string): Promise<ObjectHead | undefined> {
    this.calls.push(`head ${key}`);
    return this.busy(async () => {
      const o = this.objects.get(key);
      return o ? { size: o.body.length, metadata: { ...o.metadata }, ...(o.checksumSha256 && { checksumSha256: o.checksumSha256 }), ...(o.etag && { etag: o.etag }) } : undefined;
    });
  }

  listSizes(_bucket: string, prefix: string): Promise<Map<string, number>> {
    this.calls.push(`list ${prefix}`);
    return this.busy(async () => new Map([...this.objects].filter(([key]) => key.startsWith(prefix)).map(([key, o]) => [key, o.body.length])));
  }

  async getText(_bucket: string, key: string): Promise<string | undefined> {
    return this.objects.get(key)?.body.toString("utf8");
  }

  async getStream(_bucket: string, key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const o = this.objects.get(key);
    return o ? (async function* () { yield o.body; })() : undefined;
  }

  putBytes(_bucket: string, key: string, body: Uint8Array, options: { metadata?: Record<string, string>; sha256Hex: string; signal?: AbortSignal }): Promise<void> {
    this.calls.push(`put ${key}`);
    return this.busy(async () => {
      if (this.failKeys.has(key)) throw new Error(`injected failure for ${key}`);
      const stored = Buffer.from(body);
      if (sha256(stored).toString("hex") !== options.sha256Hex) throw new Error(`BadDigest: the body of ${key} does not match its SHA-256`);
      this.objects.set(key, { body: stored, metadata: options.metadata ?? {}, ...s3Checksum(stored) });
    }, options.signal);
  }

  createMultipartUpload(_bucket: string, key: string, options: { metadata?: Record<string, string>; signal?: AbortSignal }): Promise<string> {
    this.calls.push(`create ${key}`);
    return this.busy(async () => {
      const id = `upload-${++this.ids}`;
      this.uploads.set(id, { key, metadata: { ...options.metadata }, parts: new Map() });
      return id;
    }, options.signal);
  }

  uploadPart(p: PartUpload): Promise<string> {
    this.calls.push(`part ${p.key} ${p.partNumber}`);
    return this.busy(async () => {
      const upload = this.uploads.get(p.uploadId);
      if (!upload) throw new Error(`NoSuchUpload: ${p.uploadId}`);
      if (this.failKeys.has(p.key)) throw new Error(`injected failure for ${p.key}`);
      const body = Buffer.from(p.body);
      if (sha256(body).toString("hex") !== p.sha256Hex) throw new Error(`BadDigest: part ${p.partNumber} of ${p.key} does not match its SHA-256`);
      const etag = `"etag-${p.partNumber}-${p.sha256Hex.slice(0, 8)}"`;
      upload.parts.set(p.partNumber, { body, etag, sha256Hex: p.sha256Hex });
      return etag;
    }, p.signal);
  }

  completeMultipartUpload(_bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[], signal?: AbortSignal): Promise<void> {
    this.calls.push(`complete ${key}`);
    return this.busy(async () => {
      const upload = this.uploads.get(uploadId);
      if (!upload) throw new Error(`NoSuchUpload: ${uploadId}`);
      const listed = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      for (const part of listed) {
        const got = upload.parts.get(part.partNumber);
        if (got?.etag !== part.etag || got.sha256Hex !== part.sha256Hex) throw new Error(`InvalidPart: part ${part.partNumber} of ${key}`);
      }
      const bodies = listed.map((p) => upload.parts.get(p.partNumber)!.body);
      const composite = sha256(Buffer.concat(listed.map((p) => Buffer.from(p.sha256Hex, "hex")))).toString("base64");
      this.objects.set(key, { body: Buffer.concat(bodies), metadata: upload.metadata, checksumSha256: `${composite}-${listed.length}`, etag: `"multipart-${listed.length}"` });
      this.uploads.delete(uploadId);
    }, signal);
  }

  async listIncompleteUploads(_bucket: string, prefix: string): Promise<IncompleteUpload[]> {
    return [...this.uploads].filter(([, u]) => u.key.startsWith(prefix)).map(([uploadId, u]) => ({ key: u.key, uploadId }));
  }

  async abortIncompleteUpload(_bucket: string, upload: IncompleteUpload): Promise<void> {
    this.calls.push(`abort ${upload.key}`);
    this.uploads.delete(upload.uploadId);
  }

  async copyObject(_bucket: string, from: string, to: string): Promise<void> {
    this.calls.push(`copy ${from} ${to}`);
    const o = this.objects.get(from);
    if (!o) throw new Error(`copy of a missing object ${from}`);
    this.objects.set(to, { body: Buffer.from(o.body), metadata: { ...o.metadata }, ...s3Checksum(o.body) });
  }

  async deleteObject(_bucket: string, key: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    this.objects.delete(key);
  }
}
