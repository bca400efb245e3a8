import type { ProjectNames } from "../../infra/names.js";
import { checkBinary } from "./binary-file.js";
import { abortQuietly, abortIncompleteUploads } from "./cleanup.js";
import { METADATA_SHA256, METADATA_VERSION, transferFor } from "../../artifacts/deps.js";
import { concurrencyOf, interruptedUpload, regionFlag, requireBucket } from "./context.js";
import { sha256OfBytes, sha256OfFile, sha256sumLine } from "../../artifacts/hash.js";
import { decide } from "./plan.js";
import { putFile } from "./put-file.js";
import { Semaphore } from "../../core/semaphore.js";
import type { TransferOptions, UploadDeps } from "./types.js";

/**
 * `synkti upload binary`: puts the linux-x64 build at s3://<project>-models/bin/synkti with its
 * SHA-256 and version as object metadata (what preflight reads), then bin/synkti.sha256 in
 * `sha256sum` format (what a human or `sha256sum -c` reads). The checksum file goes second: in
 * between, it disagrees with the binary, which fails closed. Same SHA-256 already there: unchanged.
 */
export interface UploadBinaryInput extends TransferOptions {
  names: ProjectNames;
  file: string;
  /** The version, for hosts that cannot run a linux-x64 binary; checked against it otherwise. */
  versionLabel?: string;
  /** Whether this host can run the file for --version; default: linux-x64 hosts can. A test seam. */
  hostCanRun?: boolean;
}

export interface UploadBinaryResult {
  status: "uploaded" | "unchanged";
  bucket: string;
  key: string;
  checksumKey: string;
  file: string;
  size: number;
  sha256: string;
  version: string;
  versionSource: "binary" | "label";
}

export async function uploadBinary(deps: UploadDeps, input: UploadBinaryInput): Promise<UploadBinaryResult> {
  const { names, file, signal } = input;
  // Refuse a wrong build before touching AWS: no credentials are needed to say "that is a Mac binary".
  const { version, versionSource } = await checkBinary(file, input.versionLabel, input.hostCanRun);
  const transfer = await transferFor(deps);
  const rerun = `synkti upload binary --project-name ${names.project} --file ${file}${regionFlag(input.region)}`;
  const base = { status: "uploaded" as UploadBinaryResult["status"], bucket: names.bucket, key: names.binaryKey, checksumKey: names.binaryChecksumKey, file, version, versionSource };
  try {
    await requireBucket(transfer, names, input.region, signal);
    const [local, head, checksumText] = await Promise.all([
      sha256OfFile(file, signal),
      transfer.head(names.bucket, names.binaryKey, signal),
      transfer.getText(names.bucket, names.binaryChecksumKey, signal),
    ]);
    const checksumLine = sha256sumLine(local.sha256, "synkti");
    const decision = decide(local, head);
    const recordedVersion = head?.metadata[METADATA_VERSION];
    const binaryCurrent = decision.action === "skip" && recordedVersion === version;
    const result = { ...base, size: local.size, sha256: local.sha256 };
    if (binaryCurrent && checksumText === checksumLine) {
      deps.log.info({ key: names.binaryKey, sha256: local.sha256 }, "binary unchanged");
      return { ...result, status: "unchanged" };
    }
    if (!binaryCurrent) {
      await abortIncompleteUploads(transfer, deps.log, names.bucket, names.binaryKey, new Set([names.binaryKey]), signal);
      deps.log.info({ key: names.binaryKey, size: local.size, version, reason: decision.action === "upload" ? decision.reason : "version-differs" }, "uploading binary");
      input.progress?.begin(1, local.size);
      try {
        await putFile(
          {
            transfer,
            log: deps.log,
            slots: new Semaphore(concurrencyOf(input.concurrency)),
            ...(input.partSize ? { partSize: input.partSize } : {}),
            ...(signal ? { signal } : {}),
            onProgress: (loaded) => input.progress?.fileProgress(names.binaryKey, loaded),
          },
          {
            bucket: names.bucket,
            key: names.binaryKey,
            file,
            size: local.size,
            sha256: local.sha256,
            metadata: { [METADATA_SHA256]: local.sha256, [METADATA_VERSION]: version },
            contentType: "application/octet-stream",
          },
        );
        input.progress?.fileDone(names.binaryKey, local.size, "uploaded");
      } finally {
        input.progress?.end(); // also on failure: the next line of output starts on a fresh line
      }
    }
    await transfer.putBytes(names.bucket, names.binaryChecksumKey, Buffer.from(checksumLine), {
      contentType: "text/plain",
      sha256Hex: sha256OfBytes(checksumLine),
      ...(signal ? { signal } : {}),
    });
    deps.log.info({ key: names.binaryKey, sha256: local.sha256, version }, "binary uploaded");
    return { ...result, status: "uploaded" };
  } catch (error) {
    if (!signal?.aborted) throw error;
    const aborted = await abortQuietly(transfer, deps.log, names.bucket, names.binaryKey, new Set([names.binaryKey]));
    throw interruptedUpload(rerun, aborted);
  }
}
