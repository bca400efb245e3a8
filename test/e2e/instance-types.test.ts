/**
 * The instance-type flags end to end (the built binary against moto): usage errors are exit 2
 * before any AWS call; a launch asking for a type `infra up --instance-types` did not allow is
 * refused (exit 1) with the `infra up` that allows it, and running that fix as printed clears it.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../support/free-port.js";
import { awsEnvFor, startMoto, type Moto } from "../support/moto.js";
import { BINARY, emptySysfsRoot, runCli } from "../support/run-cli.js";

let moto: Moto;
let env: Record<string, string>;
let projects = 0;
const project = (label: string) => `e2e-it-${label}-${process.pid % 1000}-${projects++}`;
const synkti = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

interface Report {
  verdict: string;
  requirements: Array<{ id: string; status: string; observed: string; fix: string | null }>;
}

beforeAll(async () => {
  moto = await startMoto();
  env = { ...awsEnvFor(moto.url), SYNKTI_LOG_LEVEL: "warn" };
});
afterAll(async () => {
  await moto?.stop();
});

describe("instance-type flags (built binary)", () => {
  it("a malformed --instance-types is exit 2 with the fix, before any AWS call", async () => {
    // AWS unreachable: an AWS call would be exit 3, not 2.
    const offline = { AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}` };
    const cases = [
      ["infra", "up", "--project-name", project("bad"), "--instance-types", "G5.XLARGE"],
      ["infra", "up", "--project-name", project("bad"), "--instance-types", ","],
      ["preflight", "--project-name", project("bad"), "--instance-types", "g5"],
      ["--project-name", project("bad"), "--model", "tiny", "--instance-types", "g5.xlarge;rm"],
    ];
    for (const args of cases) {
      const run = await synkti(args, offline);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/--instance-types/);
      expect(run.stderr).toMatch(/synkti (infra up|preflight) --project-name \S+ .*--instance-types g5\.xlarge,g6\.xlarge/);
      noStack(run.stderr);
    }
  }, 120_000);

  it("a launch asking for a type infra did not allow is refused with the infra up fix; the fix as printed clears it", async () => {
    const p = project("subset");
    expect((await synkti(["infra", "up", "--project-name", p, "--instance-types", "g5.xlarge"])).code).toBe(0);

    const launch = await synkti(["--project-name", p, "--model", "tiny", "--instance-types", "g5.xlarge,g6.xlarge", "--yes", "--output", "json"]);
    expect(launch.code).toBe(1);
    const report = JSON.parse(launch.stdout) as Report;
    const finding = report.requirements.find((r) => r.id === "instance-types")!;
    expect(finding).toMatchObject({ status: "fail", observed: expect.stringContaining("g6.xlarge not allowed by the worker policy") });
    expect(finding.fix).toBe(`synkti infra up --project-name ${p} --region us-east-1 --instance-types g5.xlarge,g6.xlarge`);
    noStack(launch.stderr);

    // On-demand was not allowed either.
    const onDemand = await synkti(["preflight", "--project-name", p, "--on-demand-fallback", "--output", "json"]);
    expect((JSON.parse(onDemand.stdout) as Report).requirements.find((r) => r.id === "instance-types")).toMatchObject({
      status: "fail",
      fix: `synkti infra up --project-name ${p} --region us-east-1 --allow-on-demand`,
    });

    const fixed = spawnSync("bash", ["-c", finding.fix!], {
      env: { ...process.env, ...env, SYNKTI_SYSFS_ROOT: emptySysfsRoot(), PATH: `${path.dirname(BINARY)}:${process.env.PATH}` },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(fixed.status, fixed.stderr).toBe(0);
    const after = await synkti(["preflight", "--project-name", p, "--instance-types", "g5.xlarge,g6.xlarge", "--output", "json"]);
    const cleared = (JSON.parse(after.stdout) as Report).requirements.find((r) => r.id === "instance-types")!;
    expect(cleared.status, cleared.observed).toBe("pass");
    expect(cleared.observed).toBe("g5.xlarge, g6.xlarge allowed, offered, 1 GPU(s) each");
  }, 240_000);
});
