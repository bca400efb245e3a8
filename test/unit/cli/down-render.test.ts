import { describe, expect, it } from "vitest";
import { renderDown } from "../../../src/cli/commands/down.js";
import type { DownResult } from "../../../src/deployer/fleet/down.js";

const drained = { targetGroup: "demo-synkti-vllm", targets: ["i-a", "i-b"], delaySeconds: 90, drained: true, waitedMs: 12_400, stillDraining: [], warning: null };
const result = (extra: Partial<DownResult>): DownResult => ({
  project: "demo",
  dryRun: false,
  desired: { workers: 0, setAt: "2026-11-29T10:00:00.000Z" },
  desiredProblem: null,
  deregistration: drained,
  found: [
    { instanceId: "i-a", state: "running", availabilityZone: "us-east-1a" },
    { instanceId: "i-b", state: "running", availabilityZone: "us-east-1b" },
  ],
  terminated: ["i-a", "i-b"],
  remaining: [],
  error: null,
  fix: null,
  ...extra,
});

describe("down text", () => {
  it("says what it deregistered and how long requests took to finish, before what it terminated", () => {
    expect(renderDown(result({})).split("\n").slice(0, 3)).toEqual([
      "Desired workers set to 0 (cluster/desired.json): no worker repairs or replaces anything.",
      "Deregistered 2 target(s) from demo-synkti-vllm (i-a, i-b); in-flight requests finished after 12 s.",
      "Terminated 2 instance(s) of demo: i-a, i-b",
    ]);
  });

  it("--dry-run: what it would deregister and the longest it would wait, then what it would terminate", () => {
    expect(renderDown(result({ dryRun: true, terminated: [] }))).toBe(
      [
        "Would deregister 2 target(s) from demo-synkti-vllm (i-a, i-b) and wait for their in-flight requests (at most 90 s) before terminating.",
        "Would terminate 2 instance(s) of demo: i-a (running), i-b (running)",
      ].join("\n"),
    );
  });

  it("a deregistration that failed or was cut short is a warning; the termination is still reported", () => {
    const warning = "could not deregister the targets from demo-synkti-vllm (AccessDenied); terminating anyway: in-flight requests may be cut";
    const text = renderDown(result({ deregistration: { ...drained, drained: false, warning } }));
    expect(text).toContain(`Warning: ${warning}`);
    expect(text).toContain("Terminated 2 instance(s) of demo: i-a, i-b");
    expect(renderDown(result({ desired: null, deregistration: { ...drained, targetGroup: null, targets: [] } }))).toMatch(/^No target group: nothing to deregister\.\nTerminated/);
  });

  it("a desired size that could not be set is a warning first; the termination is still reported", () => {
    const text = renderDown(result({ desired: null, desiredProblem: "no bucket demo-models, so no desired size to set" }));
    expect(text.split("\n")[0]).toBe("Warning: no bucket demo-models, so no desired size to set.");
    expect(text).toContain("Terminated 2 instance(s) of demo: i-a, i-b");
  });
});
