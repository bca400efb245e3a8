import { checkPinnedObject, type PinnedCheck } from "../../artifacts/pinned.js";
import { sha256OfFile } from "../../artifacts/hash.js";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";

type BinaryObservation = { skipped: string } | { expected: string; actual: string | undefined; pinned: PinnedCheck };

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  return (await sha256OfFile(file, signal)).sha256;
}

/**
 * What a replacement launched from this worker's user-data would download is still in the bucket.
 * Never UNKNOWN: the worker can serve either way, so a failed look is a warning, not a stop.
 */
export async function pinnedInBucket(ctx: WorkerContext, key: string, sha256: string, signal?: AbortSignal): Promise<PinnedCheck> {
  try {
    return await checkPinnedObject(await ctx.objects(), ctx.names.bucket, key, { sha256 }, signal ? { signal } : {});
  } catch (error) {
    return { key, present: false, problem: `could not check s3://${ctx.names.bucket}/${key}: ${(error as Error).message}` };
  }
}

/**
 * The running executable is the one the deployer launched (user-data checked the download; this
 * checks what actually runs, e.g. after someone replaced the file), and `bin/synkti-<sha256>` is
 * still in S3: a replacement launched from this worker's user-data (a failover) downloads it.
 * Skipped, with the reason, when there is nothing to compare with.
 */
export const binaryChecksum: Requirement<WorkerContext, BinaryObservation> = {
  id: "binary-checksum",
  title: "running binary matches the SHA-256 it was launched with, still pinned in S3",
  timeoutMs: 60_000,
  async observe(ctx, signal) {
    const expected = ctx.expectedSha256?.trim().toLowerCase();
    if (!expected) return { skipped: "SYNKTI_EXPECTED_SHA256 is not set (not started by synkti's user-data)" };
    const [actual, pinned] = await Promise.all([
      ctx.self.isSingleBinary ? sha256File(ctx.self.execPath, signal) : undefined,
      pinnedInBucket(ctx, ctx.names.pinnedBinaryKey(expected), expected, signal),
    ]);
    return { expected, actual, pinned };
  },
  verdict(obs, ctx) {
    if ("skipped" in obs) return { status: "skipped", observed: obs.skipped };
    if (obs.actual !== undefined && obs.actual !== obs.expected) {
      return {
        status: "fail",
        observed: `${ctx.self.execPath} has sha256 ${obs.actual.slice(0, 12)}..., launched with ${obs.expected.slice(0, 12)}...`,
        fix: { command: `synkti upload binary --project-name ${ctx.names.project}` },
      };
    }
    if (obs.pinned.problem) {
      return {
        status: "warn",
        observed: `${obs.pinned.problem}: a replacement launched from this worker's user-data would not boot (it needs the build with sha256 ${obs.expected})`,
        fix: { command: `synkti upload binary --project-name ${ctx.names.project} --file <binary>`, needs: ["binary"] },
      };
    }
    if (obs.actual === undefined) return { status: "skipped", observed: `running under Node (${ctx.self.execPath}), not the single binary; ${obs.pinned.key} is in S3` };
    return { status: "pass", observed: `${ctx.self.execPath} sha256 ${obs.actual.slice(0, 12)}..., pinned as ${obs.pinned.key}` };
  },
};
