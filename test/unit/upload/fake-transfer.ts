import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { IncompleteUpload, ObjectHead, S3Transfer, StreamUpload } from "../../../src/aws/s3-transfer.js";

/**
 * An in-memory S3Transfer for unit tests of the upload orchestration.
 * Behaviour: objects live in `objects` (key -> bytes + metadata); `uploadStream` drains the body
 * (so hashing pass-throughs run) and stores it, after `delayMs`; keys in `failKeys` throw instead
 * (in `putBytes` too).
 * `copyObject` copies bytes and metadata (a missing source throws, as S3's NoSuchKey would).
 * Checksums as S3 keeps them: a PUT's or copy's SHA-256, a multipart upload's composite "-<parts>".
 * It records the peak of requests in flight (HEAD = 1, an upload = its queueSize), and the calls.
 */
export interface FakeObject {
  body: Buffer;
  metadata: Record<string, string>;
  /** S3's checksum, as HEAD shows it: the content's SHA-256, or "<composite>-<parts>" for multipart. */
  checksumSha256?: string;
  etag?: string;
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
  readonly calls: string[] = [];
  readonly failKeys = new Set<string>();
  bucket = true;
  delayMs = 0;
  inFlight = 0;
  peakInFlight = 0;

  private async busy<T>(weight: number, work: () => Promise<T>): Promise<T> {
    this.inFlight += weight;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      return await work();
    } finally {
      this.inFlight -= weight;
    }
  }

  async bucketAccess(): Promise<"owned" | "missing"> {
    return this.bucket ? "owned" : "missing";
  }

  head(_bucket: string, key: string): Promise<ObjectHead | undefined> {
    this.calls.push(`head ${key}`);
    return this.busy(1, async () => {
      const o = this.objects.get(key);
      return o ? { size: o.body.length, metadata: { ...o.metadata }, ...(o.checksumSha256 && { checksumSha256: o.checksumSha256 }), ...(o.etag && { etag: o.etag }) } : undefined;
    });
  }

  async getText(_bucket: string, key: string): Promise<string | undefined> {
    return this.objects.get(key)?.body.toString("utf8");
  }

  async getStream(_bucket: string, key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const o = this.objects.get(key);
    return o ? (async function* () { yield o.body; })() : undefined;
  }

  async putBytes(_bucket: string, key: string, body: Uint8Array, options: { metadata?: Record<string, string> }): Promise<void> {
    this.calls.push(`put ${key}`);
    if (this.failKeys.has(key)) throw new Error(`injected failure for ${key}`);
    this.objects.set(key, { body: Buffer.from(body), metadata: options.metadata ?? {}, ...s3Checksum(Buffer.from(body)) });
  }

  uploadStream(u: StreamUpload): Promise<void> {
    this.calls.push(`upload ${u.key}`);
    return this.busy(u.queueSize, async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of u.body) chunks.push(chunk as Buffer);
      if (this.failKeys.has(u.key)) throw new Error(`injected failure for ${u.key}`);
      u.signal?.throwIfAborted();
      const body = Buffer.concat(chunks);
      this.objects.set(u.key, { body, metadata: { ...u.metadata }, ...s3Checksum(body, u.partSize) });
      u.onProgress?.(u.size);
    });
  }

  async listIncompleteUploads(): Promise<IncompleteUpload[]> {
    return [];
  }

  async abortIncompleteUpload(): Promise<void> {}

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
