/**
 * The failure record is one contract with three writers and readers: the worker's agent writes it,
 * user-data writes it when the agent never ran, the deployer reads it as untrusted input. What
 * either writer leaves must read back as the same record on the operator's side.
 */
import { describe, expect, it } from "vitest";
import { parseFailureRecord } from "../../../src/deployer/logs/record.js";
import { failureRecord } from "../../../src/worker/trace/failure-record.js";

const bytes = (text: string) => {
  const b = Buffer.from(text, "utf8");
  return { bytes: new Uint8Array(b), totalSize: b.length };
};

describe("failure record: what a worker writes is what status and logs read", () => {
  it("the agent's record reads back unchanged, a long reason cut at the same bound on both sides", () => {
    const id = "i-0123456789abcdef0";
    const written = failureRecord(id, Date.parse("2026-11-29T05:12:01Z"), 1, `gave up:\n${"x".repeat(5000)}`);
    const read = parseFailureRecord(bytes(`${JSON.stringify(written)}\n`), id);
    expect(read).toEqual({ problem: null, record: written });
    expect(written.reason.length).toBe(2000);
  });

  it("user-data's record (printf in scripts/user-data.sh.tpl) reads back, its exit code included", () => {
    const id = "i-0fa11ed0";
    const read = parseFailureRecord(bytes(`{"instanceId":"${id}","at":"2026-11-29T05:12:01Z","exitCode":1,"reason":"binary SHA-256 mismatch: expected a, got b"}\n`), id);
    expect(read.record).toEqual({ instanceId: id, at: "2026-11-29T05:12:01.000Z", exitCode: 1, reason: "binary SHA-256 mismatch: expected a, got b" });
  });
});
