import { z } from "zod";

/**
 * `<model>/manifest.json`: every weight file's path, size and SHA-256. It is written last, so its
 * presence means "the upload completed"; preflight and workers check files against it.
 */
export const manifestFileSchema = z.object({
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const manifestSchema = z.object({
  model: z.string().min(1),
  files: z.array(manifestFileSchema),
  createdAt: z.string(),
  synktiVersion: z.string(),
});

export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

export function buildManifest(model: string, files: ManifestFile[], createdAt: Date, synktiVersion: string): Manifest {
  const sorted = [...files]
    .map(({ path, size, sha256 }) => ({ path, size, sha256 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { model, files: sorted, createdAt: createdAt.toISOString(), synktiVersion };
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export type ParsedManifest = { ok: true; manifest: Manifest } | { ok: false; problem: string };

export function parseManifest(text: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "is not valid JSON" };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `does not match the manifest shape (${issue?.path.join(".") || "root"}: ${issue?.message})` };
  }
  return { ok: true, manifest: parsed.data };
}

/** Same model and the same files (paths, sizes, hashes): rewriting it would change only createdAt. */
export function sameContent(a: Manifest, b: Manifest): boolean {
  if (a.model !== b.model || a.files.length !== b.files.length) return false;
  const byPath = (m: Manifest) => [...m.files].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const bs = byPath(b);
  return byPath(a).every((f, i) => {
    const g = bs[i];
    return g !== undefined && f.path === g.path && f.size === g.size && f.sha256 === g.sha256;
  });
}
