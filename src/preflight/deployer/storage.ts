import { verifyBinaryInS3, verifyModelInS3, type BinaryVerification, type ModelVerification } from "../../artifacts/index.js";
import { sha256OfFile } from "../../artifacts/hash.js";
import type { Finding, Requirement } from "../types.js";
import { synktiCommand, type DeployerContext } from "./context.js";

function uploadBinaryFix(ctx: DeployerContext): Finding["fix"] {
  // The built single binary uploads itself; a development run must name the build to upload.
  return ctx.localBinary
    ? { command: synktiCommand(ctx, "upload binary", ["--file", ctx.localBinary.path]) }
    : { command: synktiCommand(ctx, "upload binary", ["--file", "<binary>"]), needs: ["binary"] };
}

/** What the binary requirement saw: the object in S3, and the SHA-256 of the synkti running this preflight. */
export type BinaryObservation = BinaryVerification & { localSha256?: string };

/**
 * bin/synkti is present and intact (its bytes match the recorded SHA-256; with --deep the object is
 * downloaded and hashed), and is this very build: a launch embeds the SHA-256 of the synkti doing
 * it in user-data, so another build in S3 would be refused by every worker. Compared here, by the
 * same hashes the launch uses, so the refusal comes with the report and its fix, not after a SAFE.
 * A development run (tsx, no single binary) has no build to hash: the recorded SHA-256 is used.
 * Workers download `bin/synkti-<sha256>` (never overwritten, so a replacement launched later from
 * the same user-data gets the same bytes): its absence fails here, and `upload binary` repairs it.
 */
export const binaryInS3: Requirement<DeployerContext, BinaryObservation> = {
  id: "binary",
  title: "orchestrator binary in S3",
  dependsOn: ["bucket"],
  timeoutMs: 120_000,
  async observe(ctx, signal) {
    const [verification, local] = await Promise.all([
      verifyBinaryInS3(ctx, ctx.names, { deep: ctx.deep, localVersion: ctx.localBinary?.version, signal }),
      ctx.localBinary ? sha256OfFile(ctx.localBinary.path, signal) : undefined,
    ]);
    return { ...verification, ...(local ? { localSha256: local.sha256 } : {}) };
  },
  verdict(v, ctx) {
    const where = `s3://${v.bucket}/${v.key}`;
    if (!v.present) return { status: "fail", observed: `${where} does not exist`, fix: uploadBinaryFix(ctx) };
    if (!v.ok) return { status: "fail", observed: `${where} is tampered or truncated: ${v.problems.join("; ")}`, fix: uploadBinaryFix(ctx) };
    const checked = v.depth === "deep" ? "bytes hash to the recorded SHA-256" : "recorded SHA-256 consistent (use --deep to hash the bytes)";
    if (v.localSha256 !== undefined && v.localSha256 !== v.sha256Recorded) {
      return {
        status: "fail",
        observed: `${where} (version ${v.version ?? "unknown"}, sha256 ${short(v.sha256Recorded)}) is not the synkti doing this (version ${ctx.localBinary?.version ?? "unknown"}, sha256 ${short(v.localSha256)}): workers would refuse it or run another build`,
        fix: uploadBinaryFix(ctx),
      };
    }
    // Workers download the copy named by the hash the launch pins: without it, none could boot.
    if (v.pinned?.problem) {
      return { status: "fail", observed: `${v.pinned.problem}: workers download the binary under the SHA-256 a launch pins; synkti upload binary stores it`, fix: uploadBinaryFix(ctx) };
    }
    const same = v.localSha256 !== undefined ? ", the same build as this synkti" : " (development run: no single binary to compare)";
    return { status: "pass", observed: `${where} version ${v.version}, sha256 ${short(v.sha256Recorded)}, ${checked}${same}, pinned as ${v.pinned?.key}` };
  },
};

const short = (sha: string | undefined) => (sha ? `${sha.slice(0, 12)}...` : "unknown");

export type WeightsObservation = { model: string | undefined; verification: ModelVerification | undefined };

/**
 * The model's weights are complete against their manifest (only when --model is given), and the
 * manifest is also stored under its SHA-256, which the launch pins and workers download.
 */
export const weightsInS3: Requirement<DeployerContext, WeightsObservation> = {
  id: "weights",
  title: "model weights complete against their manifest",
  dependsOn: ["bucket"],
  timeoutMs: 60_000,
  async observe(ctx, signal) {
    if (!ctx.model) return { model: undefined, verification: undefined };
    return { model: ctx.model, verification: await verifyModelInS3(ctx, ctx.names, ctx.model, { signal }) };
  },
  verdict({ model, verification: v }, ctx) {
    if (!model || !v) return { status: "skipped", observed: "no --model given" };
    const fix = {
      command: synktiCommand(ctx, "upload model", ["--model", model, "--from", "<weights-dir>"]),
      needs: ["weights-dir"],
    };
    if (!v.manifestPresent) return { status: "fail", observed: `s3://${v.bucket}/${v.manifestKey} does not exist`, fix };
    if (!v.ok) {
      const parts = [
        v.manifestProblem,
        v.missing.length ? `${v.missing.length} missing (${v.missing.slice(0, 3).join(", ")})` : undefined,
        v.mismatched.length ? `${v.mismatched.length} not matching the manifest (${v.mismatched.slice(0, 3).join(", ")})` : undefined,
      ].filter(Boolean);
      return { status: "fail", observed: `weights of ${model} incomplete: ${parts.join("; ")}`, fix };
    }
    if (v.pinned?.problem) {
      return { status: "fail", observed: `${v.pinned.problem}: workers download the manifest under the SHA-256 a launch pins; synkti upload model stores it`, fix };
    }
    return { status: "pass", observed: `${v.files} files, ${(v.bytes / 1e6).toFixed(1)} MB, as the manifest lists (pinned as ${v.pinned?.key})` };
  },
};
