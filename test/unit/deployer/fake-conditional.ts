/**
 * An in-memory bucket behind DesiredObjects (S3's conditional calls: src/aws/s3-conditional.ts and
 * s3-replace.ts), for unit tests of the desired size, the launch's slot claims and down.
 *
 * Behaviour spec:
 * - One bucket, named at construction; any other bucket reads "absent" and refuses writes with
 *   NoSuchBucket (as S3 does). `missingBucket = true` makes the named bucket missing too.
 * - `readIfChanged` answers "unchanged" when given the current ETag, else the first `maxBytes + 1`
 *   bytes as text with the whole size and the current ETag (`"<n>"`, a counter: every write makes
 *   a new one); unknown key: "absent".
 * - `putIfAbsent` stores and answers "created" only when the key is absent, else "exists";
 *   `putIfMatch` stores and answers "replaced" only when the key exists with that ETag, else "changed".
 * - `beforeWrite(key)`: when set, called before each conditional write is judged, so a test can
 *   play another deployer writing in between (the write then loses the race, as on S3).
 * - `failWith`: when set, every call rejects with it. `writes` lists each accepted write's key.
 */
import type { ConditionalRead, PutIfAbsentOutcome } from "../../../src/aws/s3-conditional.js";
import type { PutIfMatchOutcome } from "../../../src/aws/s3-replace.js";
import type { DesiredObjects } from "../../../src/deployer/desired/store.js";

export class FakeConditional implements DesiredObjects {
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

  async readIfChanged(bucket: string, key: string, { etag, maxBytes }: { etag?: string; maxBytes: number }): Promise<ConditionalRead> {
    this.check(bucket);
    const o = this.has(bucket) ? this.objects.get(key) : undefined;
    if (!o) return { kind: "absent" };
    if (etag === o.etag) return { kind: "unchanged" };
    const bytes = Buffer.from(o.body);
    return { kind: "changed", text: bytes.subarray(0, maxBytes + 1).toString("utf8"), etag: o.etag, size: bytes.length };
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
