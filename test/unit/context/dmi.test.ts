import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { interpretDmi, readDmi, uuidSaysEc2, type DmiReading } from "../../../src/context/dmi.js";

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

/** A sysfs root holding the given DMI files (name -> content) and, optionally, /sys/hypervisor/uuid. */
async function sysfs(dmi: Record<string, string> | undefined, hypervisorUuid?: string): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "synkti-sysfs-"));
  roots.push(root);
  if (dmi) {
    const dir = path.join(root, "devices/virtual/dmi/id");
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(dmi)) await writeFile(path.join(dir, name), `${content}\n`);
  }
  if (hypervisorUuid) {
    await mkdir(path.join(root, "hypervisor"), { recursive: true });
    await writeFile(path.join(root, "hypervisor", "uuid"), `${hypervisorUuid}\n`);
  }
  return root;
}

const observe = async (dmi: Record<string, string> | undefined, hypervisorUuid?: string) =>
  interpretDmi(await readDmi(await sysfs(dmi, hypervisorUuid)));

describe("uuidSaysEc2", () => {
  it("reads both byte orders of the first UUID field (AWS's own examples)", () => {
    expect(uuidSaysEc2("EC2E1916-9099-7CAF-FD21-012345ABCDEF")).toBe("big-endian");
    expect(uuidSaysEc2("ec2e1916-9099-7caf-fd21-012345abcdef")).toBe("big-endian");
    expect(uuidSaysEc2("45E12AEC-DCD1-B213-94ED-012345ABCDEF")).toBe("little-endian");
  });

  it("says nothing for other UUIDs or non-UUIDs", () => {
    expect(uuidSaysEc2("4C4C4544-0042-3510-8052-B4C04F4E3732")).toBeUndefined();
    expect(uuidSaysEc2("EC12AE2C-DCD1-B213-94ED-012345ABCDEF")).toBeUndefined(); // "ec1..." either way
    expect(uuidSaysEc2("ec2-not-a-uuid")).toBeUndefined();
    expect(uuidSaysEc2("")).toBeUndefined();
  });
});

describe("DMI layer", () => {
  it("is unavailable when the DMI folder is absent (this machine, containers)", async () => {
    const dmi = await observe(undefined);
    expect(dmi.status).toBe("unavailable");
    expect(dmi.detail).toMatch(/no DMI data at .*devices\/virtual\/dmi\/id/);
  });

  it("says EC2, strongly, for a Nitro instance: vendor and asset tag with the instance id", async () => {
    const dmi = await observe({ sys_vendor: "Amazon EC2", board_asset_tag: "i-0af01c0123456789a", product_uuid: "ec2a1b2c-0000-0000-0000-000000000000" });
    expect(dmi).toMatchObject({ status: "ec2", strength: "strong", instanceId: "i-0af01c0123456789a" });
    expect(dmi.signals).toHaveLength(3);
    expect(dmi.values.sys_vendor).toBe("Amazon EC2");
  });

  it("accepts 8-hex-digit legacy instance ids in the asset tag, and nothing else", async () => {
    expect((await observe({ board_asset_tag: "i-0af01c01" })).instanceId).toBe("i-0af01c01");
    const junk = await observe({ board_asset_tag: "Default string", sys_vendor: "Dell Inc." });
    expect(junk).toMatchObject({ status: "not-ec2", signals: [] });
    expect(junk.instanceId).toBeUndefined();
  });

  it("says EC2, strongly, for a Xen instance's Amazon BIOS", async () => {
    const dmi = await observe({ sys_vendor: "Xen", bios_version: "4.11.amazon" }, "ec2f0e8c-1234-5678-9abc-def012345678");
    expect(dmi).toMatchObject({ status: "ec2", strength: "strong" });
    expect(dmi.signals).toContain("hypervisor_uuid starts with ec2 (big-endian)");
  });

  it("treats a UUID prefix alone as a weak hint, in either byte order", async () => {
    const dmi = await observe({ sys_vendor: "LENOVO", product_uuid: "45E12AEC-DCD1-B213-94ED-012345ABCDEF" });
    expect(dmi).toMatchObject({ status: "ec2", strength: "weak", signals: ["product_uuid starts with ec2 (little-endian)"] });
  });

  it("finds the hypervisor UUID even without a DMI folder (paravirtual Xen)", async () => {
    const dmi = await observe(undefined, "EC2E1916-9099-7CAF-FD21-012345ABCDEF");
    expect(dmi).toMatchObject({ status: "ec2", strength: "weak" });
  });

  it("says not-ec2 when firmware names another vendor", async () => {
    const dmi = await observe({ sys_vendor: "QEMU", product_uuid: "4c4c4544-0042-3510-8052-b4c04f4e3732" });
    expect(dmi.status).toBe("not-ec2");
    expect(dmi.detail).toContain("QEMU");
  });

  it("reports an unreadable file (root-only product_uuid) without failing", () => {
    const reading: DmiReading = {
      sysfsRoot: "/sys",
      present: true,
      files: {
        sys_vendor: "Amazon EC2",
        board_asset_tag: { missing: true },
        bios_vendor: { missing: true },
        bios_version: { missing: true },
        product_uuid: { unreadable: "EACCES" },
        hypervisor_uuid: { missing: true },
      },
    };
    const dmi = interpretDmi(reading);
    expect(dmi).toMatchObject({ status: "ec2", strength: "strong" });
    expect(dmi.values.product_uuid).toBe("unreadable (EACCES)");
  });
});
