/**
 * startMoto against the real moto_server: readiness, reset, IAM enforcement switches, the
 * environment for child processes, and a clean stop of the whole process group.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeRegionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { awsEnvFor, sdkConfigFor, startMoto } from "../../support/moto.js";

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("startMoto", () => {
  it("starts, serves, resets, switches IAM enforcement, and stops its whole process group", async () => {
    let pid: number;
    {
      // The first 3 calls are free (INITIAL_NO_AUTH_ACTION_COUNT); later ones are checked.
      await using moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } });
      pid = moto.pid;
      console.info(`moto_server answered after ${moto.startupMs} ms`);
      expect(moto.url).toBe(`http://127.0.0.1:${moto.port}`);
      expect(groupAlive(pid)).toBe(true);

      const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
      await s3.send(new CreateBucketCommand({ Bucket: "moto-support" }));
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(["moto-support"]);
      await moto.reset();
      expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);

      // Call 4: the dummy key is no IAM user, so moto refuses it.
      const ec2 = new EC2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
      await expect(ec2.send(new DescribeRegionsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 401 } });
      await moto.resetAuth(Infinity); // off again
      await ec2.send(new DescribeRegionsCommand({}));
      expect(moto.output()).toMatch(/POST \/moto-api\/reset/);
    }
    expect(groupAlive(pid)).toBe(false); // disposed: nothing of the group is left
  });

  it("awsEnvFor is all a child process needs (aws CLI against moto)", async () => {
    await using moto = await startMoto();
    const { stdout } = await promisify(execFile)("aws", ["sts", "get-caller-identity", "--output", "json"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...awsEnvFor(moto.url) },
    });
    expect(JSON.parse(stdout)).toMatchObject({ Account: expect.stringMatching(/^\d{12}$/) });
    await moto.stop();
    await moto.stop(); // idempotent
  });
});
