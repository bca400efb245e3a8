import type { S3Client } from "@aws-sdk/client-s3";
import type { AwsClients } from "./clients.js";
import { isSynktiError } from "../core/errors.js";
import { classifyAwsError, toSynktiError } from "./errors.js";
import { headBucket, type BucketAccess } from "./s3.js";
import { createObjectReader } from "./s3-objects.js";
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

/** A part S3 accepted: what CompleteMultipartUpload lists. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  /** The part's SHA-256 (hex), sent with it and checked by S3 on arrival. */
  sha256Hex: string;
}

export interface PartUpload {
  bucket: string;
  key: string;
  uploadId: string;
  /** 1-based, as S3 numbers them. */
  partNumber: number;
  body: Uint8Array;
  /** SHA-256 (hex) of `body`, computed by the caller: S3 checks the part against it. */
  sha256Hex: string;
  signal?: AbortSignal;
}

export interface IncompleteUpload {
  key: string;
  uploadId: string;
}

export interface S3Transfer {
  /** "forbidden": the name answers 403 to the caller's account (another account's, or no s3:ListBucket). */
  bucketAccess(bucket: string, signal?: AbortSignal): Promise<BucketAccess>;
  head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead | undefined>;
  /** Every object under `prefix` with its size (ListObjectsV2, all pages); empty when the bucket is missing. */
  listSizes(bucket: string, prefix: string, signal?: AbortSignal): Promise<Map<string, number>>;
  getText(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  getStream(bucket: string, key: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * One PUT, with the body's SHA-256 as the checksum S3 verifies. `large`: a body that may take
   * longer than the answer deadline to send (weights, the binary): bounded by the idle deadline only.
   */
  putBytes(
    bucket: string,
    key: string,
    body: Uint8Array,
    options: { metadata?: Record<string, string>; contentType?: string; sha256Hex: string; large?: boolean; signal?: AbortSignal },
  ): Promise<void>;
  /**
   * The primitives of a multipart upload with a SHA-256 per part (the orchestration, reading and
   * hashing live in src/deployer/upload). Parts travel under the idle deadline only. S3 keeps the
   * composite checksum of the parts; metadata is fixed here, before the first byte.
   */
  createMultipartUpload(bucket: string, key: string, options: { metadata?: Record<string, string>; contentType?: string; signal?: AbortSignal }): Promise<string>;
  /** Returns the part's ETag. */
  uploadPart(part: PartUpload): Promise<string>;
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[], signal?: AbortSignal): Promise<void>;
  listIncompleteUploads(bucket: string, prefix: string, signal?: AbortSignal): Promise<IncompleteUpload[]>;
  /** AbortMultipartUpload: S3 drops the parts (no longer billed). Takes no signal: it is the cleanup after Ctrl-C. */
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
  const [s3, bulk, sdk] = await Promise.all([clients.s3(), clients.s3Transfer(), import("@aws-sdk/client-s3")]);
  return s3Transfer(clients, { s3, bulk }, sdk);
}

type Sdk = typeof import("@aws-sdk/client-s3");

/**
 * `s3` answers within the answer deadline; `bulk` carries the large bodies (parts, large PUTs),
 * bounded by the idle deadline only. Downloads use `s3`: its answer deadline ends at the response
 * headers, and the body then streams under the idle deadline.
 */
function s3Transfer(clients: AwsClients, { s3, bulk }: { s3: S3Client; bulk: S3Client }, sdk: Sdk): S3Transfer {
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
  const reader = createObjectReader(clients);

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

    listSizes: (bucket, prefix, signal) =>
      call(`listing s3://${bucket}/${prefix}`, signal, async () => {
        const listed = await reader.list(bucket, prefix, { maxKeys: Number.POSITIVE_INFINITY }, signal);
        return new Map(listed === "no-bucket" ? [] : listed.objects.map((o) => [o.key, o.size]));
      }, () => new Map()),

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

    putBytes: (bucket, key, body, { metadata, contentType, sha256Hex, large, signal }) =>
      call(`uploading s3://${bucket}/${key}`, signal, async () => {
        // With the checksum given, S3 verifies the whole object against our own hash of it (and the
        // signer reuses it as the payload hash: payload-hash.ts).
        await (large ? bulk : s3).send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            Metadata: metadata,
            ContentType: contentType,
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: base64OfHex(sha256Hex),
          }),
          opts(signal),
        );
      }),

    createMultipartUpload: (bucket, key, { metadata, contentType, signal }) =>
      call(`uploading s3://${bucket}/${key}`, signal, async () => {
        // SHA256 here makes S3 require a SHA-256 with every part and keep their composite checksum.
        const out = await s3.send(
          new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: metadata, ContentType: contentType, ChecksumAlgorithm: "SHA256" }),
          opts(signal),
        );
        if (!out.UploadId) throw new Error(`S3 answered CreateMultipartUpload for s3://${bucket}/${key} without an upload id`);
        return out.UploadId;
      }),

    uploadPart: (p) =>
      call(`uploading part ${p.partNumber} of s3://${p.bucket}/${p.key}`, p.signal, async () => {
        // The checksum given: the SDK computes none of its own, and the signer reuses it as the
        // payload hash, so the part is hashed once, by the caller (who needs that hash anyway).
        const out = await bulk.send(
          new sdk.UploadPartCommand({
            Bucket: p.bucket,
            Key: p.key,
            UploadId: p.uploadId,
            PartNumber: p.partNumber,
            Body: p.body,
            ContentLength: p.body.byteLength,
            ChecksumSHA256: base64OfHex(p.sha256Hex),
          }),
          opts(p.signal),
        );
        if (!out.ETag) throw new Error(`S3 answered part ${p.partNumber} of s3://${p.bucket}/${p.key} without an ETag`);
        return out.ETag;
      }),

    completeMultipartUpload: (bucket, key, uploadId, parts, signal) =>
      call(`uploading s3://${bucket}/${key}`, signal, async () => {
        // Each part's checksum listed again: S3 refuses the completion if one differs from what it got.
        const Parts = [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumSHA256: base64OfHex(p.sha256Hex) }));
        await bulk.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } }), opts(signal));
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
