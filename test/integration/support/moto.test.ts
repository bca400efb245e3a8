/**
 * startMoto against the real moto_server: readiness, reset, IAM enforcement switches, the
 * environment for child processes, and a clean stop of the whole process group. One moto for the
 * file (start-up is the expensive part); the tests run in order.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeRegionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

let moto: Moto;
// The first 3 AWS calls are free (INITIAL_NO_AUTH_ACTION_COUNT reaches moto); later ones are checked.
beforeAll(async () => {
  moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } });
  console.info(`moto_server answered after ${moto.startupMs} ms`);
});
afterAll(() => moto?.stop());

describe("startMoto", () => {
  it("serves on 127.0.0.1, resets state, and switches IAM enforcement", async () => {
    expect(moto.url).toBe(`http://127.0.0.1:${moto.port}`);
    const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: "moto-support" }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(["moto-support"]);
    await moto.reset();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);

    // Call 4: the dummy key is no IAM user, so moto refuses it.
    const ec2 = new EC2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
    await expect(ec2.send(new DescribeRegionsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 401 } });
    await moto.resetAuth(Infinity); // off again (moto's default)
    await ec2.send(new DescribeRegionsCommand({}));
    expect(moto.output()).toMatch(/POST \/moto-api\/reset/);
  });

  it("awsEnvFor is all a child process needs (aws CLI against moto)", async () => {
    const { stdout } = await promisify(execFile)("aws", ["sts", "get-caller-identity", "--output", "json"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...awsEnvFor(moto.url) },
    });
    expect(JSON.parse(stdout)).toMatchObject({ Account: expect.stringMatching(/^\d{12}$/) });
  });

  it("stop() ends the whole process group, once, however often it is called", async () => {
    expect(groupAlive(moto.pid)).toBe(true);
    await Promise.all([moto.stop(), moto[Symbol.asyncDispose]()]);
    expect(groupAlive(moto.pid)).toBe(false);
    await expect(fetch(`${moto.url}/moto-api/data.json`)).rejects.toThrow();
  });
});
