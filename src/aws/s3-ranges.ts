import type { GetObjectCommand, GetObjectCommandInput, GetObjectCommandOutput } from "@aws-sdk/client-s3";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import type { AwsClients } from "./clients.js";
import { isSynktiError } from "../core/errors.js";
import { classifyAwsError, toSynktiError } from "./errors.js";
import { contentRangeTotal, opts } from "./shapes.js";

/**
 * Ranged GETs, for the worker's weights fetch (src/worker/weights): many at once, each streamed
 * into its place on disk. Through an S3 client like the ordinary one, so every request carries
 * ExpectedBucketOwner (bucket-owner.ts) and the deadlines of clients.ts: the answer deadline ends
 * at the response headers, the body then flows under the idle deadline only. Its HTTP handler
 * reads into one buffer per connection (lean-http-handler.ts): each piece the body yields is valid
 * only until the next is asked for, so the caller hashes and writes (or copies) it before that. A missing object is a
 * value (undefined): the caller names the file and the fix; other failures become SynktiErrors.
 */
export interface ObjectRange {
  /** The bytes, in order; exactly `end - start` of them unless the stream fails. Each piece is valid until the next is asked for. */
  body: AsyncIterable<Uint8Array>;
  /** The whole object's size (from Content-Range), when S3 said it. */
  objectSize?: number;
  /**
   * The bytes [start, end) the answer says it holds (from Content-Range); undefined when it says
   * none: a server or proxy that ignored the Range and sends the whole object (200).
   */
  range?: { start: number; end: number };
}

export interface RangeReader {
  /** Bytes [start, end) of s3://bucket/key; `end` > `start`. */
  getRange(bucket: string, key: string, range: { start: number; end: number }, signal?: AbortSignal): Promise<ObjectRange | undefined>;
}

export async function createRangeReader(clients: AwsClients): Promise<RangeReader> {
  const [s3, sdk] = await Promise.all([clients.s3Ranges(), import("@aws-sdk/client-s3")]);
  return {
    async getRange(bucket, key, { start, end }, signal) {
      try {
        const command = new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` });
        withoutResponseChecksum(command);
        const out = await s3.send(command, opts(signal));
        const total = contentRangeTotal(out.ContentRange);
        const held = /^bytes (\d+)-(\d+)\//.exec(out.ContentRange ?? "");
        return {
          body: (out.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})(),
          ...(total !== undefined ? { objectSize: total } : {}),
          ...(held ? { range: { start: Number(held[1]), end: Number(held[2]) + 1 } } : {}),
        };
      } catch (error) {
        if (signal?.aborted || isSynktiError(error)) throw error;
        if (classifyAwsError(error) === "not-found") return undefined;
        throw toSynktiError(error, `downloading bytes ${start}-${end - 1} of s3://${bucket}/${key}`);
      }
    },
  };
}

/**
 * The SDK asks S3 for the object's checksum (`x-amz-checksum-mode: ENABLED`, its WHEN_SUPPORTED
 * default) and, when one comes back (a range covering a whole single-part object), runs every byte
 * through CRC32 in one more stream layer: about a twentieth of the fetch's CPU, for a check the
 * caller already makes stronger (every chunk's SHA-256 against the pinned manifest). The request
 * goes out as the SDK makes it (without the mode header the SDK would add a CRC32 of the empty
 * body instead); only the answer's CRC32 pass is skipped: the mode is taken off the input after
 * the request is built, where the SDK's response check reads it.
 */
function withoutResponseChecksum(command: GetObjectCommand): void {
  const noChecksumPass: FinalizeRequestMiddleware<GetObjectCommandInput, GetObjectCommandOutput> = (next) => async (args) => {
    delete args.input.ChecksumMode;
    return next(args);
  };
  command.middlewareStack.add(noChecksumPass, { step: "finalizeRequest", name: "synktiNoResponseChecksumPass" });
}
