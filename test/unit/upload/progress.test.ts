import { describe, expect, it } from "vitest";
import { createProgressBar, formatBytes, progressLine } from "../../../src/deployer/upload/progress.js";
import { FakeClock } from "../../support/fake-clock.js";

describe("progress", () => {
  it("formats bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
  });

  it("renders bar, percent, bytes, rate, files and ETA on one line that fits", () => {
    const line = progressLine({ doneBytes: 50e6, totalBytes: 100e6, sentBytes: 40e6, elapsedMs: 2000, doneFiles: 1, totalFiles: 3 }, 80);
    expect(line).toMatch(/^\[#+\.+\]  50% 47\.7 MiB\/95\.4 MiB 20\.0 MB\/s 1\/3 files ETA 00:03$/);
    expect(line.length).toBeLessThanOrEqual(80);
  });

  it("redraws at most every 100 ms and ends with a newline", async () => {
    const clock = new FakeClock();
    const writes: string[] = [];
    const bar = createProgressBar({ write: (t) => writes.push(t), columns: 100 }, clock);
    bar.begin(2, 2000);
    bar.fileProgress("a", 100);
    bar.fileProgress("a", 200); // same instant: throttled
    expect(writes).toHaveLength(1);
    await clock.advance(150);
    bar.fileDone("b", 1000, "skipped");
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatch(/\r\x1b\[2K\[.*\]  60% .* 1\/2 files/);
    bar.end();
    expect(writes.at(-1)).toBe("\n");
  });
});
