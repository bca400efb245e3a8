/**
 * `synkti status --watch`: one document per refresh, at the interval (measured from the start of a
 * read), a failed refresh shown without ending the view, and an end as soon as Ctrl-C aborts it.
 */
import { describe, expect, it } from "vitest";
import { watchStatus } from "../../../src/deployer/fleet/watch.js";
import { FakeClock } from "../../support/fake-clock.js";

describe("status --watch loop", () => {
  it("emits a document at start and then every interval, until aborted", async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const emitted: number[] = [];
    const read = async () => {
      await clock.sleep(300); // a read takes 0.3 s: the period stays 2 s
      return clock.now();
    };
    const done = watchStatus({ clock }, read, (at) => emitted.push(at), () => {}, { intervalMs: 2000, signal: stop.signal });
    await clock.advance(6_500);
    const start = Date.parse("2026-01-01T00:00:00Z");
    expect(emitted.map((at) => at - start)).toEqual([300, 2300, 4300, 6300]);
    stop.abort();
    expect(await done).toBe(4);
    await clock.advance(10_000);
    expect(emitted).toHaveLength(4);
  });

  it("stops after `count` documents", async () => {
    const clock = new FakeClock();
    const docs: string[] = [];
    const done = watchStatus({ clock }, async () => "doc", (d) => docs.push(d), () => {}, { intervalMs: 1000, signal: new AbortController().signal, count: 3 });
    await clock.advance(5_000);
    expect(await done).toBe(3);
    expect(docs).toEqual(["doc", "doc", "doc"]);
  });

  it("a failed refresh is reported and the next one tried; a failed first read ends the watch with its error", async () => {
    const clock = new FakeClock();
    let n = 0;
    const errors: unknown[] = [];
    const docs: number[] = [];
    const stop = new AbortController();
    const done = watchStatus({ clock }, async () => (++n === 2 ? Promise.reject(new Error("Throttling")) : n), (d) => docs.push(d), (e) => errors.push(e), { intervalMs: 1000, signal: stop.signal });
    await clock.advance(2_500);
    expect(docs).toEqual([1, 3]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["Throttling"]);
    stop.abort();
    await done;

    await expect(watchStatus({ clock }, async () => Promise.reject(new Error("no credentials")), () => {}, () => {}, { intervalMs: 1000, signal: new AbortController().signal })).rejects.toThrow("no credentials");
  });
});
