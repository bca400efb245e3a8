/**
 * What `synkti --help` and `synkti --version` evaluate before they answer (issue 13: start-up within
 * 1.3x of bare Node): the modules reachable from their entry by static imports. Dynamic imports
 * (a command's action) are not followed: that is where heavy code belongs. esbuild reads the graph
 * as the build does; npm packages stay external, so each shows up by its name.
 */
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..", "..");

/** The npm packages and source files `entry` evaluates when it is loaded. */
async function loadedBy(entry: string): Promise<{ packages: string[]; files: string[] }> {
  const { metafile } = await build({ entryPoints: [path.join(root, entry)], bundle: true, write: false, metafile: true, platform: "node", format: "esm", packages: "external", logLevel: "silent" });
  const inputs: Metafile["inputs"] = metafile.inputs;
  const packages = new Set<string>();
  const files = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const i of inputs[file]?.imports ?? []) {
      if (i.kind === "dynamic-import") continue;
      if (i.external) {
        if (!i.path.startsWith("node:")) packages.add(i.path.startsWith("@") ? i.path.split("/").slice(0, 2).join("/") : i.path.split("/")[0]!);
      } else if (!files.has(i.path)) {
        files.add(i.path);
        queue.push(i.path);
      }
    }
  }
  return { packages: [...packages].sort(), files: [...files].sort() };
}

describe("start-up module graph", () => {
  it("--version (src/main.ts) evaluates only the version module and the output writer before it answers", async () => {
    expect(await loadedBy("src/main.ts")).toEqual({ packages: [], files: ["src/cli/stdio.ts", "src/core/version.ts", "src/main.ts"] });
  });

  // zod alone was a third of --help's time (12 of 33 ms over bare Node); pino, undici and the AWS SDK
  // are larger still. Commands import them inside their action.
  it("the command tree (what --help runs) needs commander and no other package", async () => {
    const { packages, files } = await loadedBy("src/cli/run.ts");
    expect(packages).toEqual(["commander"]);
    expect(files.length).toBeGreaterThan(20); // the walk did follow the commands' imports
  });
});
