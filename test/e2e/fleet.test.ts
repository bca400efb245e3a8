/**
 * The built binary as an operator uses it against the local cloud: launch (the root command),
 * status, a re-run that launches nothing, down, leaks; exit codes and JSON shapes.
 */
import { CreateVolumeCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyProject, startHarness, type Harness } from "../integration/deployer/harness.js";
import { readFileSync } from "node:fs";
import { BINARY, runCli } from "../support/run-cli.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
const run = (args: string[]) => runCli(args, { env: h.env, timeoutMs: 60_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe("synkti launch / status / down / leaks (built binary)", () => {
  it("status, down and leaks without any region: exit 1 with the remedy, not an SDK error", async () => {
    for (const command of ["status", "down", "leaks"]) {
      const noRegion = await runCli([command, "--project-name", "e2e-fleet"], {
        env: { ...h.env, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: "/dev/null" },
      });
      expect(noRegion.code, `${command}: ${noRegion.stderr}`).toBe(1);
      expect(noRegion.stderr).toContain("Run: pass --region <region>");
    }
  });

  it("refuses to launch when the binary in S3 is not the build doing the launch: in the preflight's report, with its fix; nothing is launched", async () => {
    await readyProject(h, "e2e-other-build"); // bin/synkti holds another build, with consistent metadata
    const launch = await run(["--project-name", "e2e-other-build", "--model", "tiny-model", "--workers", "1"]);
    expect(launch.code, launch.stderr).toBe(1);
    expect(launch.stdout).toMatch(/preflight e2e-other-build \(us-east-1\): UNSAFE, 1 missing/);
    expect(launch.stdout).toMatch(/MISSING +binary +s3:\/\/e2e-other-build-models\/bin\/synkti \(version 0\.1\.0, sha256 \w{12}\.\.\.\) is not the synkti doing this/);
    expect(launch.stdout).toMatch(/Run: synkti upload binary --project-name e2e-other-build --region us-east-1 --file \//);
    expect(launch.stderr).not.toContain("Error:"); // the report is the whole answer: no second refusal after it
    const preflight = await run(["preflight", "--project-name", "e2e-other-build", "--model", "tiny-model", "--output", "json"]);
    expect(preflight.code).toBe(1);
    expect(json(preflight.stdout).requirements.find((r: { id: string }) => r.id === "binary")).toMatchObject({ status: "fail", fix: expect.stringMatching(/^synkti upload binary /) });
    const listed = await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: ["e2e-other-build"] }] }));
    expect(listed.Reservations ?? []).toEqual([]);
  });

  it("launch 3, status 3, re-run launches nothing, down ends them, leaks finds none", async () => {
    await readyProject(h, "e2e-fleet", { binary: readFileSync(BINARY) }); // a launch embeds its own SHA-256: S3 must hold this build
    const launch = await run(["--project-name", "e2e-fleet", "--model", "tiny-model", "--workers", "3", "--output", "json"]);
    expect(launch.code, launch.stderr).toBe(0);
    const result = json(launch.stdout);
    expect(result).toMatchObject({ project: "e2e-fleet", desired: 3, existing: 0, fallbacks: [], instanceType: "g5.xlarge", launchId: expect.stringMatching(/^l-\d{8}-\d{6}-[0-9a-f]{6}$/) });
    expect(result.launched).toHaveLength(3);
    expect(result.workers).toHaveLength(3);

    const status = await run(["status", "--project-name", "e2e-fleet", "--output", "json"]);
    expect(status.code).toBe(0);
    const workers = json(status.stdout).workers as Array<Record<string, unknown>>;
    expect(workers.map((w) => w.instanceId).sort()).toEqual(result.launched.map((l: { instanceId: string }) => l.instanceId).sort());
    expect(workers[0]).toEqual({
      instanceId: expect.stringMatching(/^i-/),
      state: "running",
      availabilityZone: expect.stringMatching(/^us-east-1[a-f]$/),
      instanceType: "g5.xlarge",
      launchTime: expect.any(String),
      uptimeSeconds: expect.any(Number),
      privateIp: expect.any(String),
      market: "spot",
      health: "unknown",
      healthDetail: "no SynktiEndpoint tag yet (booting)",
      launchId: result.launchId,
      stopping: false,
      endpoint: null,
      workerState: "booting",
      notice: null,
      model: "tiny-model",
      slot: expect.any(Number),
      replaces: null,
      plan: null,
    });
    expect(workers.map((w) => w.slot).sort()).toEqual([0, 1, 2]);
    // The desired size --workers 3 wrote, no empty slot, and repair active (no outcome yet).
    expect(json(status.stdout)).toMatchObject({ desired: { workers: 3, setAt: expect.any(String) }, desiredUnavailable: null, emptySlots: [], repair: { state: "active", lastFailure: null } });
    const text = await run(["status", "--project-name", "e2e-fleet"]);
    expect(text.stdout).toMatch(/^3 workers in project e2e-fleet:\nINSTANCE +STATE +WORKER +SLOT +MODEL +ZONE +TYPE +UPTIME +ENDPOINT +HEALTH +TARGET +LAUNCH\n/);
    expect(text.stdout).toMatch(/\nDesired: 3 workers \(set at \S+\)\nRepair: active\n/);

    const again = await run(["--project-name", "e2e-fleet", "--model", "tiny-model", "--workers", "3"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("e2e-fleet: 3 workers already pending or running: launching nothing");

    const down = await run(["down", "--project-name", "e2e-fleet", "--output", "json"]);
    expect(down.code, down.stderr).toBe(0);
    expect(json(down.stdout)).toMatchObject({ project: "e2e-fleet", dryRun: false, desired: { workers: 0 }, desiredProblem: null, remaining: [], error: null, fix: null });
    expect(json(down.stdout).terminated).toHaveLength(3);
    const tags = (await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: json(down.stdout).terminated }))).Reservations!.flatMap((r) => r.Instances!);
    expect(tags).toHaveLength(3);
    for (const i of tags) {
      expect(i.State?.Name).toBe("terminated");
      expect(i.Tags).toContainEqual({ Key: "SynktiStopping", Value: "true" });
    }
    // Before terminating, down took them out of the load balancer (the project's instances, registered or not).
    expect(json(down.stdout).deregistration).toMatchObject({ targetGroup: "e2e-fleet-synkti-vllm", targets: [...json(down.stdout).terminated].sort(), warning: null });
    expect((await run(["status", "--project-name", "e2e-fleet"])).stdout.trim()).toMatch(
      /^No workers in project e2e-fleet\.\nLoad balancer: http:\/\/e2e-fleet-synkti-\S+  \(no target registered\)\nDesired: 0 workers \(set at \S+\)\nRepair: active\n\nNo failures recorded in the last 24 h\.$/,
    );
    const leaks = await run(["leaks", "--project-name", "e2e-fleet", "--output", "json"]);
    expect(leaks.code).toBe(0);
    expect(json(leaks.stdout)).toEqual({ project: "e2e-fleet", leaks: [] });
  }, 120_000); // eight runs of the binary: on a loaded 2-core machine they take more than the default 30 s

  it("UNSAFE preflight: exit 1 with the report and its fixes; nothing launched", async () => {
    const out = await run(["--project-name", "e2e-noinfra", "--model", "tiny-model", "--workers", "2"]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/preflight e2e-noinfra \(us-east-1\): UNSAFE/);
    expect(out.stdout).toContain("Run: synkti infra up --project-name e2e-noinfra --region us-east-1");
    const status = await run(["status", "--project-name", "e2e-noinfra", "--output", "json"]);
    expect(json(status.stdout).workers).toEqual([]);
  });

  it("usage: bare synkti shows help (exit 2); a launch without --model or with a bad name is exit 2", async () => {
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Usage: synkti");
    const noModel = await run(["--project-name", "e2e-usage"]);
    expect(noModel.code).toBe(2);
    // --workers appears only when it was given: without it a launch keeps the desired size.
    expect(noModel.stderr).toMatch(/Run: synkti --project-name e2e-usage --model <model>\n/);
    expect((await run(["--project-name", "e2e-usage", "--workers", "2"])).stderr).toContain("Run: synkti --project-name e2e-usage --model <model> --workers 2");
    expect((await run(["--project-name", "e2e-usage", "--model", "../etc"])).code).toBe(2);
    expect((await run(["--project-name", "e2e-usage", "--model", "m", "--workers", "0"])).code).toBe(2);
  });

  it("leaks: exit 1 listing an unattached volume with its fix; down --dry-run without instances says so", async () => {
    const volume = await h.ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 8, TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "SynktiCluster", Value: "e2e-leaky" }] }] }));
    const leaks = await run(["leaks", "--project-name", "e2e-leaky", "--region", "us-east-1"]);
    expect(leaks.code).toBe(1);
    expect(leaks.stdout).toContain(`volume ${volume.VolumeId} (available): unattached volume`);
    expect(leaks.stdout).toContain(`Run: aws ec2 delete-volume --volume-id ${volume.VolumeId} --region us-east-1`);
    const dry = await run(["down", "--project-name", "e2e-leaky", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim()).toBe("Project e2e-leaky has no instances; nothing to terminate.");
  });

  it("down --dry-run lists the live workers and changes nothing", async () => {
    await readyProject(h, "e2e-dry", { binary: readFileSync(BINARY) });
    const launched = await run(["--project-name", "e2e-dry", "--model", "tiny-model", "--workers", "1", "--output", "json"]);
    expect(launched.code, launched.stderr).toBe(0);
    const [id] = json(launched.stdout).launched.map((l: { instanceId: string }) => l.instanceId) as string[];
    const dry = await run(["down", "--project-name", "e2e-dry", "--dry-run", "--output", "json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry.stdout)).toMatchObject({ dryRun: true, found: [{ instanceId: id }], terminated: [] });
    const after = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!] }));
    const instance = after.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State?.Name).toBe("running");
    expect((instance?.Tags ?? []).map((t) => t.Key)).not.toContain("SynktiStopping");
    expect((await run(["down", "--project-name", "e2e-dry"])).code).toBe(0);
  });
});
