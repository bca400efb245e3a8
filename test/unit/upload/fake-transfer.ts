import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { IncompleteUpload, ObjectHead, S3Transfer, StreamUpload } from "../../../src/aws/s3-transfer.js";

/**
 * An in-memory S3Transfer for unit tests of the upload orchestration.
 * Behaviour: objects live in `objects` (key -> bytes + metadata); `uploadStream` drains the body
 * (so hashing pass-throughs run) and stores it, after `delayMs`; keys in `failKeys` throw instead
 * (in `putBytes` too).
 * `copyObject` copies bytes and metadata (a missing source throws, as S3's NoSuchKey would);
 * `replaceMetadata` swaps an object's metadata and answers the SHA-256 of its bytes, as S3's copy does.
 * It records the peak of requests in flight (HEAD = 1, an upload = its queueSize), and the calls.
 */
export interface FakeObject {
  body: Buffer;
  metadata: Record<string, string>;
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
      return o ? { size: o.body.length, metadata: { ...o.metadata } } : undefined;
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
    this.objects.set(key, { body: Buffer.from(body), metadata: options.metadata ?? {} });
  }

  uploadStream(u: StreamUpload): Promise<void> {
    this.calls.push(`upload ${u.key}`);
    return this.busy(u.queueSize, async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of u.body) chunks.push(chunk as Buffer);
      if (this.failKeys.has(u.key)) throw new Error(`injected failure for ${u.key}`);
      u.signal?.throwIfAborted();
      this.objects.set(u.key, { body: Buffer.concat(chunks), metadata: { ...u.metadata } });
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
    this.objects.set(to, { body: Buffer.from(o.body), metadata: { ...o.metadata } });
  }

  async replaceMetadata(_bucket: string, key: string, metadata: Record<string, string>): Promise<{ sha256Hex?: string }> {
    this.calls.push(`metadata ${key}`);
    const o = this.objects.get(key);
    if (!o) throw new Error(`metadata of a missing object ${key}`);
    this.objects.set(key, { body: o.body, metadata: { ...metadata } });
    return { sha256Hex: createHash("sha256").update(o.body).digest("hex") };
  }

  async deleteObject(_bucket: string, key: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    this.objects.delete(key);
  }
}
