import { verifyBinaryInS3, verifyModelInS3, type BinaryVerification, type ModelVerification } from "../../deployer/upload/index.js";
import type { Finding, Requirement } from "../types.js";
import { synktiCommand, type DeployerContext } from "./context.js";

function uploadBinaryFix(ctx: DeployerContext): Finding["fix"] {
  // The built single binary uploads itself; a development run must name the build to upload.
  return ctx.localBinary
    ? { command: synktiCommand(ctx, "upload binary", ["--file", ctx.localBinary.path]) }
    : { command: synktiCommand(ctx, "upload binary", ["--file", "<binary>"]), needs: ["binary"] };
}

/**
 * bin/synkti is present and intact (its bytes match the recorded SHA-256; with --deep the object is
 * downloaded and hashed), and is the same version as this deployer (else a warning naming both).
 */
export const binaryInS3: Requirement<DeployerContext, BinaryVerification> = {
  id: "binary",
  title: "orchestrator binary in S3",
  dependsOn: ["bucket"],
  timeoutMs: 120_000,
  observe: (ctx, signal) => verifyBinaryInS3(ctx, ctx.names, { deep: ctx.deep, localVersion: ctx.localBinary?.version, signal }),
  verdict(v, ctx) {
    const where = `s3://${v.bucket}/${v.key}`;
    if (!v.present) return { status: "fail", observed: `${where} does not exist`, fix: uploadBinaryFix(ctx) };
    if (!v.ok) return { status: "fail", observed: `${where} is tampered or truncated: ${v.problems.join("; ")}`, fix: uploadBinaryFix(ctx) };
    const checked = v.depth === "deep" ? "bytes hash to the recorded SHA-256" : "recorded SHA-256 consistent (use --deep to hash the bytes)";
    const local = ctx.localBinary?.version;
    if (local && v.version !== local) {
      return {
        status: "warn",
        observed: `${where} is version ${v.version ?? "unknown"}, this synkti is ${local}; ${checked}; a launch embeds this synkti's SHA-256, so upload this build before launching`,
        fix: uploadBinaryFix(ctx),
      };
    }
    return { status: "pass", observed: `${where} version ${v.version}, sha256 ${v.sha256Recorded?.slice(0, 12)}..., ${checked}` };
  },
};

type WeightsObservation = { model: string | undefined; verification: ModelVerification | undefined };

/** The model's weights are complete against their manifest (only when --model is given). */
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
    return { status: "pass", observed: `${v.files} files, ${(v.bytes / 1e6).toFixed(1)} MB, as the manifest lists` };
  },
};
