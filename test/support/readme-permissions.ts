/**
 * The permissions an administrator grants the operator, as the README lists them once (between
 * `<!-- deployer-actions -->` and `<!-- infra-actions -->` markers): read by the test that keeps
 * them equal to the code's lists and by the offline proof that they cover every recorded call.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const README = readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf8");

/** The actions between `<!-- name -->` and `<!-- /name -->`, as the README shows them. */
export function listedActions(name: "deployer-actions" | "infra-actions"): string[] {
  const block = README.split(`<!-- ${name} -->`)[1]?.split(`<!-- /${name} -->`)[0] ?? "";
  return [...block.matchAll(/`([a-z0-9]+:[A-Za-z0-9]+)`/g)].map((m) => m[1]!);
}
