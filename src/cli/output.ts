import { isSynktiError, messageOf } from "../core/errors.js";

export type OutputFormat = "text" | "json";

export interface CommonOptions {
  output: OutputFormat;
  debug: boolean;
}

/** Results only go to stdout: one JSON document, or text lines. */
export function printResult(format: OutputFormat, json: unknown, text: () => string): void {
  if (format === "json") process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else process.stdout.write(`${text()}\n`);
}

/**
 * Errors go to stderr as message + remedy. With --output json the error is also a JSON document on
 * stdout so scripts get a shape instead of nothing. Stacks only with --debug.
 */
export function printError(error: unknown, options: Partial<CommonOptions> & { project?: string }): void {
  if (isSynktiError(error) && error.silent) return;
  const message = messageOf(error);
  const written = isSynktiError(error) ? error.remedy : undefined;
  const remedy = written && options.project ? written.replaceAll("<project>", options.project) : written;
  const code = isSynktiError(error) ? error.code : "internal-error";
  const lines = [`Error: ${message}`];
  if (remedy) lines.push(`Run: ${remedy}`);
  if (!isSynktiError(error) || error.kind === "internal") {
    lines.push("This is a bug in synkti; please report it with the output of --debug.");
  }
  if (options.debug && error instanceof Error && error.stack) lines.push(error.stack);
  process.stderr.write(`${lines.join("\n")}\n`);
  if (options.output === "json") {
    process.stdout.write(`${JSON.stringify({ error: { code, message, remedy } }, null, 2)}\n`);
  }
}
