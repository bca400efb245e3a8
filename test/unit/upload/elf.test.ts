import { describe, expect, it } from "vitest";
import { describeExecutable } from "../../../src/deployer/upload/elf.js";

/** A 64-byte ELF header with the given identity fields (everything else zero). */
function elf(options: { bits?: 1 | 2; data?: 1 | 2; osabi?: number; type?: number; machine?: number } = {}): Buffer {
  const h = Buffer.alloc(64);
  h.write("\x7fELF", 0, "latin1");
  h[4] = options.bits ?? 2;
  h[5] = options.data ?? 1;
  h[6] = 1;
  h[7] = options.osabi ?? 0;
  const le = (options.data ?? 1) === 1;
  if (le) {
    h.writeUInt16LE(options.type ?? 2, 16);
    h.writeUInt16LE(options.machine ?? 0x3e, 18);
  } else {
    h.writeUInt16BE(options.type ?? 2, 16);
    h.writeUInt16BE(options.machine ?? 0x3e, 18);
  }
  return h;
}

function macho(cpu: number): Buffer {
  const h = Buffer.alloc(32);
  h.writeUInt32LE(0xfeedfacf, 0);
  h.writeUInt32LE(cpu, 4);
  return h;
}

describe("describeExecutable", () => {
  it.each([
    ["System V executable", elf()],
    ["Linux ABI executable", elf({ osabi: 3 })],
    ["position-independent executable (ET_DYN)", elf({ type: 3 })],
  ])("accepts a 64-bit x86-64 ELF: %s", (_name, header) => {
    expect(describeExecutable(header)).toMatchObject({ linuxX64: true });
  });

  it.each([
    ["arm64 ELF", elf({ machine: 0xb7 }), /arm64/],
    ["32-bit ELF", elf({ bits: 1, machine: 0x03 }), /32-bit .*x86 \(32-bit\)/],
    ["big-endian ELF", elf({ data: 2 }), /big-endian/],
    ["FreeBSD ELF", elf({ osabi: 9 }), /FreeBSD/],
    ["relocatable object", elf({ type: 1 }), /relocatable object/],
    ["Mach-O arm64", macho(0x0100000c), /Mach-O arm64 .*macOS/],
    ["Mach-O x86-64", macho(0x01000007), /Mach-O x86-64 .*macOS/],
    ["universal Mach-O", Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]), /universal/],
    ["PE", Buffer.from("MZ\x90\x00\x03\x00\x00\x00", "latin1"), /Windows/],
    ["script", Buffer.from("#!/usr/bin/env node\n"), /script/],
    ["text", Buffer.from("hello world"), /not an executable/],
    ["tiny file", Buffer.from([0x7f]), /1-byte file/],
    ["truncated ELF", elf().subarray(0, 10), /truncated ELF/],
  ])("refuses %s with a description", (_name, header, description) => {
    const kind = describeExecutable(header);
    expect(kind.linuxX64).toBe(false);
    expect(kind.description).toMatch(description);
  });

  it("reads a header that is a view into a larger buffer", () => {
    const big = Buffer.concat([Buffer.alloc(16), elf({ machine: 0xb7 })]);
    expect(describeExecutable(big.subarray(16)).description).toMatch(/arm64/);
  });
});
