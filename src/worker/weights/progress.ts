import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";

/**
 * The fetch's progress in the boot log: one line every `everyMs` while it runs (bytes, rate,
 * chunks), so a slow or stuck boot reads as such in `synkti logs` without a line per chunk.
 */
export class FetchProgress {
  fetchedBytes = 0;
  verifiedOnDiskBytes = 0;
  chunksDone = 0;
  private readonly started: number;

  constructor(
    private readonly deps: { clock: Clock; log: Logger },
    readonly totalBytes: number,
    readonly totalChunks: number,
  ) {
    this.started = deps.clock.now();
  }

  seconds(): number {
    return (this.deps.clock.now() - this.started) / 1000;
  }

  line(): string {
    const done = this.fetchedBytes + this.verifiedOnDiskBytes;
    const pct = this.totalBytes > 0 ? Math.floor((100 * done) / this.totalBytes) : 100;
    const seconds = this.seconds();
    const rate = seconds > 0 ? this.fetchedBytes / seconds / 1e6 : 0;
    const gb = (bytes: number) => (bytes / 1e9).toFixed(this.totalBytes >= 1e10 ? 1 : 2);
    return `weights: ${gb(done)} of ${gb(this.totalBytes)} GB (${pct}%), ${rate.toFixed(0)} MB/s, ${this.chunksDone} of ${this.totalChunks} chunks verified`;
  }

  /** Logs a line every `everyMs` until `signal` aborts. */
  async report(everyMs: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await this.deps.clock.sleep(everyMs, signal);
      } catch {
        return;
      }
      this.deps.log.info({ fetchedBytes: this.fetchedBytes, chunks: this.chunksDone }, this.line());
    }
  }
}
