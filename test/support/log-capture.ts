/**
 * A logger whose lines a test can read: `captureLogs(level?)` gives `{ log, lines }`, `log` a real
 * pino logger (the production `createLogger`, JSON lines as off a terminal) at `level` (default
 * debug), `lines` each line parsed: pino's numeric `level` (20 debug, 30 info, 40 warn, 50 error),
 * `msg`, the bound `component` when there is one, and `at` (Date.now() when written).
 * `atLeast(lines, "info")` keeps the lines at that level or above.
 */
import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/core/log.js";

export interface LogLine {
  level: number;
  msg: string;
  component?: string;
  at: number;
  fields: Record<string, unknown>;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function captureLogs(level: keyof typeof LEVELS = "debug"): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  let partial = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString("utf8");
      let end: number;
      while ((end = partial.indexOf("\n")) >= 0) {
        const fields = JSON.parse(partial.slice(0, end)) as Record<string, unknown>;
        partial = partial.slice(end + 1);
        const component = typeof fields.component === "string" ? fields.component : undefined;
        lines.push({ level: Number(fields.level), msg: String(fields.msg ?? ""), at: Date.now(), fields, ...(component ? { component } : {}) });
      }
      done();
    },
  });
  return { log: createLogger({ level, stream }), lines };
}

export const atLeast = (lines: readonly LogLine[], level: keyof typeof LEVELS) => lines.filter((l) => l.level >= LEVELS[level]);
