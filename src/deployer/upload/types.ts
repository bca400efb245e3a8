import type { Ec2Instances } from "../../aws/ec2-instances.js";
import type { ArtifactDeps } from "../../artifacts/deps.js";
import type { ProgressReporter } from "./progress.js";

/**
 * Collaborators, passed in so tests run the same code against moto and a fake clock. `ec2` (default:
 * built from `clients`) lists the workers serving a model, which an upload must not pull the rug from.
 */
export type UploadDeps = ArtifactDeps & { ec2?: Pick<Ec2Instances, "describe"> };

/** What every upload command shares: where, how fast, how to stop, whom to tell. */
export interface TransferOptions {
  /**
   * S3 requests in flight at once (parts of one big file, or several small files), each with at
   * most one part-sized buffer: memory is `concurrency` x the part size. Default 8.
   */
  concurrency?: number;
  /**
   * Multipart part size in bytes (default 8 MiB; S3's minimum is 5 MiB). The binary only: model
   * weights go up in parts of one manifest chunk (16 MiB), so S3's checksum vouches for them.
   */
  partSize?: number;
  /** Ctrl-C: stops work, aborts in-flight multipart uploads, then throws an "interrupted" error. */
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Only for the remedies printed on failure, so they carry the operator's own flags. */
  region?: string;
}

export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;
