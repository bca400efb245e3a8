import path from "node:path";
import type { AwsClients } from "../../aws/clients.js";
import { createRangeReader } from "../../aws/s3-ranges.js";
import { createS3Transfer } from "../../aws/s3-transfer.js";
import type { Clock } from "../../core/clock.js";
import { isSynktiError, messageOf, SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { projectNames } from "../../infra/names.js";
import { fetchWeights, type WeightsFetchResult } from "./fetch-weights.js";
import { asFetchError } from "./refusals.js";

/**
 * The agent's first step when user-data launched it (SYNKTI_EXPECTED_MANIFEST_SHA256 set): the
 * weights of the pinned manifest into `<models>/<model>`, before the preflight checks them and
 * long before a model server starts. An agent started by hand (no pin) serves what is on disk.
 */
export interface WorkerFetchOptions {
  project: string;
  model: string | undefined;
  modelsDir: string;
  expectedManifestSha256: string | undefined;
  fetchConcurrency?: number;
}

export function wantsFetch(options: WorkerFetchOptions): options is WorkerFetchOptions & { model: string; expectedManifestSha256: string } {
  return Boolean(options.model && options.expectedManifestSha256);
}

export async function fetchWorkerWeights(deps: { clients: AwsClients; clock: Clock; log: Logger }, options: WorkerFetchOptions & { model: string; expectedManifestSha256: string }, signal?: AbortSignal): Promise<WeightsFetchResult> {
  const names = projectNames(options.project);
  const where = { project: options.project, model: options.model, bucket: names.bucket };
  // Making the clients can fail too (an SDK module, a credentials setting): said as the fetch's failure, with its fix.
  const [ranges, transfer] = await Promise.all([createRangeReader(deps.clients), createS3Transfer(deps.clients)]).catch((error: unknown) =>
    Promise.reject(asFetchError(error, { model: options.model, ...(signal ? { signal } : {}) }, where)),
  );
  const pin = options.expectedManifestSha256.trim().toLowerCase();
  return fetchWeights(
    { ranges, readText: (bucket, key, s) => transfer.getText(bucket, key, s), clock: deps.clock, log: deps.log },
    {
      project: options.project,
      model: options.model,
      bucket: names.bucket,
      prefix: names.modelPrefix(options.model),
      manifestKey: names.pinnedManifestKey(options.model, pin),
      manifestSha256: pin,
      modelDir: path.join(options.modelsDir, options.model),
      ...(options.fetchConcurrency ? { concurrency: options.fetchConcurrency } : {}),
      ...(signal ? { signal } : {}),
    },
  );
}

export function asSynktiError(error: unknown): SynktiError {
  return isSynktiError(error) ? error : new SynktiError(`Fetching the weights failed: ${messageOf(error)}`, { code: "weights-fetch", kind: "internal", cause: error });
}
