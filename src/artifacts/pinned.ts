import type { S3Transfer } from "../aws/s3-transfer.js";
import { METADATA_SHA256 } from "./deps.js";
import { sha256OfStream } from "./hash.js";

/**
 * An object stored under its own SHA-256 (`bin/synkti-<sha256>`): what a launch pins and every
 * worker, replacements included, downloads. Present with that sha256 metadata (and `size`, when
 * known); with `deep`, its bytes are downloaded and hashed too. Observation only.
 */
export interface PinnedCheck {
  key: string;
  present: boolean;
  /** Why it cannot serve as the pinned copy; absent when it can. */
  problem?: string;
}

export async function checkPinnedObject(
  transfer: S3Transfer,
  bucket: string,
  key: string,
  want: { sha256: string; size?: number },
  options: { deep?: boolean; signal?: AbortSignal } = {},
): Promise<PinnedCheck> {
  const head = await transfer.head(bucket, key, options.signal);
  if (head === undefined) return { key, present: false, problem: `s3://${bucket}/${key} does not exist` };
  if ((want.size !== undefined && head.size !== want.size) || head.metadata[METADATA_SHA256]?.toLowerCase() !== want.sha256) {
    return { key, present: true, problem: `s3://${bucket}/${key} is not the object it is named after (size or sha256 metadata differ)` };
  }
  if (options.deep) {
    const stream = await transfer.getStream(bucket, key, options.signal);
    const actual = stream === undefined ? undefined : await sha256OfStream(stream, options.signal);
    if (actual?.sha256 !== want.sha256) return { key, present: true, problem: `the bytes of s3://${bucket}/${key} do not hash to its name: tampered or corrupted` };
  }
  return { key, present: true };
}
