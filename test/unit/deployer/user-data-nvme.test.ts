/**
 * The instance-store block of user-data, run by bash against a fake sysfs with mdadm, mkfs and
 * mount stubbed (they only print what they were asked): which devices it takes, when it stripes,
 * and that a failure leaves the weights on the root volume instead of failing the boot.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
const FUNCTION = /^mount_instance_store\(\) \{\n[\s\S]*?\n\}\n/m.exec(TEMPLATE)![0];

/** Each device's size is 1 TB unless `sectors` says otherwise (512-byte sectors, as sysfs gives it). */
function run(devices: Record<string, string>, options: { failMount?: boolean; weightsBytes?: number; sectors?: number; labelled?: boolean } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), "synkti-nvme-"));
  for (const [name, model] of Object.entries(devices)) {
    mkdirSync(path.join(root, "sys", "block", name, "device"), { recursive: true });
    writeFileSync(path.join(root, "sys", "block", name, "device", "model"), `${model}\n`);
    writeFileSync(path.join(root, "sys", "block", name, "size"), `${options.sectors ?? 2e12 / 512}\n`);
  }
  const bin = path.join(root, "bin");
  mkdirSync(bin);
  for (const tool of ["mdadm", "mkfs.xfs", "mkfs.ext4", "mountpoint", "mount", "blkid"]) {
    const exit = tool === "mountpoint" || (tool === "mount" && options.failMount) ? 1 : 0;
    // blkid answers the label a file system made by an earlier boot carries (or nothing: a new disk).
    const says = tool === "blkid" && options.labelled ? "echo synkti-models\n" : "";
    writeFileSync(path.join(root, "calls"), "", { flag: "a" });
    writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >>"${root}/calls"\n${says}exit ${exit}\n`);
    chmodSync(path.join(bin, tool), 0o755);
  }
  const script = `set -euo pipefail\nlog() { echo "synkti-boot: $*"; }\nMODELS_DIR=${root}/models\nWEIGHTS_BYTES=${options.weightsBytes ?? 0}\n${FUNCTION}mount_instance_store\necho "status $?"\n`;
  const out = execFileSync("bash", ["-c", script], { env: { PATH: `${bin}:/usr/bin:/bin`, SYNKTI_SYSFS_ROOT: path.join(root, "sys") }, encoding: "utf8" });
  const calls = readFileSync(path.join(root, "calls"), "utf8");
  return `${calls}${out}`.replaceAll(root, "<root>");
}

const STORE = "Amazon EC2 NVMe Instance Storage";
const EBS = "Amazon Elastic Block Store";

describe("user-data: the models folder on instance-store NVMe", () => {
  it("formats and mounts the one instance-store device, never the EBS root", () => {
    const out = run({ nvme0n1: EBS, nvme1n1: STORE });
    expect(out).toContain("mkfs.xfs -f -K -q -L synkti-models /dev/nvme1n1");
    expect(out).toContain("mount -o noatime /dev/nvme1n1 <root>/models");
    expect(out).not.toContain("nvme0n1");
    expect(out).not.toContain("mdadm");
    expect(out).toContain("synkti-boot: models folder <root>/models on instance-store NVMe (/dev/nvme1n1, 1 device(s))");
  });

  it("after a reboot mounts the file system an earlier boot made, without formatting it (the weights on it are kept)", () => {
    const out = run({ nvme0n1: EBS, nvme1n1: STORE }, { labelled: true });
    expect(out).not.toContain("mkfs");
    expect(out).toContain("mount -o noatime /dev/nvme1n1 <root>/models");
    expect(out).toContain("synkti-boot: models folder <root>/models on instance-store NVMe (/dev/nvme1n1, 1 device(s))");
  });

  it("stripes several devices (p4d has 8) into one RAID 0", () => {
    const out = run({ nvme0n1: EBS, nvme1n1: STORE, nvme2n1: STORE, nvme3n1: STORE });
    expect(out).toContain("mdadm --create /dev/md/synkti --run --level=0 --raid-devices=3 /dev/nvme1n1 /dev/nvme2n1 /dev/nvme3n1");
    expect(out).toContain("mount -o noatime /dev/md/synkti <root>/models");
  });

  it("leaves the weights on the root volume when there is no instance store, or the mount fails, without failing the boot", () => {
    expect(run({ nvme0n1: EBS })).toMatch(/no instance-store NVMe: the weights go to the root volume\nstatus 0/);
    expect(run({ nvme1n1: STORE }, { failMount: true })).toMatch(/could not mount \/dev\/nvme1n1 on <root>\/models: the weights go to the root volume\nstatus 0/);
  });

  it("leaves an instance store smaller than the weights alone (g4dn.xlarge's 125 GB against a 140 GB model): the root volume has room for them", () => {
    const gb125 = 125e9 / 512;
    const out = run({ nvme1n1: STORE }, { weightsBytes: 140e9, sectors: gb125 });
    expect(out).toMatch(/instance-store NVMe \(\/dev\/nvme1n1, 125000000000 bytes\) is smaller than the weights \(140000000000 bytes\): the weights go to the root volume\nstatus 0/);
    expect(out).not.toContain("mkfs");
    expect(out).not.toContain("mount -o");
    // Striped, two of them hold it.
    expect(run({ nvme1n1: STORE, nvme2n1: STORE }, { weightsBytes: 140e9, sectors: gb125 })).toContain("mount -o noatime /dev/md/synkti <root>/models");
    // The size unknown (an older deployer rendered 0): mounted as before.
    expect(run({ nvme1n1: STORE }, { weightsBytes: 0, sectors: gb125 })).toContain("mount -o noatime /dev/nvme1n1 <root>/models");
  });
});
