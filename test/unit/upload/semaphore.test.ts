import { describe, expect, it } from "vitest";
import { Semaphore } from "../../../src/core/semaphore.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Semaphore", () => {
  it("grants up to capacity and queues the rest in FIFO order", async () => {
    const s = new Semaphore(4);
    const order: string[] = [];
    const big = await s.acquire(3);
    const small = s.acquire(1).then((r) => (order.push("small"), r));
    const bigger = s.acquire(4).then((r) => (order.push("bigger"), r)); // must wait for all 4
    const after = s.acquire(1).then((r) => (order.push("after"), r)); // FIFO: waits behind "bigger"
    await tick();
    expect(order).toEqual(["small"]);
    big();
    await tick();
    expect(order).toEqual(["small"]);
    (await small)();
    await tick();
    expect(order).toEqual(["small", "bigger"]);
    (await bigger)();
    await after;
    expect(order).toEqual(["small", "bigger", "after"]);
  });

  it("caps a weight above capacity at capacity, so a huge file still runs", async () => {
    const s = new Semaphore(2);
    const release = await s.acquire(100);
    release();
    release(); // idempotent: a double release must not inflate capacity
    const a = await s.acquire(2);
    let third = false;
    void s.acquire(1).then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    a();
  });

  it("drops an aborted waiter and lets the ones behind it through", async () => {
    const s = new Semaphore(2);
    const held = await s.acquire(1);
    const controller = new AbortController();
    const blocked = s.acquire(2, controller.signal);
    const small = s.acquire(1);
    controller.abort(new Error("stop"));
    await expect(blocked).rejects.toThrow("stop");
    await expect(small).resolves.toBeTypeOf("function");
    held();
  });

  it("refuses a nonsensical capacity", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
