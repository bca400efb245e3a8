import type { Ec2Instances } from "../../aws/ec2-instances.js";
import { SynktiError } from "../../core/errors.js";
import type { AnyManifest } from "../../artifacts/manifest.js";
import { METADATA_SHA256 } from "../../artifacts/deps.js";
import { checksumVerdict } from "../../artifacts/s3-checksum.js";
import { TAG_MODEL, workerSelector } from "../../infra/names.js";
import type { PlannedFile } from "./file-batch.js";

/**
 * Weights are not stored under their hash (that would double many GB, or change the layout every
 * worker syncs): `<model>/<path>` is overwritable. What a worker was launched with is pinned by its
 * manifest's SHA-256, and the manifest pins each file's SHA-256, so a replacement launched from the
 * same user-data after an overwrite would refuse the weights and terminate, on every try. Hence an
 * upload must not change the bytes of a model a live worker serves: the refusal is decided here.
 */

/** The project's pending or running workers tagged as serving `model` (a `down` in progress included). */
export async function workersServing(ec2: Pick<Ec2Instances, "describe">, project: string, model: string, signal?: AbortSignal): Promise<string[]> {
  const found = await ec2.describe({ tags: { ...workerSelector(project), [TAG_MODEL]: model }, states: ["pending", "running"] }, signal);
  return found.map((i) => i.instanceId).sort();
}

/**
 * The files whose object in S3 would get other bytes. Pure. The object's bytes are known by its
 * sha256 metadata, else by the current manifest's entry when the size agrees (an object another
 * tool re-put), else by S3's own checksum; unknown counts as different. A missing object is only an
 * addition: not listed.
 */
export function overwrittenFiles(planned: PlannedFile[], previous: AnyManifest | undefined): string[] {
  const listed = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  return planned
    .filter(({ file, local, remote, decision }) => {
      if (decision.action === "skip" || remote === undefined) return false;
      const entry = listed.get(file.path);
      const known = remote.metadata[METADATA_SHA256]?.toLowerCase() ?? (entry && entry.size === remote.size ? entry.sha256 : undefined);
      // Not hashed before sending: S3 holds another size, so its bytes differ from the file's anyway.
      if (local === undefined) return true;
      return known !== undefined ? known !== local.sha256 : checksumVerdict(remote, local) !== "same";
    })
    .map(({ file }) => file.path)
    .sort();
}

export function weightsInUseError(input: { project: string; model: string; bucket: string; from: string; region?: string | undefined }, paths: string[], workers: string[]): SynktiError {
  const shown = paths.slice(0, 3).join(", ") + (paths.length > 3 ? ` and ${paths.length - 3} more` : "");
  const region = input.region ? ` --region ${input.region}` : "";
  return new SynktiError(
    `Refused: ${paths.length} file(s) of ${input.model} would change in s3://${input.bucket}/ (${shown}) while ${workers.join(", ")} serve${workers.length === 1 ? "s" : ""} ${input.model}. ` +
      `A replacement launched on a spot notice syncs these files and checks them against the manifest its worker was launched with: it would refuse them and never serve. Nothing was uploaded.`,
    {
      code: "weights-in-use",
      kind: "unsafe",
      remedy: `synkti upload model --project-name ${input.project} --model <new-model-name> --from ${input.from}${region}   # or first: synkti down --project-name ${input.project}${region}`,
    },
  );
}
