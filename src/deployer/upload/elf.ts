/**
 * Workers are linux-x64 EC2 instances: uploading a macOS or arm64 build would only fail at boot,
 * minutes later and far away. So the uploader reads the file's first bytes and refuses anything
 * that is not a 64-bit little-endian x86-64 ELF executable for Linux (or the generic System V ABI,
 * which is what Linux toolchains, Node's official binaries included, write).
 */
export const HEADER_BYTES = 64;

export interface ExecutableKind {
  /** True only for a file that a linux-x64 worker can execute. */
  linuxX64: boolean;
  /** What the file is, in words, for the error message: "Mach-O arm64 executable (macOS)". */
  description: string;
}

const ELF_MACHINES: Record<number, string> = {
  0x03: "x86 (32-bit)",
  0x28: "ARM (32-bit)",
  0x3e: "x86-64",
  0xb7: "arm64 (aarch64)",
  0xf3: "RISC-V",
  0x15: "PowerPC 64",
  0x16: "s390x",
};
const ELF_OSABI: Record<number, string> = { 0: "System V", 3: "Linux", 9: "FreeBSD", 6: "Solaris", 12: "OpenBSD" };
const ELF_TYPES: Record<number, string> = { 1: "relocatable object", 2: "executable", 3: "shared object", 4: "core dump" };
const MACHO_CPUS: Record<number, string> = { 0x01000007: "x86-64", 0x0100000c: "arm64", 7: "x86", 12: "arm" };

export function describeExecutable(header: Uint8Array): ExecutableKind {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  const no = (description: string): ExecutableKind => ({ linuxX64: false, description });
  if (bytes.length < 4) return no(`a ${bytes.length}-byte file, not an executable`);

  if (bytes[0] === 0x7f && bytes.toString("latin1", 1, 4) === "ELF") return describeElf(bytes);

  const magicBE = bytes.readUInt32BE(0);
  const magicLE = bytes.readUInt32LE(0);
  if (magicBE === 0xcafebabe) return no("a universal (fat) Mach-O executable (macOS)");
  if (magicLE === 0xfeedfacf || magicLE === 0xfeedface) {
    const cpu = bytes.length >= 8 ? MACHO_CPUS[bytes.readUInt32LE(4)] : undefined;
    return no(`a Mach-O ${cpu ?? "unknown-CPU"} executable (macOS)`);
  }
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) return no("a PE executable (Windows)");
  if (bytes[0] === 0x23 && bytes[1] === 0x21) return no("a script (starts with #!), not the built binary");
  return no("not an executable (no ELF, Mach-O or PE header)");
}

function describeElf(bytes: Buffer): ExecutableKind {
  if (bytes.length < 20) return { linuxX64: false, description: "a truncated ELF file" };
  const bits = bytes[4] === 2 ? 64 : bytes[4] === 1 ? 32 : 0;
  const littleEndian = bytes[5] === 1;
  const osabi = bytes[7] ?? -1;
  const type = littleEndian ? bytes.readUInt16LE(16) : bytes.readUInt16BE(16);
  const machine = littleEndian ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
  const arch = ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`;
  const os = ELF_OSABI[osabi] ?? `OS ABI ${osabi}`;
  const what = ELF_TYPES[type] ?? `type ${type}`;
  const description = `a ${bits || "?"}-bit ${littleEndian ? "little" : "big"}-endian ELF ${what} for ${arch} (${os})`;
  const linuxX64 =
    bits === 64 && littleEndian && machine === 0x3e && (osabi === 0 || osabi === 3) && (type === 2 || type === 3);
  return { linuxX64, description };
}
