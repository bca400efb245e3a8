/**
 * What preflight hands to the launch: the binary requirement compares what the launch embeds (this
 * build's SHA-256 against bin/synkti's), the zones are those with a default subnet, and the launch
 * target is built from these observations alone.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { resolveLaunchTarget } from "../../../src/deployer/launch/resolve.js";
import { instanceTypeOffered } from "../../../src/preflight/deployer/compute.js";
import { launchObservations } from "../../../src/preflight/deployer/handover.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { binaryInS3, weightsInS3, type BinaryObservation } from "../../../src/preflight/deployer/storage.js";
import { workersModel } from "../../../src/preflight/deployer/fleet.js";
import type { InstanceSummary } from "../../../src/aws/ec2-instances.js";
import type { AwsClients } from "../../../src/aws/clients.js";
import { FakeClock } from "../../support/fake-clock.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const ctx = (local?: { path: string; version: string }) =>
  deployerContext({ clients: {} as AwsClients, clock: new FakeClock() }, { project: "proj", region: "us-east-1", model: "tiny", ...(local ? { localBinary: local } : {}) });
const binary = (over: Partial<BinaryObservation> = {}): BinaryObservation => ({
  present: true,
  bucket: "proj-models",
  key: "bin/synkti",
  checksumKey: "bin/synkti.sha256",
  depth: "quick",
  version: "0.1.0",
  sha256Recorded: A,
  ok: true,
  problems: [],
  ...over,
});

describe("preflight's binary requirement compares what the launch embeds", () => {
  const self = { path: "/opt/synkti", version: "0.2.0" };

  it("a binary whose hashed copy (what workers download) is missing fails, with the upload as the fix", () => {
    const finding = binaryInS3.verdict(binary({ localSha256: A, pinned: { key: `bin/synkti-${A}`, present: false, problem: `s3://proj-models/bin/synkti-${A} does not exist` } }), ctx(self));
    expect(finding).toEqual({
      status: "fail",
      observed: `s3://proj-models/bin/synkti-${A} does not exist: workers download the binary under the SHA-256 a launch pins; synkti upload binary stores it`,
      fix: { command: "synkti upload binary --project-name proj --region us-east-1 --file /opt/synkti" },
    });
    expect(binaryInS3.verdict(binary({ localSha256: A, pinned: { key: `bin/synkti-${A}`, present: true } }), ctx(self))).toMatchObject({ status: "pass", observed: expect.stringContaining(`pinned as bin/synkti-${A}`) });
  });

  it("weights whose manifest has no hashed copy fail, with the upload as the fix", () => {
    const v = { model: "tiny", bucket: "proj-models", manifestKey: "tiny/manifest.json", manifestPresent: true, manifestSha256: C, files: 1, bytes: 1, missing: [], mismatched: [], problems: [], ok: true };
    const missing = weightsInS3.verdict({ model: "tiny", verification: { ...v, pinned: { key: `tiny/manifest-${C}.json`, present: false, problem: `s3://proj-models/tiny/manifest-${C}.json does not exist` } } }, ctx());
    expect(missing).toMatchObject({ status: "fail", observed: expect.stringContaining("workers download the manifest under the SHA-256 a launch pins"), fix: { command: "synkti upload model --project-name proj --region us-east-1 --model tiny --from <weights-dir>" } });
    expect(weightsInS3.verdict({ model: "tiny", verification: { ...v, pinned: { key: `tiny/manifest-${C}.json`, present: true } } }, ctx())).toMatchObject({ status: "pass" });
  });

  it("another build in S3 fails, with the upload of this very binary as the fix", () => {
    const finding = binaryInS3.verdict(binary({ localSha256: B }), ctx(self));
    expect(finding.status).toBe("fail");
    expect(finding.observed).toBe(
      "s3://proj-models/bin/synkti (version 0.1.0, sha256 aaaaaaaaaaaa...) is not the synkti doing this (version 0.2.0, sha256 bbbbbbbbbbbb...): workers would refuse it or run another build",
    );
    expect(finding.fix?.command).toBe("synkti upload binary --project-name proj --region us-east-1 --file /opt/synkti");
  });

  it("the same build passes (even with another version label: the hash decides)", () => {
    expect(binaryInS3.verdict(binary({ localSha256: A, version: "0.0.9" }), ctx(self))).toMatchObject({ status: "pass", observed: expect.stringContaining("the same build as this synkti") });
  });

  it("a development run (no single binary to hash) passes on the recorded SHA-256 and says so", () => {
    expect(binaryInS3.verdict(binary(), ctx())).toMatchObject({ status: "pass", observed: expect.stringContaining("development run") });
  });
});

describe("instance-type: only zones with a default subnet count", () => {
  it("fails when no offering zone has a default subnet", () => {
    const finding = instanceTypeOffered.verdict({ zones: ["us-east-1a"], subnets: { "us-east-1b": "subnet-b" } }, ctx());
    expect(finding).toMatchObject({ status: "fail", observed: "no zone offering g5.xlarge (us-east-1a) has a default subnet to launch into" });
  });
  it("passes naming the usable zones and those left out", () => {
    const finding = instanceTypeOffered.verdict({ zones: ["us-east-1a", "us-east-1b"], subnets: { "us-east-1b": "subnet-b" } }, ctx());
    expect(finding).toMatchObject({ status: "pass", observed: "g5.xlarge in us-east-1b (not used, no default subnet: us-east-1a)" });
  });
});

describe("workers-model: one project serves one model", () => {
  const worker = (id: string, tags: Record<string, string>): InstanceSummary => ({ instanceId: id, state: "running", availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: undefined, privateIp: undefined, market: "spot", tags });
  it("workers of another model fail, with down as the fix", () => {
    expect(workersModel.verdict([worker("i-1", { SynktiModel: "llama" }), worker("i-2", { SynktiModel: "tiny" })], ctx())).toEqual({
      status: "fail",
      observed: "the project's workers serve another model: i-1 (llama); one project serves one model, stop them first",
      fix: { command: "synkti down --project-name proj --region us-east-1" },
    });
  });
  it("names another model as printable text: a tag value cannot drive the operator's terminal", () => {
    const finding = workersModel.verdict([worker("i-1", { SynktiModel: "llama\u001b]0;pwned\u0007\u001b[2J\nx" })], ctx());
    expect(finding.observed).toBe("the project's workers serve another model: i-1 (llama x); one project serves one model, stop them first");
  });
  it("same model passes, untagged (older synkti) warns, none passes", () => {
    expect(workersModel.verdict([worker("i-2", { SynktiModel: "tiny" })], ctx())).toMatchObject({ status: "pass", observed: "1 worker serving tiny" });
    expect(workersModel.verdict([worker("i-3", {})], ctx())).toMatchObject({ status: "warn", observed: expect.stringContaining("i-3: no SynktiModel tag") });
    expect(workersModel.verdict([], ctx())).toMatchObject({ status: "pass" });
  });
});

describe("the launch target is built from the preflight's observations only", () => {
  const observed = (over: Record<string, unknown> = {}) =>
    new Map<string, unknown>(
      Object.entries({
        credentials: { ok: true, arn: "arn:aws:iam::123456789012:user/me", account: "123456789012" },
        ami: { requested: undefined, image: { imageId: "ami-seen", name: "dl", state: "available", architecture: "x86_64", rootDeviceName: "/dev/sda1", rootVolumeGiB: 50 } },
        binary: binary({ localSha256: A }),
        weights: { model: "tiny", verification: { ok: true, bytes: 2 * 1024 ** 3, manifestSha256: C } },
        "security-group": { want: {}, seen: { state: "present", vpcId: "vpc-1", groupId: "sg-seen", ingress: [], tags: {} } },
        "instance-type": { zones: ["us-east-1a", "us-east-1b"], subnets: { "us-east-1a": "subnet-a" } },
        "workers-model": [],
        ...over,
      }),
    );
  const input = { project: "proj", model: "tiny", region: "us-east-1", instanceType: "g5.xlarge", userDataTemplate: "sha={{binarySha256}} owner={{bucketOwner}} {{binaryKey}} {{manifestKey}}" };

  it("image, group, subnets, root volume and the embedded SHA-256 are what preflight saw", () => {
    const t = resolveLaunchTarget(input, launchObservations(observed()), silentLogger);
    expect(t).toMatchObject({ imageId: "ami-seen", securityGroupId: "sg-seen", subnets: { "us-east-1a": "subnet-a" }, binarySha256: A, rootVolume: { deviceName: "/dev/sda1", sizeGiB: 50 + 3 + 20 } });
    // User-data downloads the copies named by the hashes preflight saw: the binary's and the manifest's.
    expect(t.userData).toBe(`sha=${A} owner=123456789012 bin/synkti-${A} tiny/manifest-${C}.json`);
  });

  it("a development run embeds the recorded SHA-256", () => {
    const t = resolveLaunchTarget(input, launchObservations(observed({ binary: binary({ sha256Recorded: B }) })), silentLogger);
    expect(t.binarySha256).toBe(B);
  });

  it("a missing or failed observation is a bug (the gate let it through), never a silent default", () => {
    const missing = observed();
    missing.delete("security-group");
    expect(() => launchObservations(missing)).toThrow(/no 'security-group' observation/);
    expect(() => launchObservations(observed({ "security-group": { want: {}, seen: { state: "missing", vpcId: "vpc-1" } } }))).toThrow(/failed observation/);
  });
});
