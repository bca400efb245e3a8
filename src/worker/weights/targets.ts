import path from "node:path";
import type { Manifest, ManifestFile } from "../../artifacts/manifest.js";
import { manifestPathProblem } from "../../artifacts/manifest.js";
import { weightsRefused, type FetchWhere } from "./refusals.js";

/** Where the manifest itself is kept next to the weights (preflight and the failover read it). */
export const LOCAL_MANIFEST = "manifest.json";

export interface FileTarget {
  file: ManifestFile;
  /** Absolute path inside the model folder. */
  absolute: string;
  /** `<model>/<path>` in the bucket. */
  key: string;
}

/**
 * Each manifest entry as a file inside `modelDir`, or a refusal naming the entry. The manifest's
 * schema already refuses these paths; checked again here, at the only place that writes, because
 * the manifest comes from a bucket and a path that escapes would overwrite anything the agent can.
 */
export function fileTargets(manifest: Manifest, modelDir: string, prefix: string, where: FetchWhere): FileTarget[] {
  const root = path.resolve(modelDir);
  // `a` and `a/b` both listed: one would delete the other (no upload of a real folder lists both).
  const folders = new Set(manifest.files.flatMap((f) => f.path.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
  const folderToo = (p: string) => folders.has(p);
  return manifest.files.map((file) => {
    const problem =
      manifestPathProblem(file.path) ??
      (file.path === LOCAL_MANIFEST ? `is the name synkti keeps the manifest under` : folderToo(file.path) ? "is also listed as a folder of another entry" : undefined);
    const absolute = path.resolve(root, file.path);
    if (problem || !absolute.startsWith(`${root}${path.sep}`)) {
      throw weightsRefused("weights-manifest-path", `The manifest entry '${file.path}' ${problem ?? "leaves the model folder"}: refusing the whole manifest (nothing was written outside ${root}).`, where);
    }
    return { file, absolute, key: `${prefix}${file.path}` };
  });
}
