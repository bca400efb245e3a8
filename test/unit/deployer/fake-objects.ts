/**
 * An in-memory bucket behind the ObjectReader interface, for unit tests of status and logs.
 *
 * Behaviour spec:
 * - `put(key, body, lastModified?)` stores an object (text or bytes; LastModified defaults to the
 *   epoch) in the one bucket named at construction; `delete(key)` removes it.
 * - `list(bucket, prefix, { maxKeys })` answers the keys under `prefix` in key order, like
 *   ListObjectsV2, with size and LastModified; pages of `pageSize` (default 1000), stopping once
 *   `maxKeys` are collected and more remain (`truncated: true`). Another bucket: "no-bucket".
 * - `read(bucket, key, { maxBytes, from })` answers at most `maxBytes`, from the start or the end,
 *   with the whole size, as a ranged GetObject; unknown key or bucket: undefined.
 * - `failWith`: when set, every call rejects with it (an AWS error shape: name, $metadata).
 * - `reads` lists every key read, in order; `lists` counts listings.
 */
import type { BoundedRead, ObjectListing, ObjectReader } from "../../../src/aws/s3-objects.js";

export class FakeObjects implements ObjectReader {
  readonly objects = new Map<string, { body: Buffer; lastModified: Date }>();
  readonly reads: string[] = [];
  lists = 0;
  failWith: unknown;
  pageSize = 1000;

  constructor(readonly bucket: string) {}

  put(key: string, body: string | Uint8Array, lastModified = new Date(0)): void {
    this.objects.set(key, { body: Buffer.from(body), lastModified });
  }

  delete(key: string): void {
    this.objects.delete(key);
  }

  async list(bucket: string, prefix: string, { maxKeys }: { maxKeys: number }) {
    this.lists++;
    if (this.failWith) throw this.failWith;
    if (bucket !== this.bucket) return "no-bucket" as const;
    const all: ObjectListing[] = [...this.objects]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, o]) => ({ key, size: o.body.length, lastModified: o.lastModified }));
    const pages = Math.max(1, Math.ceil(maxKeys / this.pageSize));
    const objects = all.slice(0, pages * this.pageSize);
    return { objects, truncated: objects.length < all.length };
  }

  async read(bucket: string, key: string, { maxBytes, from }: { maxBytes: number; from: "start" | "end" }): Promise<BoundedRead | undefined> {
    this.reads.push(key);
    if (this.failWith) throw this.failWith;
    const o = bucket === this.bucket ? this.objects.get(key) : undefined;
    if (!o) return undefined;
    const bytes = from === "start" ? o.body.subarray(0, maxBytes) : o.body.subarray(Math.max(0, o.body.length - maxBytes));
    return { bytes: new Uint8Array(bytes), totalSize: o.body.length };
  }
}
