import { run } from "./cli/run.js";

// Flush stdout before exiting so piped JSON is never cut short.
run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`synkti: unexpected failure: ${String(error)}\n`);
    process.exitCode = 4;
  },
);
