import { chunkRange } from "../../artifacts/chunks.js";
import type { RangeReader } from "../../aws/s3-ranges.js";
import type { Clock } from "../../core/clock.js";
import { isSynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { landSpan, withFile } from "./chunk-io.js";
import type { GetSpan } from "./get-plan.js";
import type { HashWriters } from "./hash-writers.js";
import type { FetchProgress } from "./progress.js";
import { checkInfra, diskError, isWriteError, weightsRefused, weightsUnreachable, type FetchWhere } from "./refusals.js";
import type { FileTarget } from "./targets.js";

export interface SpanContext {
  deps: { ranges: RangeReader; clock: Clock; log: Logger };
  bucket: string;
  chunkSize: number;
  /** Failed GETs in a row, with no chunk verified in between, before the fetch gives up. */
  attempts: number;
  progress: FetchProgress;
  /** The threads that hash and write each GET's bytes. */
  writers: HashWriters;
  signal: AbortSignal;
  where: FetchWhere;
}

/**
 * One ranged GET of consecutive chunks of one file, each chunk checked against the manifest the
 * moment its last byte is written: a chunk that does not match is refused at once, naming the file
 * and the chunk (a retry would fetch the same bytes). A GET that fails (a connection lost mid-body,
 * an answer cut short, S3 busy) is asked again from the first chunk not yet verified: the chunks
 * already verified stay on disk and are not fetched again. S3 refusing the request (another owner,
 * a policy) is not retried; it is said with where to look.
 */
export async function fetchSpan(ctx: SpanContext, target: FileTarget, span: GetSpan): Promise<void> {
  const { file, key, absolute } = target;
  const { progress, signal, where, chunkSize } = ctx;
  const url = `s3://${ctx.bucket}/${key}`;
  const rangeOf = (first: number, last: number) => ({ start: chunkRange(file.size, first, chunkSize).start, end: chunkRange(file.size, last, chunkSize).end });
  const name = (first: number, last: number) => {
    const { start, end } = rangeOf(first, last);
    return `${first === last ? `chunk ${first + 1}` : `chunks ${first + 1}-${last + 1}`} of ${file.chunks.length} (bytes ${start}-${end - 1})`;
  };
  let next = span.first; // the first chunk of the span not yet verified
  let failures = 0; // in a row, with no chunk verified since
  for (;;) {
    const range = rangeOf(next, span.last);
    const ends = Array.from({ length: span.last - next + 1 }, (_, k) => chunkRange(file.size, next + k, chunkSize).end);
    let unverified = 0; // bytes of the chunk in progress, taken back from the progress if the GET fails
    let received = 0;
    try {
      const got = await ctx.deps.ranges.getRange(ctx.bucket, key, range, signal);
      if (got === undefined) throw weightsRefused("weights-missing", `${url} is missing: the manifest lists '${file.path}' (${file.size} bytes).`, where);
      if (got.objectSize !== undefined && got.objectSize !== file.size) {
        discard(got.body);
        throw weightsRefused("weights-size", `${url} is ${got.objectSize} bytes, the manifest says ${file.size} for '${file.path}': other bytes were put under its name; refusing them.`, where);
      }
      // A server or proxy that ignored the Range sends other bytes from the first one: refused before any is written.
      if (got.range?.start !== range.start || got.range.end !== range.end) {
        discard(got.body);
        throw new Error(`the answer holds ${got.range ? `bytes ${got.range.start}-${got.range.end - 1}` : "no range (a server that ignored it?)"}, not the bytes ${range.start}-${range.end - 1} asked for`);
      }
      const verify = (_k: number, sha256: string) => {
        if (sha256 !== file.chunks[next]) {
          throw weightsRefused(
            "weights-corrupted",
            `Weights file '${file.path}': ${name(next, next)} does not hash to the manifest's SHA-256 (${url} holds other bytes than were uploaded: corrupted or replaced); refusing to serve it.`,
            where,
          );
        }
        next += 1;
        unverified = 0;
        failures = 0; // progress: a failure from here on is the next chunk's first
        progress.chunksDone += 1;
      };
      const count = (n: number) => {
        unverified += n;
        received += n;
        progress.fetchedBytes += n;
      };
      await withFile(absolute, "r+", (handle) => landSpan(handle, ctx.writers, range.start, ends, got.body, verify, signal, count)).catch((error: unknown) =>
        Promise.reject(isWriteError(error) ? diskError(error, absolute) : error),
      );
      if (next <= span.last) throw new Error(`the answer ended after ${received} of the ${range.end - range.start} bytes asked for`);
      return;
    } catch (error) {
      progress.fetchedBytes -= unverified;
      failures += 1;
      if (signal.aborted || (isSynktiError(error) && error.kind !== "unobservable")) throw error;
      const which = name(next, span.last);
      if (isSynktiError(error) && error.code === "aws-auth") throw weightsUnreachable(`S3 refused ${which} of '${file.path}' (${url}): ${error.message}`, where, error, checkInfra(where));
      if (failures >= ctx.attempts) throw weightsUnreachable(`Could not download '${file.path}' ${which} from ${url} after ${ctx.attempts} attempts: ${(error as Error).message}`, where, error);
      ctx.deps.log.warn({ file: file.path, chunk: next, attempt: failures, error: (error as Error).message }, `retrying ${which} of '${file.path}'`);
      await ctx.deps.clock.sleep(1000 * failures, signal);
    }
  }
}

/** An answer not read: its connection is closed rather than left to an idle deadline. */
function discard(body: AsyncIterable<Uint8Array>): void {
  (body as { destroy?: () => void }).destroy?.();
}
