import { PutPublicAccessBlockCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../support/free-port.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../support/moto.js";
import { runCli } from "../support/run-cli.js";

// `synkti infra up|status|destroy`, the built binary against moto: exit codes, JSON shapes, text.
let moto: Moto;
let s3: S3Client;
let env: Record<string, string>;
let projects = 0;
const project = (label: string) => `e2e-${label}-${process.pid % 1000}-${projects++}`;
const synkti = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 30_000 });
const json = async (args: string[]) => {
  const run = await synkti([...args, "--output", "json"]);
  return { code: run.code, body: JSON.parse(run.stdout), stderr: run.stderr };
};

beforeAll(async () => {
  moto = await startMoto();
  env = { ...awsEnvFor(moto.url), SYNKTI_LOG_LEVEL: "warn" };
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

describe("synkti infra (built binary)", () => {
  it("up creates, a second up is a no-op that says so, status is SAFE", async () => {
    const p = project("up");
    const first = await json(["infra", "up", "--project-name", p]);
    expect(first.code).toBe(0);
    expect(first.body).toEqual({
      dryRun: false,
      changed: true,
      resources: [
        { kind: "bucket", name: `${p}-models`, action: "created", changes: expect.any(Array) },
        { kind: "role", name: `${p}-synkti-worker`, action: "created", changes: ["does not exist"] },
        { kind: "role-policy", name: `${p}-synkti-worker/${p}-synkti-worker`, action: "created", changes: ["does not exist"] },
        { kind: "instance-profile", name: `${p}-synkti-worker`, action: "created", changes: expect.any(Array) },
        { kind: "load-balancer-security-group", name: `${p}-synkti-lb`, action: "created", changes: ["does not exist"] },
        { kind: "security-group", name: `${p}-synkti-workers`, action: "created", changes: expect.any(Array) },
        { kind: "target-group", name: expect.stringMatching(/-synkti-vllm$/), action: "created", changes: expect.any(Array) },
        { kind: "load-balancer", name: expect.stringMatching(/-synkti$/), action: "created", changes: expect.any(Array) },
        { kind: "listener", name: expect.stringMatching(/-synkti:80$/), action: "created", changes: expect.any(Array) },
        { kind: "api-key", name: `/synkti/${p}/api-key`, action: "created", changes: expect.any(Array) },
      ],
    });

    const again = await synkti(["infra", "up", "--project-name", p]);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/ exists, unchanged$/gm)).toHaveLength(10);
    expect(again.stdout).toContain("Nothing to do");
    expect((await json(["infra", "up", "--project-name", p])).body).toMatchObject({ changed: false });

    const status = await json(["infra", "status", "--project-name", p]);
    expect(status.code).toBe(0);
    expect(status.body).toMatchObject({ ok: true, fix: null });
    expect(status.body.resources.map((r: { state: string }) => r.state)).toEqual(Array(10).fill("present"));
  });

  it("status exits 1 on drift with the fix, and up repairs it (updated)", async () => {
    const p = project("drift");
    expect((await synkti(["infra", "up", "--project-name", p])).code).toBe(0);
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: `${p}-models`,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true },
      }),
    );
    const status = await json(["infra", "status", "--project-name", p, "--region", "us-east-1"]);
    expect(status.code).toBe(1);
    expect(status.body.fix).toBe(`synkti infra up --project-name ${p} --region us-east-1`);
    expect(status.body.resources[0]).toEqual({
      kind: "bucket",
      name: `${p}-models`,
      state: "drifted",
      detail: "public access block: BlockPublicPolicy off",
    });
    const text = await synkti(["infra", "status", "--project-name", p]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`Run: synkti infra up --project-name ${p}`);

    const repair = await json(["infra", "up", "--project-name", p]);
    expect(repair.code).toBe(0);
    expect(repair.body.resources[0]).toMatchObject({ kind: "bucket", action: "updated" });
    expect((await synkti(["infra", "status", "--project-name", p])).code).toBe(0);
  });

  it("up --dry-run prints the plan and changes nothing; status then says missing", async () => {
    const p = project("dry");
    const plan = await json(["infra", "up", "--project-name", p, "--dry-run"]);
    expect(plan.code).toBe(0);
    expect(plan.body).toMatchObject({ dryRun: true, changed: true });
    expect(plan.body.resources.map((r: { action: string }) => r.action)).toEqual(Array(10).fill("create"));
    const status = await json(["infra", "status", "--project-name", p]);
    expect(status.code).toBe(1);
    expect(status.body.resources.map((r: { state: string }) => r.state)).toEqual(Array(10).fill("missing"));
  });

  it("destroy lists and exits 1 without --yes, deletes with --yes, and is idempotent", async () => {
    const p = project("destroy");
    expect((await synkti(["infra", "up", "--project-name", p])).code).toBe(0);

    const listing = await synkti(["infra", "destroy", "--project-name", p]);
    expect(listing.code).toBe(1);
    expect(listing.stdout).toContain("bucket with 0 objects");
    expect(listing.stdout).toContain(`Run: synkti infra destroy --project-name ${p} --yes`);
    const listed = await json(["infra", "destroy", "--project-name", p]);
    expect(listed.code).toBe(1);
    expect(listed.body).toMatchObject({ confirmed: false, changed: false, instances: [], fix: `synkti infra destroy --project-name ${p} --yes` });
    expect(listed.body.resources.map((r: { action: string }) => r.action)).toEqual(Array(10).fill("delete"));
    expect((await synkti(["infra", "status", "--project-name", p])).code).toBe(0);

    const deleted = await json(["infra", "destroy", "--project-name", p, "--yes"]);
    expect(deleted.code).toBe(0);
    expect(deleted.body).toMatchObject({ confirmed: true, changed: true, fix: null });
    expect(deleted.body.resources.map((r: { action: string }) => r.action)).toEqual(Array(10).fill("deleted"));

    const again = await synkti(["infra", "destroy", "--project-name", p, "--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Nothing to delete");
    expect((await synkti(["infra", "destroy", "--project-name", p])).code).toBe(0);
  });

  it("--allow-cidr and --revoke-cidr change only the load balancer's group; a bad CIDR or certificate is exit 2 before any AWS call", async () => {
    const p = project("cidr");
    const first = await json(["infra", "up", "--project-name", p, "--allow-cidr", "203.0.113.0/24", "--allow-cidr", "198.51.100.0/24"]);
    expect(first.code).toBe(0);
    const revoke = await json(["infra", "up", "--project-name", p, "--revoke-cidr", "198.51.100.0/24"]);
    expect(revoke.code).toBe(0);
    expect(revoke.body.resources.filter((r: { action: string }) => r.action === "updated")).toEqual([
      { kind: "load-balancer-security-group", name: `${p}-synkti-lb`, action: "updated", changes: ["revoke tcp 80 from 198.51.100.0/24"] },
    ]);

    for (const args of [["--allow-cidr", "203.0.113.7"], ["--revoke-cidr", "10.1.2.3/8"], ["--certificate-arn", "my-cert"]]) {
      const bad = await synkti(["infra", "up", "--project-name", p, ...args], { AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}` });
      expect(bad.code, args.join(" ")).toBe(2);
      expect(bad.stderr).toContain(`Invalid ${args[0]} '${args[1]}'`);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("exit 2 for an invalid project name, 1 for no region, 3 when AWS cannot be reached (message and remedy, no stack)", async () => {
    const bad = await synkti(["infra", "up", "--project-name", "Bad_Name"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Invalid project name");

    for (const command of ["up", "status", "destroy"]) {
      const noRegion = await runCli(["infra", command, "--project-name", project("noregion")], {
        env: { ...env, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: "/dev/null" },
      });
      // A missing region is a missing precondition (exit 1), as preflight's region requirement says.
      expect(noRegion.code, command).toBe(1);
      expect(`${noRegion.stdout}${noRegion.stderr}`).toContain("--region <region>");
    }

    const closed = `http://127.0.0.1:${await closedPort()}`;
    const offline = project("offline");
    const down = await synkti(["infra", "status", "--project-name", offline], { AWS_ENDPOINT_URL: closed });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^Error: Could not reach AWS at http:\/\/127\.0\.0\.1:\d+ \(sts GetCallerIdentity\) while /m);
    // The AWS error layer does not know the project; the printed fix still carries its name.
    expect(down.stderr).toContain(`Run: synkti preflight --project-name ${offline} `);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});
