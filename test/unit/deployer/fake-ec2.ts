/**
 * An in-memory EC2 behind the Ec2Instances interface, for unit tests of launch, scope, down, leaks.
 *
 * Behaviour spec:
 * - `run(spec)` creates an instance in `spec`'s zone (the zone of its subnet: subnets are named
 *   `subnet-<zone>`) with the spec's tags, state `pending`; each later `describe` that lists it moves
 *   it to `running` (AWS: pending -> running takes a while; here one observation).
 * - `capacityIn` (a set of zones): `run` there fails with an error named InsufficientInstanceCapacity
 *   (HTTP 500, like AWS) and creates nothing.
 * - `gate`: when set, every `run` waits for it before answering (to land an abort mid-launch). With
 *   `loseAnswers`, `run` creates the instance and then fails as if the connection dropped.
 * - `terminate(ids)`: known ids go to `shutting-down`, then `terminated` on the next `describe`;
 *   unknown ids answer `not-found`. `stuck` ids stay in `shutting-down` forever.
 * - `describe` filters by every tag and by state, like DescribeInstances filters.
 * - `calls` counts calls per method; `volumes`/`spotRequests` return what the test put in.
 */
import type { Ec2Instances, InstanceQuery, InstanceState, InstanceSummary, RunSpec, SpotRequestSummary, VolumeSummary } from "../../../src/aws/ec2-instances.js";
import type { Clock } from "../../../src/core/clock.js";

export const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];

export class FakeEc2 implements Ec2Instances {
  readonly instances = new Map<string, InstanceSummary>();
  readonly capacityIn = new Set<string>();
  readonly stuck = new Set<string>();
  readonly calls: Record<string, number> = {};
  readonly runSpecs: RunSpec[] = [];
  volumeList: VolumeSummary[] = [];
  spotRequestList: SpotRequestSummary[] = [];
  gate: Promise<void> | undefined;
  loseAnswers = false;
  private seq = 0;

  constructor(readonly zones: string[] = ZONES) {}

  /** An instance made by someone else (another launch, another project). */
  add(zone: string, tags: Record<string, string>, state: InstanceState = "running"): string {
    const id = `i-${(++this.seq).toString(16).padStart(8, "0")}`;
    this.instances.set(id, { instanceId: id, state, availabilityZone: zone, instanceType: "g5.xlarge", launchTime: new Date(0), privateIp: `10.0.0.${this.seq}`, market: "spot", tags: { ...tags } });
    return id;
  }

  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  async describe(query: InstanceQuery): Promise<InstanceSummary[]> {
    this.count("describe");
    const out: InstanceSummary[] = [];
    for (const i of this.instances.values()) {
      if (!Object.entries(query.tags).every(([k, v]) => i.tags[k] === v)) continue;
      if (query.states && !query.states.includes(i.state)) continue;
      out.push({ ...i, tags: { ...i.tags } });
    }
    // Transitions happen after an observation, so each caller sees one state per call.
    for (const i of this.instances.values()) {
      if (i.state === "pending") i.state = "running";
      else if (i.state === "shutting-down" && !this.stuck.has(i.instanceId)) i.state = "terminated";
    }
    return out;
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<InstanceSummary> {
    this.count("run");
    this.runSpecs.push(spec);
    if (this.gate) await abortable(this.gate, signal);
    const zone = (spec.subnetId ?? "").replace(/^subnet-/, "");
    if (this.capacityIn.has(zone)) {
      throw Object.assign(new Error(`no capacity in ${zone}`), { name: "InsufficientInstanceCapacity", $metadata: { httpStatusCode: 500 } });
    }
    const id = this.add(zone, spec.tags, "pending");
    if (this.loseAnswers) throw Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
    return { ...this.instances.get(id)! };
  }

  async terminate(ids: string[]) {
    this.count("terminate");
    return ids.map((id) => {
      const i = this.instances.get(id);
      if (!i) return { instanceId: id, state: "not-found" as const };
      if (i.state !== "terminated") i.state = "shutting-down";
      return { instanceId: id, state: i.state };
    });
  }

  async tag(ids: string[], tags: Record<string, string>) {
    this.count("tag");
    for (const id of ids) Object.assign(this.instances.get(id)?.tags ?? {}, tags);
  }

  async zonesOffering() {
    return [...this.zones];
  }

  async defaultSubnets() {
    return Object.fromEntries(this.zones.map((z) => [z, `subnet-${z}`]));
  }

  async securityGroupId() {
    return "sg-fake";
  }

  async volumes(query: { tags: Record<string, string>; states?: string[] }) {
    return this.volumeList.filter((v) => Object.entries(query.tags).every(([k, val]) => v.tags[k] === val) && (!query.states || query.states.includes(v.state)));
  }

  async spotRequests(query: { tags: Record<string, string>; states?: string[] }) {
    return this.spotRequestList.filter((r) => Object.entries(query.tags).every(([k, val]) => r.tags[k] === val) && (!query.states || query.states.includes(r.state)));
  }

  /** Instances matching tags, not terminated. */
  live(tags: Record<string, string> = {}): InstanceSummary[] {
    return [...this.instances.values()].filter((i) => i.state !== "terminated" && Object.entries(tags).every(([k, v]) => i.tags[k] === v));
  }
}

function abortable(gate: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return gate;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })), { once: true });
    gate.then(resolve, reject);
  });
}

/** A clock whose sleeps return at once and move time forward: polling loops run without waiting. */
export function instantClock(start = Date.parse("2026-01-01T00:00:00Z")): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
    },
  };
}
