/**
 * DESIGN.md's dependency rules, enforced by reading every import in src/ (static, re-export and
 * dynamic). A rule names a folder and the top-level folders it must not reach; a violation lists
 * the file and the import, so the fix is obvious.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../../src");

const RULES: Array<{ from: string; never: string[]; why: string }> = [
  { from: "core", never: ["artifacts", "aws", "cli", "cluster", "context", "deployer", "infra", "preflight", "worker", "failover", "repair"], why: "the core depends on nothing" },
  { from: "aws", never: ["artifacts", "cli", "cluster", "context", "deployer", "infra", "preflight", "worker", "failover", "repair"], why: "aws/ knows nothing of the domain" },
  { from: "cluster", never: ["cli", "deployer", "preflight", "worker", "failover"], why: "the wire protocol worker and deployer share" },
  { from: "deployer", never: ["cli", "worker"], why: "deployer/ speaks the protocol in cluster/, never the worker's code" },
  { from: "worker", never: ["cli", "deployer"], why: "the worker runs without the deployer" },
  { from: "failover", never: ["cli", "deployer"], why: "the failover runs on workers" },
  { from: "preflight", never: ["cli", "deployer"], why: "preflight observes; what it shares with the deployer lives in a shared home" },
  { from: "artifacts", never: ["cli", "deployer", "preflight", "worker", "failover"], why: "hashes, manifest and verifiers shared by uploads and preflight" },
  { from: "infra", never: ["cli", "deployer", "worker"], why: "names and permanent resources are below both sides" },
  { from: "context", never: ["cli", "deployer", "worker"], why: "where am I comes before any role" },
  { from: "repair", never: ["aws", "cli", "context", "deployer", "preflight", "worker", "failover"], why: "the repair rule is pure: the worker executes it, the deployer reads its pause rule" },
];

/**
 * Known debt, named so it cannot grow (empty now: add an entry only with a reason and a plan).
 */
const PENDING = new Set<string>([]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** Every relative import in src/, as `folder/file.ts -> folder/file.ts` (paths below src/). */
export function importsOf(root: string): Array<{ file: string; target: string }> {
  return sources(root).flatMap((path) =>
    [...readFileSync(path, "utf8").matchAll(IMPORT)].map((m) => ({
      file: relative(root, path),
      target: relative(root, resolve(dirname(path), m[1]!)).replace(/\.js$/, ".ts"),
    })),
  );
}

const top = (path: string) => path.split("/")[0]!;

describe("dependency rules (DESIGN.md)", () => {
  const edges = importsOf(SRC);

  it("finds the imports it judges (a broken scanner would pass everything)", () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ file: "deployer/fleet/health.ts", target: "cluster/peer-client.ts" });
  });

  for (const rule of RULES) {
    it(`${rule.from}/ never imports ${rule.never.join(", ")}/: ${rule.why}`, () => {
      const violations = edges
        .filter((e) => top(e.file) === rule.from && rule.never.includes(top(e.target)))
        .map((e) => `${e.file} -> ${e.target}`)
        .filter((edge) => !PENDING.has(edge));
      expect(violations).toEqual([]);
    });
  }

  it("repair/ imports no package but zod and node:crypto (pure: no SDK, no I/O)", () => {
    const PACKAGE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^."'][^"']*)["']/g;
    const packages = sources(join(SRC, "repair")).flatMap((path) =>
      [...readFileSync(path, "utf8").matchAll(PACKAGE)].map((m) => `${relative(SRC, path)} -> ${m[1]}`),
    );
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.filter((edge) => !/ -> (zod|node:crypto)$/.test(edge))).toEqual([]);
  });

  it("the known debt is still there (remove an entry once it is paid)", () => {
    const present = new Set(edges.map((e) => `${e.file} -> ${e.target}`));
    expect([...PENDING].filter((edge) => !present.has(edge))).toEqual([]);
  });
});
