import { describe, expect, it } from "vitest";
import { runInstancesInput } from "../../../src/aws/ec2-instances.js";
import { gp3ThroughputFor, hasInstanceStore, PREFLIGHT_LAUNCH_ID, ROOT_HEADROOM_GiB, rootVolumeFor, workerRunSpec } from "../../../src/infra/worker-instance.js";

const GB = 1e9;

describe("a worker's root volume", () => {
  it("holds the image, the weights with 10% to spare, and headroom", () => {
    // A 7B model in bf16 is about 15 GB; the image's root is 75 GiB.
    const volume = rootVolumeFor({ rootDeviceName: "/dev/sda1", rootVolumeGiB: 75 }, 15 * GB);
    expect(volume).toMatchObject({ deviceName: "/dev/sda1", sizeGiB: 75 + Math.ceil((15 * GB * 1.1) / 1024 ** 3) + ROOT_HEADROOM_GiB });
    expect(volume!.sizeGiB).toBe(111);
  });

  it("gets gp3 throughput sized to write the weights in about 30 s, with the IOPS it requires", () => {
    // 15 GB / 30 s = 477 MiB/s, provisioned in steps of 25: 500 MiB/s, 2000 IOPS -> the included 3000.
    expect(rootVolumeFor({ rootDeviceName: "/dev/sda1", rootVolumeGiB: 75 }, 15 * GB)).toMatchObject({ throughputMiBps: 500, iops: 3000 });
    expect(gp3ThroughputFor(60 * GB)).toEqual({ throughputMiBps: 1000, iops: 4000 }); // capped at gp3's 1000 MiB/s
    expect(gp3ThroughputFor(2 * GB)).toBeUndefined(); // the included 125 MiB/s writes it in 16 s
  });

  it.each([
    ["g5.xlarge", true],
    ["g6.12xlarge", true],
    ["p4d.24xlarge", true],
    ["g4dn.xlarge", true],
    ["m6id.large", true],
    ["p3.2xlarge", false],
    ["g5g.xlarge", false],
    ["inf2.xlarge", false],
    ["t3.micro", false],
  ])("%s has instance-store NVMe: %s", (type, nvme) => {
    expect(hasInstanceStore(type)).toBe(nvme);
  });

  it("the run spec pays for throughput only where the weights land on the root volume", () => {
    const rootVolume = rootVolumeFor({ rootDeviceName: "/dev/sda1", rootVolumeGiB: 75 }, 15 * GB)!;
    const base = { project: "p", imageId: "ami-1", securityGroupId: "sg-1", instanceProfileName: "p-synkti-worker", launchId: "l", rootVolume };
    const onEbs = runInstancesInput(workerRunSpec({ ...base, instanceType: "p3.2xlarge" }));
    expect(onEbs.BlockDeviceMappings).toEqual([{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 111, VolumeType: "gp3", DeleteOnTermination: true, Throughput: 500, Iops: 3000 } }]);
    const onNvme = runInstancesInput(workerRunSpec({ ...base, instanceType: "g5.xlarge" }));
    expect(onNvme.BlockDeviceMappings).toEqual([{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 111, VolumeType: "gp3", DeleteOnTermination: true } }]);
  });

  it("is left to AWS's default when the image does not name its root device", () => {
    expect(rootVolumeFor({}, 15 * GB)).toBeUndefined();
  });
});

describe("a worker's RunInstances request", () => {
  const spec = workerRunSpec({
    project: "my-app",
    imageId: "ami-1",
    instanceType: "g5.xlarge",
    securityGroupId: "sg-1",
    instanceProfileName: "my-app-synkti-worker",
    launchId: PREFLIGHT_LAUNCH_ID,
    rootVolume: { deviceName: "/dev/sda1", sizeGiB: 111 },
  });

  it("is one-time spot, IMDSv2 only with hop limit 1, terminates on shutdown, tags what it creates", () => {
    const input = runInstancesInput(spec);
    expect(input).toMatchObject({
      InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } },
      MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 1 },
      InstanceInitiatedShutdownBehavior: "terminate",
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 111, VolumeType: "gp3", DeleteOnTermination: true } }],
    });
    expect(input.TagSpecifications?.map((t) => t.ResourceType)).toEqual(["instance", "volume", "spot-instances-request"]);
    for (const t of input.TagSpecifications ?? []) {
      expect(Object.fromEntries((t.Tags ?? []).map((x) => [x.Key, x.Value]))).toMatchObject({ SynktiCluster: "my-app", SynktiRole: "worker", SynktiLaunch: "preflight" });
    }
  });

  it("leaves subnet and client token to AWS when a DryRun does not set them", () => {
    const input = runInstancesInput(spec);
    expect(input).not.toHaveProperty("SubnetId");
    expect(input).not.toHaveProperty("ClientToken");
  });
});
