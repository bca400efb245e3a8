/**
 * What a failed worker left in the bucket, as status summarises it and `synkti logs` shows it:
 * recent records only, at most 5 fetched, and nothing a broken or hostile worker wrote reaches the
 * terminal or the JSON unchecked.
 */
import { describe, expect, it } from "vitest";
import { recentFailures } from "../../../src/deployer/logs/failures.js";
import { LOG_MAX_BYTES, RECORD_MAX_BYTES } from "../../../src/deployer/logs/record.js";
import { validateInstanceId, workerLogs } from "../../../src/deployer/logs/show.js";
import { projectNames } from "../../../src/infra/names.js";
import { instantClock } from "./fake-ec2.js";
import { FakeObjects } from "./fake-objects.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const names = projectNames("proj");
const id = (n: number) => `i-${n.toString(16).padStart(17, "0")}`;
const record = (instanceId: string, reason = "refused checksum", exitCode: number | null = 1) => JSON.stringify({ instanceId, at: new Date(NOW - 3600_000).toISOString(), exitCode, reason });
const hoursAgo = (h: number) => new Date(NOW - h * 3600_000);

describe("recent failures (status)", () => {
  it("keeps the 5 newest of the past 24 h, fetching only those, newest first", async () => {
    const s3 = new FakeObjects(names.bucket);
    for (let n = 1; n <= 8; n++) s3.put(names.failureRecordKey(id(n)), record(id(n), `reason ${n}`), hoursAgo(n));
    s3.put(names.failureRecordKey(id(30)), record(id(30)), hoursAgo(30)); // older than a day
    s3.put(names.bootLogKey(id(1)), "a log, not a failure", hoursAgo(0));
    s3.put(`${names.logsPrefix}notes.json`, "{}", hoursAgo(0)); // not an instance's record
    const { failures, unavailable } = await recentFailures({ objects: s3, clock: instantClock(NOW) }, names);
    expect(unavailable).toBeNull();
    expect(failures.map((f) => f.reason)).toEqual(["reason 1", "reason 2", "reason 3", "reason 4", "reason 5"]);
    expect(s3.reads.sort()).toEqual([1, 2, 3, 4, 5].map((n) => names.failureRecordKey(id(n))).sort());
  });

  it("lists an unreadable record as a failure that says why, with the listing's time", async () => {
    const s3 = new FakeObjects(names.bucket);
    s3.put(names.failureRecordKey(id(1)), "not json", hoursAgo(1));
    s3.put(names.failureRecordKey(id(2)), record(id(3)), hoursAgo(2));
    s3.put(names.failureRecordKey(id(4)), "x".repeat(RECORD_MAX_BYTES + 1), hoursAgo(3));
    const { failures } = await recentFailures({ objects: s3, clock: instantClock(NOW) }, names);
    expect(failures).toEqual([
      { instanceId: id(1), at: hoursAgo(1).toISOString(), exitCode: null, reason: "unreadable failure record: it is not JSON" },
      { instanceId: id(2), at: hoursAgo(2).toISOString(), exitCode: null, reason: `unreadable failure record: it names ${id(3)}, not ${id(2)}` },
      { instanceId: id(4), at: hoursAgo(3).toISOString(), exitCode: null, reason: `unreadable failure record: it is ${RECORD_MAX_BYTES + 1} bytes, more than a record's ${RECORD_MAX_BYTES}` },
    ]);
  });

  it("no failures is an empty list, not an error", async () => {
    expect(await recentFailures({ objects: new FakeObjects(names.bucket), clock: instantClock(NOW) }, names)).toEqual({ failures: [], unavailable: null });
  });
});

describe("synkti logs (what one worker left)", () => {
  it("returns the record and the log, cleaned of terminal control sequences", async () => {
    const s3 = new FakeObjects(names.bucket);
    s3.put(names.failureRecordKey(id(1)), record(id(1), "weights do not match\u001b[2J\u001b]0;owned\u0007 manifest\u202e"));
    const raw = "synkti-boot: downloading\r\nsynkti-boot: FATAL: \u001b[31mmismatch\u001b[0m\u0000\n";
    s3.put(names.bootLogKey(id(1)), raw);
    expect(await workerLogs({ objects: s3 }, names, id(1))).toEqual({
      instanceId: id(1),
      failure: { instanceId: id(1), at: new Date(NOW - 3600_000).toISOString(), exitCode: 1, reason: "weights do not match manifest" },
      failureUnreadable: null,
      log: "synkti-boot: downloading\nsynkti-boot: FATAL: mismatch\n",
      logSize: Buffer.byteLength(raw),
      logCut: null,
    });
  });

  it("reads only the last 64 KiB of a longer log, from a whole line", async () => {
    const s3 = new FakeObjects(names.bucket);
    const lines = Array.from({ length: 5000 }, (_, n) => `line ${n} ${"x".repeat(20)}`).join("\n") + "\n";
    s3.put(names.bootLogKey(id(1)), lines);
    const logs = await workerLogs({ objects: s3 }, names, id(1));
    expect(logs.failure).toBeNull();
    expect(logs).toMatchObject({ logSize: Buffer.byteLength(lines), logCut: LOG_MAX_BYTES });
    expect(Buffer.byteLength(logs.log!)).toBeLessThanOrEqual(LOG_MAX_BYTES);
    expect(logs.log).toMatch(/^line \d+ x+\n/);
    expect(logs.log!.endsWith(`line 4999 ${"x".repeat(20)}\n`)).toBe(true);
  });

  it("a record it cannot believe is reported as such, and the log still shown", async () => {
    const s3 = new FakeObjects(names.bucket);
    s3.put(names.failureRecordKey(id(1)), JSON.stringify({ instanceId: id(1), at: "yesterday", exitCode: 1, reason: "x" }));
    s3.put(names.bootLogKey(id(1)), "boot\n");
    expect(await workerLogs({ objects: s3 }, names, id(1))).toMatchObject({ failure: null, failureUnreadable: "at: at is not a time", log: "boot\n" });
  });

  it("nothing stored: exit 1 saying nothing was recorded and what to run", async () => {
    await expect(workerLogs({ objects: new FakeObjects(names.bucket) }, names, id(9))).rejects.toMatchObject({
      kind: "unsafe",
      message: expect.stringMatching(new RegExp(`^Nothing was recorded for ${id(9)} in s3://proj-models/checkpoints/logs/`)),
      remedy: expect.stringMatching(/^synkti status --project-name proj/),
    });
  });

  it("a malformed instance id is a usage error (exit 2) before anything is read", () => {
    for (const bad of ["i-123", "../etc/passwd", "i-0123456789ABCDEF0", "0123456789abcdef0"]) {
      expect(() => validateInstanceId(bad, "proj")).toThrow(expect.objectContaining({ kind: "usage" }));
    }
    expect(validateInstanceId("i-0123456789abcdef0", "proj")).toBe("i-0123456789abcdef0");
  });
});
