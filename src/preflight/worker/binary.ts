import { sha256OfFile } from "../../artifacts/hash.js";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";

type BinaryObservation = { skipped: string } | { expected: string; actual: string };

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  return (await sha256OfFile(file, signal)).sha256;
}

/**
 * The running executable is the one the deployer launched (user-data checked the download; this
 * checks what actually runs, e.g. after someone replaced the file). Skipped, with the reason, when
 * there is nothing to compare with.
 */
export const binaryChecksum: Requirement<WorkerContext, BinaryObservation> = {
  id: "binary-checksum",
  title: "running binary matches the SHA-256 it was launched with",
  timeoutMs: 60_000,
  async observe(ctx, signal) {
    const expected = ctx.expectedSha256?.trim().toLowerCase();
    if (!expected) return { skipped: "SYNKTI_EXPECTED_SHA256 is not set (not started by synkti's user-data)" };
    if (!ctx.self.isSingleBinary) return { skipped: `running under Node (${ctx.self.execPath}), not the single binary` };
    return { expected, actual: await sha256File(ctx.self.execPath, signal) };
  },
  verdict(obs, ctx) {
    if ("skipped" in obs) return { status: "skipped", observed: obs.skipped };
    if (obs.actual === obs.expected) return { status: "pass", observed: `${ctx.self.execPath} sha256 ${obs.actual.slice(0, 12)}...` };
    return {
      status: "fail",
      observed: `${ctx.self.execPath} has sha256 ${obs.actual.slice(0, 12)}..., launched with ${obs.expected.slice(0, 12)}...`,
      fix: { command: `synkti upload binary --project-name ${ctx.names.project}` },
    };
  },
};
