import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * Logs go to stderr only (stdout holds results). JSON lines off a TTY for machines; readable lines
 * on a TTY. pino-pretty runs as an in-process stream: worker-thread transports do not work in a SEA.
 */
export function createLogger(options: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  // Validated up front (src/cli/environment.ts); empty means unset, as for every variable.
  const level = options.level ?? (process.env.SYNKTI_LOG_LEVEL?.trim() || "info");
  const stream = options.stream ?? process.stderr;
  const isTty = (stream as { isTTY?: boolean }).isTTY === true;
  const destination = isTty
    ? pretty({ destination: 2, colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" })
    : stream;
  return pino({ level, base: undefined }, destination);
}

/** A logger that drops everything, for tests and library callers that do not care. */
export const silentLogger: Logger = pino({ level: "silent" });
