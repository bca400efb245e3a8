import { describe, expect, it } from "vitest";
import { FakeConditional } from "./fake-conditional.js";

describe("FakeConditional (S3 conditional writes in memory)", () => {
  it("creates only when absent, replaces only the version read, and a write in between loses the race", async () => {
    const s3 = new FakeConditional("b");
    expect(await s3.putIfAbsent("b", "k", "1")).toBe("created");
    expect(await s3.putIfAbsent("b", "k", "2")).toBe("exists");
    const read = await s3.readIfChanged("b", "k", { maxBytes: 10 });
    if (read.kind !== "changed" || !read.etag) throw new Error("expected an object");
    expect(await s3.readIfChanged("b", "k", { etag: read.etag, maxBytes: 10 })).toEqual({ kind: "unchanged" });
    s3.beforeWrite = () => s3.set("k", "someone else");
    expect(await s3.putIfMatch("b", "k", "3", read.etag)).toBe("changed");
    s3.beforeWrite = undefined;
    expect(s3.text("k")).toBe("someone else");
    expect(s3.writes).toEqual(["k"]);
  });

  it("another bucket, or a missing one, reads absent and refuses writes with NoSuchBucket", async () => {
    const s3 = new FakeConditional("b");
    expect(await s3.readIfChanged("other", "k", { maxBytes: 1 })).toEqual({ kind: "absent" });
    s3.missingBucket = true;
    await expect(s3.putIfAbsent("b", "k", "x")).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});
