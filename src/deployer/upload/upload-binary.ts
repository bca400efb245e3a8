import type { S3Transfer } from "../../aws/s3-transfer.js";
import type { ProjectNames } from "../../infra/names.js";
import { checkBinary } from "./binary-file.js";
import { abortQuietly, abortIncompleteUploads } from "./cleanup.js";
import { METADATA_SHA256, METADATA_VERSION, transferFor } from "../../artifacts/deps.js";
import { concurrencyOf, interruptedUpload, regionFlag, requireBucket } from "./context.js";
import { sha256OfBytes, sha256OfFile, sha256sumLine } from "../../artifacts/hash.js";
import { decide, partSizeFor } from "./plan.js";
import { putFile } from "./put-file.js";
import { PartBuffers } from "./part-buffers.js";
import { Semaphore } from "../../core/semaphore.js";
import type { TransferOptions, UploadDeps } from "./types.js";

/**
 * `synkti upload binary`: puts the linux-x64 build at s3://<project>-models/bin/synkti-<sha256>
 * (what a launch pins: a replacement launched later from the same user-data still finds these very
 * bytes) and bin/synkti (the latest, what preflight compares with), both with the SHA-256 and
 * version as object metadata, then bin/synkti.sha256 in `sha256sum` format (what a human or
 * `sha256sum -c` reads). The checksum file goes last: in between, it disagrees with the binary,
 * which fails closed. Same SHA-256 already under both keys: unchanged. Older hashed keys stay.
 */
export interface UploadBinaryInput extends TransferOptions {
  names: ProjectNames;
  file: string;
  /** The version the operator expects: refused when the build's own marker says otherwise. */
  versionLabel?: string;
}

export interface UploadBinaryResult {
  status: "uploaded" | "unchanged";
  bucket: string;
  key: string;
  /** `bin/synkti-<sha256>`: the same bytes under their hash, which launches pin and nothing overwrites. */
  pinnedKey: string;
  checksumKey: string;
  file: string;
  size: number;
  sha256: string;
  version: string;
  versionSource: "binary";
}

export async function uploadBinary(deps: UploadDeps, input: UploadBinaryInput): Promise<UploadBinaryResult> {
  const { names, file, signal } = input;
  // Refuse a wrong build before touching AWS: no credentials are needed to say "that is a Mac binary".
  const { version, versionSource } = await checkBinary(file, input.versionLabel);
  const transfer = await transferFor(deps);
  const rerun = `synkti upload binary --project-name ${names.project} --file ${file}${regionFlag(input.region)}`;
  const base = { status: "uploaded" as UploadBinaryResult["status"], bucket: names.bucket, key: names.binaryKey, checksumKey: names.binaryChecksumKey, file, version, versionSource };
  let sweep = new Set([names.binaryKey]);
  try {
    await requireBucket(transfer, names, input.region, signal);
    const [local, head, checksumText] = await Promise.all([
      sha256OfFile(file, signal),
      transfer.head(names.bucket, names.binaryKey, signal),
      transfer.getText(names.bucket, names.binaryChecksumKey, signal),
    ]);
    const pinnedKey = names.pinnedBinaryKey(local.sha256);
    sweep = new Set([names.binaryKey, pinnedKey]);
    const pinnedHead = await transfer.head(names.bucket, pinnedKey, signal);
    const checksumLine = sha256sumLine(local.sha256, "synkti");
    const holds = (h: typeof head) => decide(local, h).action === "skip" && h?.metadata[METADATA_VERSION] === version;
    const binaryCurrent = holds(head);
    const pinnedCurrent = holds(pinnedHead);
    const result = { ...base, pinnedKey, size: local.size, sha256: local.sha256 };
    if (binaryCurrent && pinnedCurrent && checksumText === checksumLine) {
      deps.log.info({ key: names.binaryKey, sha256: local.sha256 }, "binary unchanged");
      return { ...result, status: "unchanged" };
    }
    // The bytes go up once, under their hash (what a launch pins; never overwritten); the other key
    // is a server-side copy. bin/synkti (the latest) changes last, so it never names a hash that
    // is not stored.
    if (!pinnedCurrent) {
      if (binaryCurrent) {
        deps.log.info({ from: names.binaryKey, to: pinnedKey }, "storing the binary under its SHA-256 (server-side copy)");
        await transfer.copyObject(names.bucket, names.binaryKey, pinnedKey, signal);
      } else {
        await abortIncompleteUploads(transfer, deps.log, names.bucket, names.binaryKey, sweep, signal);
        const decision = decide(local, pinnedHead);
        deps.log.info({ key: pinnedKey, size: local.size, version, reason: decision.action === "upload" ? decision.reason : "version-differs" }, "uploading binary");
        await putBinary(deps, input, transfer, { key: pinnedKey, size: local.size, sha256: local.sha256, version });
      }
    }
    if (!binaryCurrent) await transfer.copyObject(names.bucket, pinnedKey, names.binaryKey, signal);
    await transfer.putBytes(names.bucket, names.binaryChecksumKey, Buffer.from(checksumLine), {
      contentType: "text/plain",
      sha256Hex: sha256OfBytes(checksumLine),
      ...(signal ? { signal } : {}),
    });
    deps.log.info({ key: names.binaryKey, pinnedKey, sha256: local.sha256, version }, "binary uploaded");
    return { ...result, status: "uploaded" };
  } catch (error) {
    if (!signal?.aborted) throw error;
    const aborted = await abortQuietly(transfer, deps.log, names.bucket, names.binaryKey, sweep);
    throw interruptedUpload(rerun, aborted);
  }
}

/** One upload of the build's bytes, with a progress bar when the caller gave one. */
async function putBinary(
  deps: UploadDeps,
  input: UploadBinaryInput,
  transfer: S3Transfer,
  object: { key: string; size: number; sha256: string; version: string },
): Promise<void> {
  input.progress?.begin(1, object.size);
  const concurrency = concurrencyOf(input.concurrency);
  try {
    await putFile(
      {
        transfer,
        log: deps.log,
        slots: new Semaphore(concurrency),
        buffers: new PartBuffers(concurrency, partSizeFor(object.size, input.partSize)),
        ...(input.partSize ? { partSize: input.partSize } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
        onProgress: (loaded) => input.progress?.fileProgress(object.key, loaded),
      },
      {
        bucket: input.names.bucket,
        key: object.key,
        file: input.file,
        size: object.size,
        sha256: object.sha256,
        metadata: { [METADATA_SHA256]: object.sha256, [METADATA_VERSION]: object.version },
        contentType: "application/octet-stream",
      },
    );
    input.progress?.fileDone(object.key, object.size, "uploaded");
  } finally {
    input.progress?.end(); // also on failure: the next line of output starts on a fresh line
  }
}
