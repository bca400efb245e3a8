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

/**
 * Beyond the identity bytes: the header's own fields and the program headers must describe an
 * executable that fits in the file. A kernel that cannot load a file returns ENOEXEC, and a shell
 * then runs it as a script; an ELF header glued on shell text must not pass as a build. Only called
 * for a file `describeExecutable` found to be a 64-bit little-endian x86-64 ELF.
 */
const PROGRAM_HEADER_SIZE = 56;
const SECTION_HEADER_SIZE = 64;
/** Linux refuses more than 64 KiB of program headers; Node has about 15. */
const MAX_PROGRAM_HEADERS = 1024;
const PT_LOAD = 1;
const PF_X = 1;

/** Where the program headers are, or a problem when the header cannot describe them. */
export function programHeaderTable(header: Uint8Array, fileSize: number): { offset: number; length: number } | { problem: string } {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (h.length < HEADER_BYTES || fileSize < HEADER_BYTES) return { problem: "its ELF header is cut short" };
  if (h[6] !== 1 || h.readUInt32LE(20) !== 1) return { problem: "its ELF version is not 1" };
  if (h.readUInt16LE(52) !== HEADER_BYTES) return { problem: `its header size is ${h.readUInt16LE(52)}, not 64` };
  const offset = Number(h.readBigUInt64LE(32));
  const entrySize = h.readUInt16LE(54);
  const count = h.readUInt16LE(56);
  if (count === 0) return { problem: "it has no program headers" };
  if (entrySize !== PROGRAM_HEADER_SIZE) return { problem: `its program headers are ${entrySize} bytes each, not ${PROGRAM_HEADER_SIZE}` };
  if (count > MAX_PROGRAM_HEADERS) return { problem: `it claims ${count} program headers` };
  const length = count * PROGRAM_HEADER_SIZE;
  if (offset < HEADER_BYTES || offset + length > fileSize) return { problem: `its program headers (${length} bytes at ${offset}) lie outside the ${fileSize}-byte file` };
  const sections = h.readUInt16LE(60);
  const sectionOffset = Number(h.readBigUInt64LE(40));
  if (sections > 0 && (h.readUInt16LE(58) !== SECTION_HEADER_SIZE || sectionOffset + sections * SECTION_HEADER_SIZE > fileSize)) {
    return { problem: "its section headers lie outside the file" };
  }
  return { offset, length };
}

/** Every loadable segment inside the file, and the entry point in an executable one. */
export function programHeadersProblem(header: Uint8Array, table: Uint8Array, fileSize: number): string | undefined {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  const t = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const entry = h.readBigUInt64LE(24);
  let loads = 0;
  let entryMapped = false;
  for (let at = 0; at + PROGRAM_HEADER_SIZE <= t.length; at += PROGRAM_HEADER_SIZE) {
    if (t.readUInt32LE(at) !== PT_LOAD) continue;
    loads++;
    const flags = t.readUInt32LE(at + 4);
    const offset = t.readBigUInt64LE(at + 8);
    const vaddr = t.readBigUInt64LE(at + 16);
    const fileBytes = t.readBigUInt64LE(at + 32);
    const memoryBytes = t.readBigUInt64LE(at + 40);
    if (offset + fileBytes > BigInt(fileSize)) return `a loadable segment (${fileBytes} bytes at ${offset}) lies outside the ${fileSize}-byte file`;
    if (fileBytes > memoryBytes) return "a loadable segment is larger in the file than in memory";
    if ((flags & PF_X) !== 0 && entry >= vaddr && entry < vaddr + memoryBytes) entryMapped = true;
  }
  if (loads === 0) return "it has no loadable segment";
  if (!entryMapped) return `its entry point 0x${entry.toString(16)} is in no executable segment`;
  return undefined;
}
