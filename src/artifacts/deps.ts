import type { AwsClients } from "../aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../aws/s3-transfer.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";

/**
 * Collaborators of everything that moves or checks the project's artifacts (the binary, the
 * weights): the deployer's uploads and preflight's verifications alike, passed in so tests run the
 * same code against moto and a fake clock.
 */
export interface ArtifactDeps {
  clients: AwsClients;
  log: Logger;
  clock: Clock;
  /** Seam for tests and for callers that already hold one; default: built from `clients`. */
  transfer?: S3Transfer;
}

export async function transferFor(deps: ArtifactDeps): Promise<S3Transfer> {
  return deps.transfer ?? (await createS3Transfer(deps.clients));
}

/** The object metadata synkti writes on what it uploads and checks on what it reads back. */
export const METADATA_SHA256 = "sha256";
export const METADATA_VERSION = "version";
