import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { AwsClients } from "./clients.js";
import { isSynktiError } from "../core/errors.js";
import { classifyAwsError, toSynktiError } from "./errors.js";
import { headBucket, type BucketAccess } from "./s3.js";
import { partChecksums, type PartSha256 } from "./payload-hash.js";
import { opts } from "./shapes.js";

/**
 * The narrow S3 surface the uploader and its verifiers use: nothing else of the SDK leaks out, so
 * src/deployer never imports @aws-sdk and tests can swap in a fake. Every call takes an AbortSignal
 * (Ctrl-C), "not found" is a value (undefined/false), and any other AWS failure becomes a
 * SynktiError with a remedy via toSynktiError. An aborted call rethrows the SDK's own AbortError
 * so callers can tell "interrupted" from "failed" by looking at their signal.
 */
export interface ObjectHead {
  size: number;
  /** User metadata (x-amz-meta-*), keys lowercased by S3. */
  metadata: Record<string, string>;
  /** S3's own checksum, when the object was stored with one (base64; composite for multipart). */
  checksumSha256?: string;
  etag?: string;
}

export interface StreamUpload {
  bucket: string;
  key: string;
  body: Readable;
  size: number;
  metadata: Record<string, string>;
  contentType?: string;
  /**
   * Whole-object SHA-256 (hex), when known before the bytes are sent: S3's checksum for a single
   * PUT. Unknown when the uploader hashes while sending (each part still carries its own SHA-256).
   */
  sha256Hex?: string;
  partSize: number;
  /**
   * SHA-256 (hex) of part N when the caller already hashed it (parts of the caller's chunk size):
   * sent as that part's checksum instead of the SDK hashing the part again. S3 verifies it.
   */
  partSha256?: PartSha256;
  /** Parts in flight at once for a multipart upload. */
  queueSize: number;
  signal?: AbortSignal;
  /** Cumulative bytes acknowledged by S3 for this object. */
  onProgress?: (loaded: number) => void;
}

export interface IncompleteUpload {
  key: string;
  uploadId: string;
}

export interface S3Transfer {
  /** "forbidden": the name answers 403 to the caller's account (another account's, or no s3:ListBucket). */
  bucketAccess(bucket: string, signal?: AbortSignal): Promise<BucketAccess>;
  head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead | undefined>;
  getText(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  getStream(bucket: string, key: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined>;
  putBytes(
    bucket: string,
    key: string,
    body: Uint8Array,
    options: { metadata?: Record<string, string>; contentType?: string; sha256Hex: string; signal?: AbortSignal },
  ): Promise<void>;
  /** One PUT when size <= partSize, else a multipart upload (lib-storage) with SHA-256 per part. */
  uploadStream(upload: StreamUpload): Promise<void>;
  listIncompleteUploads(bucket: string, prefix: string, signal?: AbortSignal): Promise<IncompleteUpload[]>;
  abortIncompleteUpload(bucket: string, upload: IncompleteUpload): Promise<void>;
  deleteObject(bucket: string, key: string, signal?: AbortSignal): Promise<void>;
  /**
   * Server-side copy within the bucket (CopyObject: no bytes through this machine; up to 5 GB),
   * keeping the source's metadata and content type; S3 computes a SHA-256 checksum of the copy.
   */
  copyObject(bucket: string, from: string, to: string, signal?: AbortSignal): Promise<void>;
}

const base64OfHex = (hex: string) => Buffer.from(hex, "hex").toString("base64");

export async function createS3Transfer(clients: AwsClients): Promise<S3Transfer> {
  const [s3, bulk, sdk, storage] = await Promise.all([clients.s3(), clients.s3Transfer(), import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
  return s3Transfer(clients, { s3, bulk }, sdk, storage);
}

type Sdk = typeof import("@aws-sdk/client-s3");
type Storage = typeof import("@aws-sdk/lib-storage");

/**
 * `s3` answers within the answer deadline; `bulk` carries the large bodies (lib-storage uploads),
 * bounded by the idle deadline only. Downloads use `s3`: its answer deadline ends at the response
 * headers, and the body then streams under the idle deadline.
 */
function s3Transfer(clients: AwsClients, { s3, bulk }: { s3: S3Client; bulk: S3Client }, sdk: Sdk, storage: Storage): S3Transfer {
  /** Runs one call; maps not-found to `notFound` when given, aborts to themselves, the rest to SynktiError. */
  async function call<T>(doing: string, signal: AbortSignal | undefined, work: () => Promise<T>, notFound?: () => T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (signal?.aborted || isSynktiError(error)) throw error;
      if (notFound && classifyAwsError(error) === "not-found") return notFound();
      throw toSynktiError(error, doing);
    }
  }
  const knownParts = partChecksums(bulk);

  return {
    bucketAccess: (bucket, signal) => call(`checking bucket ${bucket}`, signal, () => headBucket(clients, bucket, signal)),

    head: (bucket, key, signal) =>
      call(`reading s3://${bucket}/${key}`, signal, async () => {
        const out = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }), opts(signal));
        return {
          size: out.ContentLength ?? 0,
          metadata: out.Metadata ?? {},
          ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}),
          ...(out.ETag ? { etag: out.ETag } : {}),
        };
      }, () => undefined),

    getText: (bucket, key, signal) =>
      call(`reading s3://${bucket}/${key}`, signal, async () => {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), opts(signal));
        return out.Body ? await out.Body.transformToString("utf8") : "";
      }, () => undefined),

    getStream: (bucket, key, signal) =>
      call(`downloading s3://${bucket}/${key}`, signal, async () => {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), opts(signal));
        return (out.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
      }, () => undefined),

    putBytes: (bucket, key, body, { metadata, contentType, sha256Hex, signal }) =>
      call(`uploading s3://${bucket}/${key}`, signal, async () => {
        // With the checksum given, S3 verifies the whole object against our own hash of it.
        await s3.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            Metadata: metadata,
            ContentType: contentType,
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: base64OfHex(sha256Hex),
          }),
          opts(signal),
        );
      }),

    uploadStream: (u) =>
      call(`uploading s3://${u.bucket}/${u.key}`, u.signal, async () => {
        const single = u.size <= u.partSize; // lib-storage's own rule for a single PUT
        const controller = new AbortController();
        const onAbort = () => controller.abort(u.signal?.reason);
        u.signal?.addEventListener("abort", onAbort, { once: true });
        if (u.signal?.aborted) controller.abort(u.signal.reason);
        const forget = u.partSha256 && !single ? knownParts(u.bucket, u.key, u.partSha256) : undefined;
        try {
          const upload = new storage.Upload({
            client: bulk,
            params: {
              Bucket: u.bucket,
              Key: u.key,
              Body: u.body,
              ContentLength: u.size,
              Metadata: u.metadata,
              ContentType: u.contentType,
              // SHA-256 per part: S3 checks every part on arrival. The whole-object value only fits
              // a single PUT (lib-storage copies params into each UploadPart).
              ChecksumAlgorithm: "SHA256",
              ...(single && u.sha256Hex ? { ChecksumSHA256: base64OfHex(u.sha256Hex) } : {}),
            },
            partSize: u.partSize,
            queueSize: u.queueSize,
            // On failure or abort lib-storage sends AbortMultipartUpload itself: no parts left billed.
            leavePartsOnError: false,
            abortController: controller,
          });
          if (u.onProgress) upload.on("httpUploadProgress", (p) => u.onProgress?.(p.loaded ?? 0));
          await upload.done();
        } finally {
          forget?.();
          u.signal?.removeEventListener("abort", onAbort);
        }
      }),

    listIncompleteUploads: (bucket, prefix, signal) =>
      call(`listing incomplete uploads in s3://${bucket}/${prefix}`, signal, async () => {
        const found: IncompleteUpload[] = [];
        let keyMarker: string | undefined;
        let uploadIdMarker: string | undefined;
        for (;;) {
          const out = await s3.send(
            new sdk.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
            opts(signal),
          );
          for (const u of out.Uploads ?? []) if (u.Key && u.UploadId) found.push({ key: u.Key, uploadId: u.UploadId });
          if (!out.IsTruncated) return found;
          keyMarker = out.NextKeyMarker;
          uploadIdMarker = out.NextUploadIdMarker;
        }
      }, () => []),

    abortIncompleteUpload: (bucket, u) =>
      // Deliberately no signal: this is the cleanup that runs after Ctrl-C.
      call(`aborting the incomplete upload of s3://${bucket}/${u.key}`, undefined, async () => {
        await s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
      }, () => undefined),

    copyObject: (bucket, from, to, signal) =>
      call(`copying s3://${bucket}/${from} to ${to}`, signal, async () => {
        const source = `${bucket}/${from.split("/").map(encodeURIComponent).join("/")}`;
        await s3.send(
          new sdk.CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source, MetadataDirective: "COPY", ChecksumAlgorithm: "SHA256" }),
          opts(signal),
        );
      }),

    deleteObject: (bucket, key, signal) =>
      call(`deleting s3://${bucket}/${key}`, signal, async () => {
        await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }), opts(signal));
      }, () => undefined),
  };
}
