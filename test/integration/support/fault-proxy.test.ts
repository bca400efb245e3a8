/**
 * The fault proxy with the real AWS SDK v3 in front of a real moto: faults surface as the SDK's
 * own error names and statuses, and everything not faulted (signatures included) goes through.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DescribeAvailabilityZonesCommand, DescribeInstancesCommand, DescribeRegionsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";

let moto: Moto;
let proxy: FaultProxy;
const config = (extra: { maxAttempts?: number; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}) => ({
  ...sdkConfigFor(proxy.url, extra.credentials ? { credentials: extra.credentials } : {}),
  maxAttempts: extra.maxAttempts ?? 1,
});
const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
  );
  if (error === undefined) throw new Error("expected the call to fail");
  return { name: error.name, status: error.$metadata?.httpStatusCode };
};
const runIn = (ec2: EC2Client, az: string) =>
  ec2.send(new RunInstancesCommand({ ImageId: "ami-12345678", InstanceType: "g5.xlarge", MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: az } }));

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.url });
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
afterEach(() => {
  proxy.clearRules();
  proxy.resetCounts();
});

describe("fault proxy against moto", () => {
  it("forwards untouched calls of every protocol and counts them per action", async () => {
    const ec2 = new EC2Client(config());
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones?.map((z) => z.ZoneName)).toContain("us-east-1a");
    const identity = await new STSClient(config()).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toMatch(/^\d{12}$/);

    const s3 = new S3Client(config());
    await s3.send(new CreateBucketCommand({ Bucket: "proxy-forward" }));
    await s3.send(new PutObjectCommand({ Bucket: "proxy-forward", Key: "a/b.txt", Body: "hello" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "proxy-forward", Key: "a/b.txt" }));
    expect(await got.Body?.transformToString()).toBe("hello");
    await s3.send(new HeadObjectCommand({ Bucket: "proxy-forward", Key: "a/b.txt" }));
    await s3.send(new ListObjectsV2Command({ Bucket: "proxy-forward" }));

    expect(proxy.counts()).toMatchObject({
      "ec2:DescribeAvailabilityZones": 1,
      "sts:GetCallerIdentity": 1,
      "s3:CreateBucket": 1,
      "s3:PutObject": 1,
      "s3:GetObject": 1,
      "s3:HeadObject": 1,
      "s3:ListObjectsV2": 1,
    });
  });

  it("streams a multipart upload through (6 MiB in two parts)", async () => {
    const s3 = new S3Client(config({ maxAttempts: 3 }));
    const where = { Bucket: "proxy-multipart", Key: "big.bin" };
    await s3.send(new CreateBucketCommand({ Bucket: where.Bucket }));
    const body = Buffer.alloc(6 * 1024 * 1024, 7);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(where));
    const parts = [body.subarray(0, 5 * 1024 * 1024), body.subarray(5 * 1024 * 1024)];
    const sent = await Promise.all(parts.map((part, i) => s3.send(new UploadPartCommand({ ...where, UploadId, PartNumber: i + 1, Body: part }))));
    await s3.send(new CompleteMultipartUploadCommand({ ...where, UploadId, MultipartUpload: { Parts: sent.map((p, i) => ({ ETag: p.ETag, PartNumber: i + 1 })) } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: "proxy-multipart", Key: "big.bin" }));
    expect(head.ContentLength).toBe(body.length);
    expect(proxy.counts()).toMatchObject({ "s3:CreateMultipartUpload": 1, "s3:UploadPart": 2, "s3:CompleteMultipartUpload": 1 });
  });

  it("throttles EC2 as RequestLimitExceeded 503; the SDK retries it away when allowed", async () => {
    proxy.addRule({ action: "ec2:DescribeInstances", error: "throttle", times: 1 });
    expect(await failure(new EC2Client(config()).send(new DescribeInstancesCommand({})))).toEqual({ name: "RequestLimitExceeded", status: 503 });
    await new EC2Client(config()).send(new DescribeInstancesCommand({})); // times: 1 is used up

    proxy.addRule({ action: "DescribeInstances", error: "throttle", times: 1 });
    await new EC2Client(config({ maxAttempts: 3 })).send(new DescribeInstancesCommand({}));
    expect(proxy.counts()["ec2:DescribeInstances"]).toBe(4);
  });

  it("throttles IAM/STS as Throttling 400 and S3 as SlowDown 503", async () => {
    proxy.addRule({ action: /^(iam|sts):/, error: "throttle" });
    proxy.addRule({ action: "s3:PutObject", error: "throttle" });
    expect(await failure(new IAMClient(config()).send(new CreateRoleCommand({ RoleName: "r", AssumeRolePolicyDocument: "{}" })))).toEqual({ name: "Throttling", status: 400 });
    expect(await failure(new STSClient(config()).send(new GetCallerIdentityCommand({})))).toEqual({ name: "Throttling", status: 400 });
    expect(await failure(new S3Client(config()).send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "x" })))).toEqual({ name: "SlowDown", status: 503 });
  });

  it("refuses RunInstances with InsufficientInstanceCapacity in one AZ only", async () => {
    proxy.addRule({ action: "ec2:RunInstances", error: "capacity", when: (r) => r.params["Placement.AvailabilityZone"] === "us-east-1a" });
    const ec2 = new EC2Client(config());
    expect(await failure(runIn(ec2, "us-east-1a"))).toEqual({ name: "InsufficientInstanceCapacity", status: 500 });
    const launched = await runIn(ec2, "us-east-1b");
    expect(launched.Instances?.[0]?.Placement?.AvailabilityZone).toBe("us-east-1b");
  });

  it("denies with AccessDenied 403 (IAM), UnauthorizedOperation 403 (EC2) and a bodiless 403 on S3 HEAD", async () => {
    proxy.addRule({ action: "iam:CreateRole", error: "access-denied" });
    proxy.addRule({ action: "ec2:DescribeRegions", error: "access-denied" });
    proxy.addRule({ action: "s3:HeadObject", error: "access-denied" });
    expect(await failure(new IAMClient(config()).send(new CreateRoleCommand({ RoleName: "r", AssumeRolePolicyDocument: "{}" })))).toEqual({ name: "AccessDenied", status: 403 });
    expect(await failure(new EC2Client(config()).send(new DescribeRegionsCommand({})))).toEqual({ name: "UnauthorizedOperation", status: 403 });
    // No body on HEAD (as S3 does): the SDK cannot name it ("Unknown"); only the status tells.
    expect((await failure(new S3Client(config()).send(new HeadObjectCommand({ Bucket: "b", Key: "k" })))).status).toBe(403);
  });

  it("drops the connection: the SDK sees ECONNRESET", async () => {
    proxy.addRule({ action: "ec2:DescribeRegions", drop: true, times: 1 });
    const error = await new EC2Client(config()).send(new DescribeRegionsCommand({})).catch((e: { code?: string }) => e);
    expect(error).toMatchObject({ code: "ECONNRESET" });
    expect(proxy.calls()[0]).toMatchObject({ action: "ec2:DescribeRegions", outcome: "dropped" });
  });

  it("delays a call before forwarding it", async () => {
    const id = proxy.addRule({ action: "sts:GetCallerIdentity", delayMs: 300 });
    const started = Date.now();
    await new STSClient(config()).send(new GetCallerIdentityCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250); // loose lower bound only
    expect(proxy.ruleHits(id)).toBe(1);
    expect(proxy.calls()[0]).toMatchObject({ action: "sts:GetCallerIdentity", outcome: "forwarded" });
  });

  it("keeps SigV4 signatures valid under moto's IAM enforcement, which does check them", async () => {
    const iam = new IAMClient(config());
    await iam.send(new CreateUserCommand({ UserName: "proxy-user" }));
    await iam.send(new PutUserPolicyCommand({
      UserName: "proxy-user",
      PolicyName: "describe-regions",
      PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:DescribeRegions", Resource: "*" }] }),
    }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "proxy-user" }))).AccessKey!;
    const credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    await moto.resetAuth(0);
    try {
      const regions = await new EC2Client(config({ credentials })).send(new DescribeRegionsCommand({}));
      expect(regions.Regions?.length).toBeGreaterThan(0);
      // moto recomputes the signature from the headers it receives: a wrong secret is refused...
      const wrongSecret = { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` };
      expect(await failure(new EC2Client(config({ credentials: wrongSecret })).send(new DescribeRegionsCommand({})))).toEqual({ name: "AuthFailure", status: 401 });
      // ...and so is a request whose signed Host no longer matches, which is why the proxy keeps Host.
      const rewritten = new EC2Client(config({ credentials }));
      rewritten.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers.host = `127.0.0.1:${moto.port}`;
          return next(args);
        },
        { step: "finalizeRequest", priority: "low" },
      );
      expect((await failure(rewritten.send(new DescribeRegionsCommand({})))).name).toBe("AuthFailure");
      expect((await failure(new EC2Client(config({ credentials })).send(new DescribeInstancesCommand({})))).name).toMatch(/UnauthorizedOperation|AccessDenied/);
    } finally {
      await moto.resetAuth(Infinity); // moto's default: no enforcement
    }
  });
});
