import { writeStdio } from "./cli/stdio.js";
import { versionInfo } from "./core/version.js";

// `synkti --version` answers before anything else is evaluated: scripts and installers call it
// often, and the command tree (commander, zod schemas, pino) is most of the start-up cost. Any other
// arguments (including `--version` with more flags) go through the CLI, which prints the same.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // Straight to a pipe or file (no stream to make); a reader that is gone is no error (exit 0).
  writeStdio("stdout", `${versionInfo().version}\n`, () => process.exit(0));
} else {
  // A dynamic import: only this path evaluates the CLI's modules. In the built binary they are not
  // even compiled before it: scripts/build.mjs stores them as a separate SEA asset.
  import("./cli/run.js")
    .then(({ run }) => run(process.argv))
    .then(
      (code) => {
        // Flush stdout before exiting so piped JSON is never cut short: set the code, do not exit.
        process.exitCode = code;
      },
      (error: unknown) => {
        process.stderr.write(`synkti: unexpected failure: ${String(error)}\n`);
        process.exitCode = 4;
      },
    );
}
