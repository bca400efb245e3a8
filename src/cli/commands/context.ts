import type { Command } from "commander";

// Placeholder wiring; the detection lives in src/context/.
export function registerContext(_program: Command): void {}
