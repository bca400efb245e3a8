/**
 * Issue 11's HEALTH after a hand-over, against moto: the doomed worker is gone and left HEALTH
 * `handed-over` in its timeline; its replacement (an in-process agent whose instance carries
 * `SynktiReplaces=<doomed id>`, read through the IMDS emulator's tags) closes it once it serves.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { parseFailoverRecord } from "../../../src/deployer/logs/failovers.js";
import { projectNames } from "../../../src/infra/names.js";
import { failoverWorld, IMAGE, USER_DATA } from "./failover-world.js";
import { createWorkerInfra, launchMembers, startAgent, until } from "./harness.js";

const world = failoverWorld("fo-hs", { iamProof: true });

const phase = (state: string, endedAt: string | null) => ({ state, startedAt: "2026-01-01T00:00:05.000Z", endedAt, detail: null });
const timeline = (doomed: string, health: ReturnType<typeof phase>) => ({
  doomed,
  status: "retired",
  trigger: "spot-interruption",
  deadlineAt: "2026-01-01T00:02:00.000Z",
  replacement: null,
  phases: { drain: phase("done", "2026-01-01T00:00:30.000Z"), select: phase("done", "2026-01-01T00:00:06.000Z"), spawn: phase("done", "2026-01-01T00:00:20.000Z"), health },
});

describe("the replacement records HEALTH itself (in-process worker, moto)", () => {
  it("once it serves, a handed-over HEALTH in checkpoints/failovers/<doomed id>.json becomes done, and synkti status reads it so", async () => {
    const p = world.name();
    const names = projectNames(p);
    const infra = await createWorkerInfra(world.moto.url, p);
    const [doomed, self] = await launchMembers(world.ec2, p, 2);
    const key = names.failoverKey(doomed!);
    const read = async () => world.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: key })).then((o) => o.Body!.transformToString());
    await world.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: JSON.stringify(timeline(doomed!, phase("handed-over", "2026-01-01T00:02:00.000Z"))), ContentType: "application/json" }));
    const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-hs-state-"));
    const agent = await startAgent(p, self!, world.options(p, stateDir), {
      imds: { userData: USER_DATA, imageId: IMAGE, tags: { SynktiCluster: p, SynktiRole: "worker", SynktiReplaces: doomed! } },
    });
    try {
      await until("the replacement serves", async () => (await world.targetIds(infra.targetGroupArn)).includes(self), 30_000);
      await until("HEALTH recorded by the replacement", async () => (JSON.parse(await read()) as { phases: { health: { state: string } } }).phases.health.state === "done", 15_000);
      const body = await read();
      const record = JSON.parse(body) as ReturnType<typeof timeline>;
      expect(record.replacement).toBe(self);
      expect(record.phases.health).toMatchObject({ state: "done", detail: `recorded by the replacement ${self}` });
      expect(Date.parse(record.phases.health.endedAt!)).toBeGreaterThan(Date.now() - 60_000);
      // What `synkti status` shows of it: the same strict reader, HEALTH done, the failover's total known.
      const shown = parseFailoverRecord({ bytes: Buffer.from(body), totalSize: body.length }, doomed!, new Date());
      expect(shown.problem).toBeNull();
      expect(shown.phases?.health.state).toBe("done");
      expect(shown.totalSeconds).not.toBeNull();
    } finally {
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 90_000);
});
