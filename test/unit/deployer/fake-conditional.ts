/**
 * An in-memory bucket behind the ConditionalObjects interface (S3's conditional writes), for unit
 * tests of the desired size, the launch's slot claims and down.
 *
 * Behaviour spec:
 * - One bucket, named at construction; any other bucket reads "no-bucket" and refuses writes with
 *   NoSuchBucket. `missingBucket = true` makes the named bucket missing too.
 * - `read` answers the first `maxBytes` bytes with the whole size and the current ETag
 *   (`"<n>"`, a counter: every write makes a new one); unknown key: undefined.
 * - `putIfAbsent` stores and answers "created" only when the key is absent, else "exists";
 *   `putIfMatch` stores and answers "replaced" only when the key exists with that ETag, else "changed".
 * - `beforeWrite(key)`: when set, called before each conditional write is judged, so a test can
 *   play another deployer writing in between (the write then loses the race, as on S3).
 * - `failWith`: when set, every call rejects with it. `writes` lists each accepted write's key.
 */
import type { ConditionalObjects, PutIfAbsentOutcome, PutIfMatchOutcome, VersionedRead } from "../../../src/aws/s3-objects.js";

export class FakeConditional implements ConditionalObjects {
  readonly objects = new Map<string, { body: string; etag: string }>();
  readonly writes: string[] = [];
  missingBucket = false;
  failWith: unknown;
  beforeWrite: ((key: string) => void) | undefined;
  private version = 0;

  constructor(readonly bucket: string) {}

  /** Stores as another writer would (unconditionally): a new ETag. */
  set(key: string, body: string): void {
    this.objects.set(key, { body, etag: `"${++this.version}"` });
  }

  text(key: string): string | undefined {
    return this.objects.get(key)?.body;
  }

  async read(bucket: string, key: string, { maxBytes }: { maxBytes: number }): Promise<VersionedRead | undefined | "no-bucket"> {
    this.check(bucket);
    if (!this.has(bucket)) return "no-bucket";
    const o = this.objects.get(key);
    if (!o) return undefined;
    const bytes = Buffer.from(o.body);
    return { bytes: new Uint8Array(bytes.subarray(0, maxBytes)), totalSize: bytes.length, etag: o.etag };
  }

  async putIfAbsent(bucket: string, key: string, body: string): Promise<PutIfAbsentOutcome> {
    this.writable(bucket, key);
    if (this.objects.has(key)) return "exists";
    this.accept(key, body);
    return "created";
  }

  async putIfMatch(bucket: string, key: string, body: string, etag: string): Promise<PutIfMatchOutcome> {
    this.writable(bucket, key);
    if (this.objects.get(key)?.etag !== etag) return "changed";
    this.accept(key, body);
    return "replaced";
  }

  async remove(bucket: string, key: string): Promise<void> {
    this.writable(bucket, key);
    this.objects.delete(key);
  }

  private has(bucket: string) {
    return bucket === this.bucket && !this.missingBucket;
  }

  private check(_bucket: string) {
    if (this.failWith) throw this.failWith;
  }

  private writable(bucket: string, key: string) {
    this.check(bucket);
    if (!this.has(bucket)) throw Object.assign(new Error("The specified bucket does not exist"), { name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } });
    this.beforeWrite?.(key);
  }

  private accept(key: string, body: string) {
    this.set(key, body);
    this.writes.push(key);
  }
}
