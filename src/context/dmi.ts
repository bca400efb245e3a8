import { readFile } from "node:fs/promises";
import path from "node:path";
import { INSTANCE_ID } from "../cluster/instance-id.js";

/**
 * Layer 1 of "where am I": firmware facts the kernel exposes under sysfs. Reading a few small files
 * costs microseconds, so it runs first and decides how long the IMDS probe may take.
 * AWS's own recipe ("Detect whether a host is an EC2 instance"): on Nitro, `board_asset_tag` holds
 * the instance id and `sys_vendor` is "Amazon EC2"; on Xen, `bios_version` ends in ".amazon" and
 * `/sys/hypervisor/uuid` starts with "ec2"; the system UUID starts with "ec2", or shows it only
 * after undoing SMBIOS's little-endian byte order.
 */
export const DMI_DIR = "devices/virtual/dmi/id";
const DMI_FILES = ["sys_vendor", "board_asset_tag", "bios_vendor", "bios_version", "product_uuid"] as const;

/** A file's content, or why there is none (product_uuid is root-only on most distributions). */
export type DmiValue = string | { missing: true } | { unreadable: string };

export interface DmiReading {
  sysfsRoot: string;
  /** False when the DMI folder itself is absent (containers, non-x86 boards, this CI machine). */
  present: boolean;
  files: Record<(typeof DMI_FILES)[number] | "hypervisor_uuid", DmiValue>;
}

export interface DmiObservation {
  status: "ec2" | "not-ec2" | "unavailable";
  /**
   * strong: the vendor, the asset tag or the Xen BIOS names Amazon. weak: only a UUID prefix, which a
   * random UUID has with odds 1 in 2048 (either byte order): enough to try IMDS longer, never enough
   * to call an unreachable IMDS a contradiction.
   */
  strength?: "strong" | "weak";
  signals: string[];
  instanceId?: string;
  detail: string;
  values: Record<string, string>;
}

async function readValue(file: string): Promise<DmiValue> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? { missing: true } : { unreadable: code ?? "error" };
  }
}

export async function readDmi(sysfsRoot: string): Promise<DmiReading> {
  const dir = path.join(sysfsRoot, DMI_DIR);
  const entries = await Promise.all(DMI_FILES.map(async (name) => [name, await readValue(path.join(dir, name))] as const));
  const hypervisor = await readValue(path.join(sysfsRoot, "hypervisor", "uuid"));
  const files = { ...Object.fromEntries(entries), hypervisor_uuid: hypervisor } as DmiReading["files"];
  const present = entries.some(([, value]) => !isMissing(value));
  return { sysfsRoot, present, files };
}

function isMissing(value: DmiValue): value is { missing: true } {
  return typeof value === "object" && "missing" in value;
}

function text(value: DmiValue): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Which byte order shows "ec2" at the start of a UUID, if any. */
export function uuidSaysEc2(uuid: string): "big-endian" | "little-endian" | undefined {
  const hex = uuid.trim().toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(hex)) return undefined;
  if (hex.startsWith("ec2")) return "big-endian";
  // SMBIOS stores the first field little-endian: 45E12AEC-... is EC2AE145-... with its 4 bytes reversed.
  const swapped = hex.slice(6, 8) + hex.slice(4, 6) + hex.slice(2, 4) + hex.slice(0, 2);
  return swapped.startsWith("ec2") ? "little-endian" : undefined;
}

/** Pure: what the firmware facts say about being on EC2. */
export function interpretDmi(reading: DmiReading): DmiObservation {
  const { files } = reading;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(files)) {
    if (typeof value === "string") values[name] = value;
    else if ("unreadable" in value) values[name] = `unreadable (${value.unreadable})`;
  }
  const strong: string[] = [];
  const weak: string[] = [];
  const vendor = text(files.sys_vendor);
  const assetTag = text(files.board_asset_tag);
  const biosVersion = text(files.bios_version);
  if (vendor === "Amazon EC2") strong.push("sys_vendor is 'Amazon EC2'");
  if (assetTag && INSTANCE_ID.test(assetTag)) strong.push(`board_asset_tag holds instance id ${assetTag}`);
  if (biosVersion && /\bamazon$/i.test(biosVersion)) strong.push(`bios_version '${biosVersion}' is Amazon's Xen BIOS`);
  for (const name of ["product_uuid", "hypervisor_uuid"] as const) {
    const uuid = text(files[name]);
    const order = uuid ? uuidSaysEc2(uuid) : undefined;
    if (order) weak.push(`${name} starts with ec2 (${order})`);
  }
  const instanceId = assetTag && INSTANCE_ID.test(assetTag) ? assetTag : undefined;
  const signals = [...strong, ...weak];
  if (signals.length > 0) {
    return {
      status: "ec2",
      strength: strong.length > 0 ? "strong" : "weak",
      signals,
      ...(instanceId ? { instanceId } : {}),
      detail: signals.join("; "),
      values,
    };
  }
  if (!reading.present && isMissing(files.hypervisor_uuid)) {
    const where = path.join(reading.sysfsRoot, DMI_DIR);
    return { status: "unavailable", signals, detail: `no DMI data at ${where} (container or non-x86 host)`, values };
  }
  return { status: "not-ec2", signals, detail: `firmware does not name EC2 (sys_vendor: ${vendor ?? "unknown"})`, values };
}
