import { describe, expect, it } from "vitest";
import { FakeObjects } from "./fake-objects.js";

describe("FakeObjects (the in-memory bucket of the unit tests)", () => {
  it("lists keys under a prefix in key order, with size and LastModified; another bucket is no-bucket", async () => {
    const s3 = new FakeObjects("b");
    s3.put("p/b", "22", new Date(2000));
    s3.put("p/a", "1", new Date(1000));
    s3.put("q/c", "333");
    expect(await s3.list("b", "p/", { maxKeys: 10 })).toEqual({
      objects: [
        { key: "p/a", size: 1, lastModified: new Date(1000) },
        { key: "p/b", size: 2, lastModified: new Date(2000) },
      ],
      truncated: false,
    });
    expect(await s3.list("other", "p/", { maxKeys: 10 })).toBe("no-bucket");
  });

  it("stops listing after the page that reaches maxKeys, saying it is truncated", async () => {
    const s3 = new FakeObjects("b");
    s3.pageSize = 2;
    for (const k of ["a", "b", "c", "d", "e"]) s3.put(k, "x");
    expect(await s3.list("b", "", { maxKeys: 3 })).toMatchObject({ objects: [{ key: "a" }, { key: "b" }, { key: "c" }, { key: "d" }], truncated: true });
  });

  it("reads at most maxBytes from the start or the end, with the whole size; unknown keys are undefined", async () => {
    const s3 = new FakeObjects("b");
    s3.put("k", "0123456789");
    expect(await s3.read("b", "k", { maxBytes: 4, from: "start" })).toEqual({ bytes: new Uint8Array(Buffer.from("0123")), totalSize: 10 });
    expect(await s3.read("b", "k", { maxBytes: 4, from: "end" })).toEqual({ bytes: new Uint8Array(Buffer.from("6789")), totalSize: 10 });
    expect(await s3.read("b", "nope", { maxBytes: 4, from: "end" })).toBeUndefined();
    expect(s3.reads).toEqual(["k", "k", "nope"]);
  });

  it("fails every call with failWith", async () => {
    const s3 = new FakeObjects("b");
    s3.failWith = Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    await expect(s3.list("b", "", { maxKeys: 1 })).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(s3.read("b", "k", { maxBytes: 1, from: "start" })).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
