import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectContext } from "../../../src/context/detect.js";
import type { ImdsRequest, ImdsTransport } from "../../../src/context/imds-transport.js";
import { DETECTION_TIMEOUTS } from "../../../src/context/observe.js";
import type { ContextReport } from "../../../src/context/types.js";
import { FakeClock } from "../../support/fake-clock.js";
import { imds, silent } from "./silent-imds.js";

// How long detection may take, driven by a fake clock: no real waiting, exact deadlines.
let emptySys: string;
let nitroSys: string;
beforeAll(async () => {
  emptySys = await mkdtemp(path.join(tmpdir(), "synkti-sys-empty-"));
  nitroSys = await mkdtemp(path.join(tmpdir(), "synkti-sys-nitro-"));
  const dmi = path.join(nitroSys, "devices/virtual/dmi/id");
  await mkdir(dmi, { recursive: true });
  await writeFile(path.join(dmi, "sys_vendor"), "Amazon EC2\n");
  await writeFile(path.join(dmi, "board_asset_tag"), "i-0af01c0123456789a\n");
});
afterAll(async () => {
  await rm(emptySys, { recursive: true, force: true });
  await rm(nitroSys, { recursive: true, force: true });
});

/** Starts detection, then moves the fake clock by `ms` once it sleeps; returns when it is done (or not). */
async function detectAfter(sysfsRoot: string, ms: number, transport: ImdsTransport) {
  const clock = new FakeClock();
  let report: ContextReport | undefined;
  const running = detectContext({ sysfsRoot, imds, projectName: "demo" }, { clock, transport }).then((r) => (report = r));
  await clock.untilPending(1);
  await clock.advance(ms);
  return { clock, running, done: () => report };
}

describe("detection deadlines", () => {
  it("off EC2 (no DMI), a silent metadata address costs exactly the short probe deadline", async () => {
    const { transport, seen } = silent();
    const early = await detectAfter(emptySys, DETECTION_TIMEOUTS.probeMs - 1, transport);
    expect(early.done()).toBeUndefined();
    await early.clock.advance(1);
    const report = await early.running;
    expect(report).toMatchObject({ role: "deployer", evidence: { imds: { status: "timeout", deadlineMs: 1000 } } });
    expect(report.contradiction).toBeUndefined();
    expect(seen.map((r) => r.method)).toEqual(["PUT"]); // one token attempt, nothing else
    expect(early.clock.pending()).toBe(0);
  });

  it("with EC2 firmware, the token may take longer, then the silence is a contradiction", async () => {
    const { transport } = silent();
    const run = await detectAfter(nitroSys, DETECTION_TIMEOUTS.probeMs, transport);
    expect(run.done()).toBeUndefined(); // 1 s is not enough to give up on a real instance
    await run.clock.advance(DETECTION_TIMEOUTS.probeOnEc2Ms - DETECTION_TIMEOUTS.probeMs);
    const report = await run.running;
    expect(report.role).toBe("deployer");
    expect(report.evidence.imds).toMatchObject({ status: "timeout", deadlineMs: 2000 });
    expect(report.contradiction?.fix).toBe("unset AWS_EC2_METADATA_SERVICE_ENDPOINT"); // a custom endpoint is at fault
  });

  it("AWS_EC2_METADATA_DISABLED: no request at all, no waiting", async () => {
    const { transport, seen } = silent();
    const report = await detectContext({ sysfsRoot: emptySys, imds: { ...imds, disabled: true } }, { clock: new FakeClock(), transport });
    expect(report.evidence.imds.status).toBe("disabled");
    expect(seen).toHaveLength(0);
  });

  it("a token, then a silent identity document, ends at the request deadline", async () => {
    const seen: ImdsRequest[] = [];
    const transport: ImdsTransport = (req, signal) => {
      seen.push(req);
      if (req.method === "PUT") return Promise.resolve({ status: 200, headers: {}, body: "AQAEAFakeToken0123456789==" });
      return new Promise((_r, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    };
    const run = await detectAfter(emptySys, DETECTION_TIMEOUTS.requestMs, transport);
    const report = await run.running;
    expect(report.evidence.identity).toMatchObject({ status: "error" });
    expect(report.role).toBe("deployer");
    expect(seen.map((r) => r.method)).toEqual(["PUT", "GET"]);
  });
});
