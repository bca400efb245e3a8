import type { HttpHandlerOptions } from "@smithy/types";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { annotateCall, AwsNoAnswer, type AwsDeadlines } from "./deadlines.js";

/**
 * The SDK's HTTP handler with deadlines that really end a request (see deadlines.ts).
 *
 * Why the SDK's own settings were not enough: NodeHttpHandler's `requestTimeout` only logs a
 * warning unless `throwOnRequestTimeout` is set (and the SDK's default logger drops warnings), and
 * without `socketTimeout` nothing watches a connected socket: against an endpoint that accepts and
 * never answers, a call waited forever, and its open socket kept the process alive after the result
 * was printed. `connectionTimeout` fired only for a connection that never came up.
 *
 * Here connect and idle deadlines are NodeHttpHandler's (`connectionTimeout`, `socketTimeout`), and
 * the answer deadline is our own timer that aborts the attempt, so a caller is released at the
 * deadline even when the handler would first wait out an `Expect: 100-continue`. Every failure
 * that is not AWS's answer carries the endpoint it was sent to; a missed deadline becomes
 * AwsNoAnswer, which names it.
 */
export async function createHttpHandler(deadlines: AwsDeadlines, options: { answerDeadline: boolean }): Promise<NodeHttpHandler> {
  const { NodeHttpHandler } = await import("@smithy/node-http-handler");
  const answerMs = options.answerDeadline ? deadlines.answerMs : 0;

  class DeadlineHttpHandler extends NodeHttpHandler {
    override async handle(request: Parameters<NodeHttpHandler["handle"]>[0], handlerOptions: HttpHandlerOptions = {}) {
      const endpoint = endpointOf(request);
      const given = handlerOptions.abortSignal;
      const parent = given instanceof AbortSignal ? given : undefined;
      // A legacy signal cannot be combined with ours: it keeps its say, connect and idle deadlines still apply.
      if (answerMs <= 0 || parent?.aborted || (given && !parent)) return this.explained(super.handle(request, handlerOptions), endpoint);

      const answer = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const missed = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new AwsNoAnswer(endpoint, "answer", answerMs);
          answer.abort(error); // the handler destroys the request
          reject(error);
        }, answerMs);
      });
      const signal = parent ? AbortSignal.any([parent, answer.signal]) : answer.signal;
      try {
        return await Promise.race([this.explained(super.handle(request, { ...handlerOptions, abortSignal: signal }), endpoint), missed]);
      } finally {
        clearTimeout(timer);
        missed.catch(() => {}); // settled or never will: no unhandled rejection
      }
    }

    private async explained<T>(attempt: Promise<T>, endpoint: string): Promise<T> {
      try {
        return await attempt;
      } catch (error) {
        throw explain(error, endpoint, deadlines);
      }
    }
  }

  return new DeadlineHttpHandler({
    connectionTimeout: deadlines.connectMs,
    socketTimeout: deadlines.idleMs,
  });
}

/** `http://127.0.0.1:4566`, `https://ec2.us-east-1.amazonaws.com`: where the request went. */
export function endpointOf(request: { protocol?: string; hostname?: string; port?: number }): string {
  const host = request.hostname?.includes(":") && !request.hostname.startsWith("[") ? `[${request.hostname}]` : request.hostname;
  return `${request.protocol ?? "https:"}//${host ?? "?"}${request.port ? `:${request.port}` : ""}`;
}

/**
 * NodeHttpHandler names its connect and idle deadlines only in the message (both are
 * "TimeoutError"); these patterns are pinned by a unit test against the installed version.
 */
const CONNECT_TIMEOUT = /did not establish a connection/;
const IDLE_TIMEOUT = /timed out after \d+ ms of inactivity/;

export function explain(error: unknown, endpoint: string, deadlines: AwsDeadlines): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof AwsNoAnswer) return error;
  if (error.name === "TimeoutError" && CONNECT_TIMEOUT.test(error.message)) return new AwsNoAnswer(endpoint, "connect", deadlines.connectMs, { cause: error });
  if (error.name === "TimeoutError" && IDLE_TIMEOUT.test(error.message)) return new AwsNoAnswer(endpoint, "idle", deadlines.idleMs, { cause: error });
  return annotateCall(error, { endpoint });
}
