import { z } from "zod";
import { CHUNK_SIZE, chunkCount } from "./chunks.js";

/**
 * `<model>/manifest.json`: every weight file's path, size and SHA-256, and (version 2) the SHA-256
 * of each fixed-size chunk, so a worker verifies every ranged GET as it lands and a resume
 * re-verifies what is on disk (chunks.ts). It is written last, so its presence means "the upload
 * completed"; preflight and workers check files against it.
 *
 * Version 1 (no `version` key, no chunks) is still read where sizes and whole-file hashes are
 * enough (upload's skip and overwrite checks, the replacement's volume size, the HEAD checks). A
 * worker refuses it (`requireChunks`): without chunk hashes it could verify a file only by reading
 * it again once whole and could not resume safely, and the fix is cheap: `synkti upload model`
 * re-run rewrites the manifest as version 2 and uploads no weight byte that is already in S3.
 */
export const MANIFEST_VERSION = 2;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** Characters a shell or `aws s3 --exclude/--include` would expand, and the Windows separator. */
const GLOB_OR_ESCAPE = /[*?[\]{}\\]/;

/**
 * Why `path` cannot name a file inside the model folder; undefined when it can. Paths are relative,
 * '/'-separated, with no empty, '.' or '..' segment, no glob characters and no control characters:
 * a manifest is data from the bucket and must never write outside the folder or match other files.
 */
export function manifestPathProblem(path: string): string | undefined {
  if (path.length === 0) return "is empty";
  if (path.length > 1024) return "is longer than 1024 characters";
  if (path.startsWith("/")) return "is an absolute path";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return "contains a control character";
  if (GLOB_OR_ESCAPE.test(path)) return "contains a glob or escape character (one of * ? [ ] { } \\)";
  for (const segment of path.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return `has a '${segment}' segment`;
  }
  return undefined;
}

const manifestPath = z.string().superRefine((path, ctx) => {
  const problem = manifestPathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: `path '${path}' ${problem}: it must stay inside the model folder` });
});

const fileV1Schema = z.object({ path: manifestPath, size: z.number().int().nonnegative(), sha256: sha256Hex });
export const manifestFileSchema = fileV1Schema.extend({ chunks: z.array(sha256Hex) });

const common = { model: z.string().min(1), createdAt: z.string(), synktiVersion: z.string() };

const manifestV1Schema = z.object({ ...common, files: z.array(fileV1Schema) }).strict();

export const manifestSchema = z
  .object({ version: z.literal(MANIFEST_VERSION), chunkSize: z.number().int().positive(), ...common, files: z.array(manifestFileSchema) })
  .superRefine((m, ctx) => {
    m.files.forEach((f, i) => {
      const want = chunkCount(f.size, m.chunkSize);
      if (f.chunks.length !== want) ctx.addIssue({ code: "custom", path: ["files", i, "chunks"], message: `'${f.path}' lists ${f.chunks.length} chunk hashes, its size needs ${want}` });
    });
    const seen = new Set<string>();
    m.files.forEach((f, i) => {
      if (seen.has(f.path)) ctx.addIssue({ code: "custom", path: ["files", i, "path"], message: `'${f.path}' is listed twice` });
      seen.add(f.path);
    });
  });

export type ManifestFile = z.infer<typeof manifestFileSchema>;
/** Version 2: what synkti writes. */
export type Manifest = z.infer<typeof manifestSchema>;
/** Version 1 as read (an upload by an older synkti): the key is added by the parser. */
export type ManifestV1 = z.infer<typeof manifestV1Schema> & { version: 1 };
export type AnyManifest = Manifest | ManifestV1;

export function buildManifest(model: string, files: ManifestFile[], createdAt: Date, synktiVersion: string, chunkSize: number = CHUNK_SIZE): Manifest {
  const sorted = [...files]
    .map(({ path, size, sha256, chunks }) => ({ path, size, sha256, chunks: [...chunks] }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { version: MANIFEST_VERSION, chunkSize, model, files: sorted, createdAt: createdAt.toISOString(), synktiVersion };
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export type ParsedManifest = { ok: true; manifest: AnyManifest } | { ok: false; problem: string };

export function parseManifest(text: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "is not valid JSON" };
  }
  const isV1 = typeof json === "object" && json !== null && !("version" in json);
  if (isV1) {
    const v1 = manifestV1Schema.safeParse(json);
    return v1.success ? { ok: true, manifest: { ...v1.data, version: 1 } } : { ok: false, problem: shapeProblem(v1.error) };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const version = (json as { version?: unknown }).version;
    if (version !== MANIFEST_VERSION) return { ok: false, problem: `has version ${JSON.stringify(version)}, which this synkti does not read (it reads 1 and ${MANIFEST_VERSION})` };
    return { ok: false, problem: shapeProblem(parsed.error) };
  }
  return { ok: true, manifest: parsed.data };
}

function shapeProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  return `does not match the manifest shape (${issue?.path.join(".") || "root"}: ${issue?.message})`;
}

/** The fix for a version-1 manifest, for a reader that needs chunk hashes. */
export const VERSION_1_PROBLEM = "is version 1 (no per-chunk SHA-256): workers fetch only version 2 manifests; re-running the upload rewrites it and re-sends no weights already in S3";

/** The manifest when it has chunk hashes (version 2); otherwise the problem, for a SynktiError. */
export function requireChunks(manifest: AnyManifest): { ok: true; manifest: Manifest } | { ok: false; problem: string } {
  return manifest.version === MANIFEST_VERSION ? { ok: true, manifest } : { ok: false, problem: VERSION_1_PROBLEM };
}

/**
 * Same model and the same files (paths, sizes, hashes, chunks): rewriting it would change only
 * createdAt. A version-1 manifest never equals a version-2 one, so a re-upload upgrades it.
 */
export function sameContent(a: AnyManifest, b: AnyManifest): boolean {
  if (a.version !== b.version || a.model !== b.model || a.files.length !== b.files.length) return false;
  if (a.version === MANIFEST_VERSION && b.version === MANIFEST_VERSION && a.chunkSize !== b.chunkSize) return false;
  const byPath = (m: AnyManifest) => [...m.files].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const chunksOf = (f: object) => ("chunks" in f ? (f.chunks as string[]).join(",") : "");
  const bs = byPath(b);
  return byPath(a).every((f, i) => {
    const g = bs[i];
    return g !== undefined && f.path === g.path && f.size === g.size && f.sha256 === g.sha256 && chunksOf(f) === chunksOf(g);
  });
}
