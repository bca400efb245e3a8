import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseManifest } from "../../artifacts/manifest.js";
import { sha256OfBytes } from "../../artifacts/hash.js";
import { verifyModelInS3 } from "../../artifacts/verify-model.js";
import { silentLogger } from "../../core/log.js";
import type { Requirement } from "../types.js";
import { workerCommand, type WorkerContext } from "./context.js";

type WeightsObservation =
  | { dir: string; problem: "no-model" | "no-manifest" | "bad-manifest" | "not-pinned"; detail?: string }
  | { dir: string; files: number; bytes: number; missing: string[]; wrongSize: string[]; pinned?: { key: string; problems: string[] } };

/**
 * What a replacement launched from this worker's user-data would sync: the pinned manifest, and each
 * file it lists with that SHA-256 (HEADs only). A failed look is reported, never UNKNOWN.
 */
async function pinnedWeights(ctx: WorkerContext, model: string, sha256: string, signal?: AbortSignal): Promise<{ key: string; problems: string[] }> {
  const key = ctx.names.pinnedManifestKey(model, sha256);
  try {
    const seen = await verifyModelInS3({ clients: ctx.clients, clock: ctx.clock, log: silentLogger, transfer: await ctx.objects() }, ctx.names, model, { manifestSha256: sha256, ...(signal ? { signal } : {}) });
    return { key, problems: seen.problems };
  } catch (error) {
    return { key, problems: [`could not check: ${(error as Error).message}`] };
  }
}

/**
 * The weights are on local disk, complete, from the manifest this worker was launched with. The
 * agent's own fetch (src/worker/weights) verified every chunk's SHA-256 just before, and writes
 * manifest.json only after the last one, so reading gigabytes again here would only delay the
 * start: this re-checks presence and sizes, which catches a folder changed or cleaned since, in
 * milliseconds (and, for an agent started by hand, that the folder is what a manifest lists).
 */
export const weightsPresent: Requirement<WorkerContext, WeightsObservation> = {
  id: "weights",
  title: "model weights on local disk, complete per manifest.json",
  timeoutMs: 30_000,
  async observe(ctx, signal) {
    if (!ctx.model) return { dir: ctx.modelsDir, problem: "no-model" };
    const dir = path.join(ctx.modelsDir, ctx.model);
    let text: string;
    try {
      text = await readFile(path.join(dir, "manifest.json"), "utf8");
    } catch {
      return { dir, problem: "no-manifest" };
    }
    const pin = ctx.expectedManifestSha256?.trim().toLowerCase();
    if (pin && sha256OfBytes(text) !== pin) return { dir, problem: "not-pinned", detail: `its SHA-256 is ${sha256OfBytes(text).slice(0, 12)}..., launched with ${pin.slice(0, 12)}...` };
    const parsed = parseManifest(text);
    if (!parsed.ok) return { dir, problem: "bad-manifest", detail: parsed.problem };
    const inBucket = pin ? pinnedWeights(ctx, ctx.model, pin, signal) : undefined;
    const missing: string[] = [];
    const wrongSize: string[] = [];
    let bytes = 0;
    await Promise.all(
      parsed.manifest.files.map(async (file) => {
        const full = path.resolve(dir, file.path);
        // A manifest path that leaves the folder is not a weight file of this model.
        if (!full.startsWith(`${path.resolve(dir)}${path.sep}`)) return void missing.push(file.path);
        try {
          const info = await stat(full);
          if (!info.isFile() || info.size !== file.size) wrongSize.push(`${file.path} (${info.size} bytes, manifest says ${file.size})`);
          else bytes += info.size;
        } catch {
          missing.push(file.path);
        }
      }),
    );
    const pinned = await inBucket;
    return { dir, files: parsed.manifest.files.length, bytes, missing: missing.sort(), wrongSize: wrongSize.sort(), ...(pinned ? { pinned } : {}) };
  },
  verdict(obs, ctx) {
    const upload = { command: `synkti upload model --project-name ${ctx.names.project} --model ${ctx.model ?? "<model>"} --from <weights-dir>`, needs: ["weights-dir"] };
    if ("problem" in obs) {
      if (obs.problem === "no-model") {
        return { status: "fail", observed: "no model given: the agent does not know which weights to serve", fix: { command: workerCommand(ctx, ["--model", "<model>"]), needs: ["model"] } };
      }
      const what =
        obs.problem === "no-manifest"
          ? "has no manifest.json"
          : obs.problem === "not-pinned"
            ? `has a manifest.json that is not the one this worker was launched with (${obs.detail})`
            : `has a manifest.json that ${obs.detail}`;
      return { status: "fail", observed: `${obs.dir} ${what}`, fix: upload };
    }
    const bad = [...obs.missing.map((f) => `missing ${f}`), ...obs.wrongSize.map((f) => `wrong size ${f}`)];
    if (bad.length > 0) {
      const shown = bad.slice(0, 3).join("; ") + (bad.length > 3 ? `; and ${bad.length - 3} more` : "");
      return { status: "fail", observed: `${obs.dir}: ${shown}`, fix: upload };
    }
    if (obs.pinned && obs.pinned.problems.length > 0) {
      const shown = obs.pinned.problems.slice(0, 3).join("; ") + (obs.pinned.problems.length > 3 ? `; and ${obs.pinned.problems.length - 3} more` : "");
      return { status: "warn", observed: `${obs.pinned.key}: ${shown}: a replacement launched from this worker's user-data would refuse these weights`, fix: upload };
    }
    const gib = (obs.bytes / 2 ** 30).toFixed(2);
    return { status: "pass", observed: `${obs.files} files, ${gib} GiB in ${obs.dir} (sizes checked here; SHA-256 of every chunk verified by the agent's fetch)` };
  },
};
