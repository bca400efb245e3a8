/**
 * The after-a-reboot block of user-data, run by bash with cloud-init's per-boot folder in a temp
 * folder: the boot script puts a copy of itself there (so a reboot runs the worker again), and the
 * copy, run after a reboot, does not install itself a second time.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
const BLOCK = /^# --- after a reboot ---\n([\s\S]*?)# --- end of after a reboot ---\n/m.exec(TEMPLATE)![1]!;
const FUNCTION = /^run_again_after_reboot\(\) \{\n[\s\S]*?\n\}\n/m.exec(BLOCK)![0];

/** Runs `script` (a file: `$0` is its path, as under cloud-init) with the function and a call of it. */
function runAs(script: string, perBootDir: string): string {
  return execFileSync("bash", [script], { env: { PATH: "/usr/bin:/bin", SYNKTI_PER_BOOT_DIR: perBootDir }, encoding: "utf8" });
}

function bootScript(root: string): string {
  const file = path.join(root, "part-001");
  writeFileSync(file, `#!/bin/bash\nset -euo pipefail\nlog() { echo "synkti-boot: $*"; }\nPER_BOOT_DIR="$SYNKTI_PER_BOOT_DIR"\n${FUNCTION}run_again_after_reboot\necho "status $?"\n`);
  return file;
}

describe("user-data: the worker starts again after a reboot", () => {
  it("is guarded to real instances: root and no local-cloud install prefix", () => {
    expect(BLOCK).toContain('if [ "$(id -u)" = 0 ] && [ -z "${SYNKTI_INSTALL_PREFIX:-}" ]; then\n  run_again_after_reboot ||');
  });

  it("puts a root-only copy of the boot script into cloud-init's per-boot folder", () => {
    const root = mkdtempSync(path.join(tmpdir(), "synkti-reboot-"));
    const perBoot = path.join(root, "per-boot");
    mkdirSync(perBoot);
    const script = bootScript(root);
    const out = runAs(script, perBoot);
    const copy = path.join(perBoot, "synkti-worker.sh");
    expect(out).toContain(`installed ${copy}: a reboot starts the worker again`);
    expect(out).toContain("status 0");
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(script, "utf8"));
    expect(statSync(copy).mode & 0o777).toBe(0o700);
  });

  it("the copy run after a reboot does not install itself again", () => {
    const root = mkdtempSync(path.join(tmpdir(), "synkti-reboot-"));
    const perBoot = path.join(root, "per-boot");
    mkdirSync(perBoot);
    runAs(bootScript(root), perBoot);
    const copy = path.join(perBoot, "synkti-worker.sh");
    const out = runAs(copy, perBoot);
    expect(out).not.toContain("installed");
    expect(out).toContain("status 0");
  });

  it("without cloud-init's folder it says that a reboot will not restart the agent, and the boot goes on", () => {
    const root = mkdtempSync(path.join(tmpdir(), "synkti-reboot-"));
    const missing = path.join(root, "no-cloud-init");
    const out = runAs(bootScript(root), missing);
    expect(out).toContain(`no cloud-init per-boot folder (${missing}): after a reboot nothing restarts the agent`);
    expect(out).toContain("status 0");
    expect(existsSync(missing)).toBe(false);
  });
});
