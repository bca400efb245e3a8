import type { Clock } from "../../core/clock.js";

/**
 * Progress of an upload, reported by the uploader and rendered by whoever cares. The CLI passes a
 * bar on an interactive stderr and nothing otherwise: in CI the pino log lines are the record, and
 * a bar's carriage returns would only garble the captured log.
 */
export interface ProgressReporter {
  begin(totalFiles: number, totalBytes: number): void;
  /** Cumulative bytes S3 acknowledged for this file so far. */
  fileProgress(path: string, loaded: number): void;
  fileDone(path: string, size: number, how: "uploaded" | "skipped"): void;
  end(): void;
}

export interface BarStream {
  write(text: string): unknown;
  columns?: number;
}

const RENDER_EVERY_MS = 100;

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One line: bar, percent, bytes, upload rate (skipped files excluded), files, ETA. */
export function progressLine(p: { doneBytes: number; totalBytes: number; sentBytes: number; elapsedMs: number; doneFiles: number; totalFiles: number }, width = 80): string {
  const fraction = p.totalBytes > 0 ? Math.min(1, p.doneBytes / p.totalBytes) : 1;
  const rate = p.elapsedMs > 0 ? p.sentBytes / (p.elapsedMs / 1000) : 0;
  const eta = rate > 0 ? (p.totalBytes - p.doneBytes) / rate : Number.NaN;
  const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(p.doneBytes)}/${formatBytes(p.totalBytes)} ${(rate / 1e6).toFixed(1)} MB/s ${p.doneFiles}/${p.totalFiles} files ETA ${formatEta(eta)}`;
  const barWidth = Math.max(10, Math.min(30, width - tail.length - 3));
  const filled = Math.round(fraction * barWidth);
  return `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]${tail}`;
}

export function createProgressBar(stream: BarStream, clock: Clock): ProgressReporter {
  const perFile = new Map<string, number>();
  let totalFiles = 0;
  let totalBytes = 0;
  let doneFiles = 0;
  let skippedBytes = 0;
  let started = 0;
  let lastRender = Number.NEGATIVE_INFINITY;

  const render = (force = false) => {
    const now = clock.now();
    if (!force && now - lastRender < RENDER_EVERY_MS) return;
    lastRender = now;
    let sentBytes = 0;
    for (const loaded of perFile.values()) sentBytes += loaded;
    const line = progressLine({ doneBytes: sentBytes + skippedBytes, totalBytes, sentBytes, elapsedMs: now - started, doneFiles, totalFiles }, stream.columns ?? 80);
    stream.write(`\r\x1b[2K${line}`); // \x1b[2K clears what a longer previous line left behind
  };

  return {
    begin(files, bytes) {
      totalFiles = files;
      totalBytes = bytes;
      started = clock.now();
      render(true);
    },
    fileProgress(path, loaded) {
      perFile.set(path, loaded);
      render();
    },
    fileDone(path, size, how) {
      doneFiles += 1;
      if (how === "skipped") skippedBytes += size;
      else perFile.set(path, size);
      render();
    },
    end() {
      render(true);
      stream.write("\n");
    },
  };
}
