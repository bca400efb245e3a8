import { sha256OfBytes } from "../../artifacts/hash.js";
import { parseManifest, requireChunks, type Manifest } from "../../artifacts/manifest.js";
import type { WeightsFetchDeps, WeightsFetchInput } from "./fetch-weights.js";
import { weightsRefused, weightsUnreachable, type FetchWhere } from "./refusals.js";

/**
 * The manifest the worker was launched with: its bytes hash to the SHA-256 embedded in user-data,
 * it is version 2 (chunk hashes) and names this model. Anything else is refused with the fix.
 */
export async function pinnedManifest(deps: WeightsFetchDeps, input: WeightsFetchInput, where: FetchWhere): Promise<{ text: string; manifest: Manifest }> {
  const url = `s3://${input.bucket}/${input.manifestKey}`;
  let text: string | undefined;
  try {
    text = await deps.readText(input.bucket, input.manifestKey, input.signal);
  } catch (error) {
    if (input.signal?.aborted) throw error;
    throw weightsUnreachable(`Could not read ${url}, the manifest this worker was launched with: ${(error as Error).message}`, where, error);
  }
  if (text === undefined) throw weightsRefused("weights-manifest-missing", `${url} is missing: the manifest this worker was launched with (the upload stores it again).`, where);
  const actual = sha256OfBytes(text);
  if (actual !== input.manifestSha256) {
    throw weightsRefused("weights-manifest-mismatch", `Manifest SHA-256 mismatch: ${url} hashes to ${actual}, this worker was launched with ${input.manifestSha256}; refusing its weights.`, where);
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) throw weightsRefused("weights-manifest-invalid", `${url} ${parsed.problem}; refusing its weights.`, where);
  const chunked = requireChunks(parsed.manifest);
  if (!chunked.ok) throw weightsRefused("weights-manifest-version", `${url} ${chunked.problem}.`, where);
  if (chunked.manifest.model !== input.model) throw weightsRefused("weights-manifest-model", `${url} names model '${chunked.manifest.model}', not '${input.model}'; refusing its weights.`, where);
  return { text, manifest: chunked.manifest };
}
