/**
 * Hand-made recorded calls for the offline proof of the worker policy, in a small world of known
 * facts: the calls a worker makes that no recording here covers yet (issue 12's repair, user-data's
 * own, Session Manager's agent), and hostile calls a compromised worker (vLLM having reached the
 * role) would try. Requests are built by the SDK (capture.ts) from the code's own request builders
 * where there is one (the replacement's RunInstances), so a fixture is what the code sends.
 */
import { CreateTagsCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetServiceQuotaCommand, ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { runInstancesInput, type RunSpec } from "../../../src/aws/ec2-instances.js";
import { DLAMI_OWNER } from "../../../src/aws/ec2-discovery.js";
import { launchRequest } from "../../../src/failover/spawn-request.js";
import { withCompute, type ComputePolicy } from "../../../src/infra/compute-policy.js";
import { projectNames, TAG_NOTICE, TAG_PLAN, TAG_SERVED_AT, TAG_STATE, TAG_ENDPOINT, TAG_STOPPING, TAG_CLUSTER, TAG_ROLE, TAG_LAUNCH } from "../../../src/infra/names.js";
import { policyVars, workerPolicy } from "../../../src/infra/policies.js";
import { replacementRunSpec, type ReplacementTemplate } from "../../../src/worker/failover/replacement-spec.js";
import type { Facts, RecordedCall } from "./calls.js";
import { capture, captureClientConfig } from "./capture.js";
import type { PolicyDoc } from "./evaluate.js";

export const ACCOUNT = "123456789012";
export const STRANGER = "999999999999";
export const PROJECT = "acme-llm";
export const OTHER = "other-proj";
export const names = projectNames(PROJECT);
const other = projectNames(OTHER);

/** The default of the proof: two GPU types allowed, spot only (infra up --instance-types g5.xlarge,g6.xlarge). */
export const COMPUTE: ComputePolicy = { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false };

export const workerPolicyFor = (compute: ComputePolicy = COMPUTE, account = ACCOUNT): PolicyDoc =>
  withCompute(workerPolicy(policyVars(names, { accountId: account, partition: "aws", region: "us-east-1" })), compute) as PolicyDoc;

/** How a worker signs: its role's session, named by the instance (as EC2 names it). */
export const workerPrincipal = (instanceId: string, account = ACCOUNT, role = names.role) => `arn:aws:sts::${account}:assumed-role/${role}/${instanceId}`;

export const SELF = "i-0a1b2c3d4e5f60001";
/** Same project, a worker that never served: repair retires it (issue 12). */
export const PEER = "i-0a1b2c3d4e5f60002";
/** Same project's tag, but not a worker (SynktiRole=deployer-box): nothing of the worker's business. */
export const NOT_A_WORKER = "i-0a1b2c3d4e5f60003";
/** Another project's worker in the same account. */
export const FOREIGN = "i-0f0f0f0f0f0f00004";
const TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${names.targetGroup}/50dc6c495c0c9188`;
const OTHER_TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${other.targetGroup}/7fa1c2b3d4e5f601`;

export const FACTS: Facts = {
  partition: "aws",
  region: "us-east-1",
  accountId: ACCOUNT,
  tags: {
    [SELF]: { SynktiCluster: PROJECT, SynktiRole: "worker", SynktiSlot: "0" },
    [PEER]: { SynktiCluster: PROJECT, SynktiRole: "worker", SynktiSlot: "1" },
    [NOT_A_WORKER]: { SynktiCluster: PROJECT, SynktiRole: "deployer-box" },
    [FOREIGN]: { SynktiCluster: OTHER, SynktiRole: "worker" },
    "sg-0project00000001": { SynktiCluster: PROJECT },
    "sg-0other0000000002": { SynktiCluster: OTHER },
  },
  imageOwners: { "ami-0dlami000000001": "amazon", "ami-0own0000000002": ACCOUNT, "ami-0evil000000003": "666666666666", "ami-0dlamiid000004": DLAMI_OWNER },
  bucketOwners: { [names.bucket]: ACCOUNT, [other.bucket]: ACCOUNT },
  instanceProfileRoles: { [names.instanceProfile]: names.role, "admin-profile": "admin", "shadow-profile": names.role },
};

const ec2 = new EC2Client(captureClientConfig);
const elb = new ElasticLoadBalancingV2Client(captureClientConfig);
const s3 = new S3Client(captureClientConfig);
const ssm = new SSMClient(captureClientConfig);
const quotas = new ServiceQuotasClient(captureClientConfig);

const template: ReplacementTemplate = {
  project: PROJECT,
  model: "org/model",
  imageId: "ami-0dlami000000001",
  securityGroupId: "sg-0project00000001",
  instanceProfileName: names.instanceProfile,
  userData: "#!/bin/bash\necho boot\n",
  subnets: { "us-east-1a": "subnet-0aaaaaaaaaaaaaaa1", "us-east-1b": "subnet-0bbbbbbbbbbbbbbb2" },
  rootVolume: { deviceName: "/dev/sda1", sizeGiB: 120 },
  launchTypes: { instanceTypes: ["g5.xlarge", "g6.xlarge"], onDemandFallback: true },
};
/** The replacement the failover (and repair, through the same spawn path) sends, with a slot. */
export const replacementSpec = (market: "spot" | "on-demand" = "spot"): RunSpec =>
  replacementRunSpec(template, launchRequest(PROJECT, { instanceId: SELF, instanceType: "g5.xlarge", zone: "us-east-1a", slot: "0" }, { instanceType: "g6.xlarge", zone: "us-east-1b", market }));
const run = (spec: RunSpec, extra: Record<string, unknown> = {}) => capture(ec2, new RunInstancesCommand({ ...runInstancesInput(spec), ...extra }));
const tag = (id: string, tags: Record<string, string>) => capture(ec2, new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
const put = (bucket: string, key: string, ifNoneMatch?: string) => capture(s3, new PutObjectCommand({ Bucket: bucket, Key: key, Body: "{}", ExpectedBucketOwner: ACCOUNT, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }));

export interface Labeled {
  label: string;
  call: RecordedCall;
  /** The world as this call sees it, when it differs from FACTS. */
  facts?: Facts;
}

/**
 * Bucket names are global: after a delete (or before `infra up`), another account can own a bucket
 * named like the project's and open it to everyone. The worker must still refuse it.
 */
export const SQUATTED: Facts = { ...FACTS, bucketOwners: { [names.bucket]: STRANGER }, openBuckets: [names.bucket] };
const squatted = (call: Promise<RecordedCall>) => call.then((c) => ({ call: c, facts: SQUATTED }));

/** Calls a worker makes (or its user-data, or the SSM agent on its AMI): each must be Allowed. */
export async function workerCalls(): Promise<Labeled[]> {
  const at = new Date().toISOString();
  return Promise.all(
    Object.entries({
      // issue 12 (repair): claims and outcomes created only if absent, intent read, listings, one instance checked, a never-serving peer retired
      "claim a slot (If-None-Match: *)": put(names.bucket, names.claimKey(1, PEER), "*"),
      "record a repair outcome (If-None-Match: *)": put(names.bucket, names.repairOutcomeKey(1, PEER), "*"),
      "read the desired size": capture(s3, new GetObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, IfNoneMatch: '"etag"', ExpectedBucketOwner: ACCOUNT })),
      "list the claims": capture(s3, new ListObjectsV2Command({ Bucket: names.bucket, Prefix: names.claimsPrefix, ExpectedBucketOwner: ACCOUNT })),
      "list the repair outcomes": capture(s3, new ListObjectsV2Command({ Bucket: names.bucket, Prefix: names.repairPrefix, ExpectedBucketOwner: ACCOUNT })),
      "check one instance by id": capture(ec2, new DescribeInstancesCommand({ InstanceIds: [PEER] })),
      "retire a never-serving worker of the project": capture(ec2, new TerminateInstancesCommand({ InstanceIds: [PEER] })),
      "launch the replacement (spot, slot inherited)": run(replacementSpec()),
      // issue 12: the first serving, with its time, in one CreateTags
      "say serving, with SynktiServedAt": tag(SELF, { [TAG_STATE]: "serving", [TAG_SERVED_AT]: at }),
      "publish endpoint, plan and notice": tag(SELF, { [TAG_ENDPOINT]: "10.0.0.5:8080", [TAG_PLAN]: "ready", [TAG_NOTICE]: at }),
      "end itself": capture(ec2, new TerminateInstancesCommand({ InstanceIds: [SELF] })),
      // a rebalance's room for an early replacement (issue 11): the spot quota and the type's vCPUs
      "read the spot vCPU quota": capture(quotas, new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: "L-3819A6DF" })),
      "read the type's vCPUs": capture(ec2, new DescribeInstanceTypesCommand({ InstanceTypes: ["g5.xlarge"] })),
      "find its target group by name": capture(elb, new DescribeTargetGroupsCommand({ Names: [names.targetGroup] })),
      "wait for its target to be healthy": capture(elb, new DescribeTargetHealthCommand({ TargetGroupArn: TG })),
      "join the target group": capture(elb, new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: SELF, Port: 8000 }] })),
      "leave the target group": capture(elb, new DeregisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: SELF, Port: 8000 }] })),
      "read the API key": capture(ssm, new GetParameterCommand({ Name: names.apiKeyParameter, WithDecryption: true })),
      // user-data (scripts/user-data.sh.tpl): binary, the bucket's owner, failure record and log, state, end
      "user-data: fetch the pinned binary": capture(s3, new GetObjectCommand({ Bucket: names.bucket, Key: names.pinnedBinaryKey("ab".repeat(32)) })),
      "user-data: the bucket is the deployer's (head-bucket)": capture(s3, new HeadBucketCommand({ Bucket: names.bucket, ExpectedBucketOwner: ACCOUNT })),
      "user-data: failure record": put(names.bucket, names.failureRecordKey(SELF)),
      "user-data: boot log": put(names.bucket, names.bootLogKey(SELF)),
      "user-data: failover timeline": put(names.bucket, names.failoverKey(SELF)),
      "user-data: SynktiState=failed": tag(SELF, { [TAG_STATE]: "failed" }),
      // Session Manager's agent on the AMI (not synkti): registration and its channels
      "ssm agent: registration": Promise.resolve<RecordedCall>({ action: "ssm:UpdateInstanceInformation", json: { InstanceId: SELF } }),
      "ssm agent: control channel": Promise.resolve<RecordedCall>({ action: "ssmmessages:CreateControlChannel" }),
      "ssm agent: data channel": Promise.resolve<RecordedCall>({ action: "ssmmessages:CreateDataChannel" }),
      "ssm agent: open control channel": Promise.resolve<RecordedCall>({ action: "ssmmessages:OpenControlChannel" }),
      "ssm agent: open data channel": Promise.resolve<RecordedCall>({ action: "ssmmessages:OpenDataChannel" }),
    }).map(async ([label, call]) => ({ label, call: await call })),
  );
}

/** The on-demand replacement, allowed only when infra up allowed on-demand. */
export const onDemandReplacement = () => run(replacementSpec("on-demand"));

/** What a compromised worker would try: every one must be Denied. */
export async function hostileCalls(): Promise<Labeled[]> {
  const spec = replacementSpec();
  return Promise.all(
    Object.entries({
      "terminate another project's instance": capture(ec2, new TerminateInstancesCommand({ InstanceIds: [FOREIGN] })),
      "terminate a project instance that is not a worker": capture(ec2, new TerminateInstancesCommand({ InstanceIds: [NOT_A_WORKER] })),
      "tag another project's instance": tag(FOREIGN, { [TAG_STATE]: "serving" }),
      "tag a project instance that is not a worker": tag(NOT_A_WORKER, { [TAG_STATE]: "serving" }),
      "move itself out of the project (SynktiCluster)": tag(SELF, { [TAG_CLUSTER]: OTHER }),
      "adopt another project's instance (SynktiCluster, SynktiRole)": tag(FOREIGN, { [TAG_CLUSTER]: PROJECT, [TAG_ROLE]: "worker" }),
      "stop the cluster (SynktiStopping)": tag(PEER, { [TAG_STOPPING]: "true" }),
      "hide a launch (SynktiLaunch)": tag(SELF, { [TAG_LAUNCH]: "x" }),
      "a key the worker never writes (Owner)": tag(SELF, { Owner: "attacker" }),
      "launch a type infra up did not allow (p5.48xlarge)": run({ ...spec, instanceType: "p5.48xlarge" }),
      "launch an image of another owner": run({ ...spec, imageId: "ami-0evil000000003" }),
      "launch on-demand when only spot is allowed": onDemandReplacement(),
      "launch with an admin instance profile (PassRole of another role)": run({ ...spec, instanceProfileName: "admin-profile" }),
      "launch with another profile holding the worker role": run({ ...spec, instanceProfileName: "shadow-profile" }),
      "launch into another project's security group": run({ ...spec, securityGroupId: "sg-0other0000000002" }),
      "launch with no tags at all": run(spec, { TagSpecifications: undefined }),
      "launch an untracked instance (no SynktiCluster)": run({ ...spec, tags: Object.fromEntries(Object.entries(spec.tags).filter(([k]) => k !== TAG_CLUSTER)) }),
      "launch something that is not a worker (SynktiRole)": run({ ...spec, tags: { ...spec.tags, [TAG_ROLE]: "miner" } }),
      "launch with an extra tag key (SynktiStopping)": run({ ...spec, tags: { ...spec.tags, [TAG_STOPPING]: "true" } }),
      "launch with IMDSv1 (tokens optional)": run(spec, { MetadataOptions: { HttpTokens: "optional", HttpEndpoint: "enabled", HttpPutResponseHopLimit: 1 } }),
      "launch with the volume labelled for another project": run(spec, {
        TagSpecifications: runInstancesInput(spec).TagSpecifications!.map((t) => (t.ResourceType === "volume" ? { ...t, Tags: [{ Key: TAG_CLUSTER, Value: OTHER }, { Key: TAG_ROLE, Value: "worker" }] } : t)),
      }),
      "launch with an SSH key": run(spec, { KeyName: "attacker" }),
      "read another project's bucket": capture(s3, new GetObjectCommand({ Bucket: other.bucket, Key: "bin/synkti" })),
      "list the project's bucket name owned by another account": squatted(capture(s3, new ListObjectsV2Command({ Bucket: names.bucket }))),
      "read the project's bucket name owned by another account": squatted(capture(s3, new GetObjectCommand({ Bucket: names.bucket, Key: "bin/synkti" }))),
      "write logs into the project's bucket name owned by another account": squatted(put(names.bucket, names.failureRecordKey(SELF))),
      "claim in the project's bucket name owned by another account": squatted(put(names.bucket, names.claimKey(0, PEER), "*")),
      "write the desired size (cluster/)": put(names.bucket, names.desiredKey),
      "overwrite a claim (no If-None-Match)": put(names.bucket, names.claimKey(0, PEER)),
      "overwrite a repair outcome (no If-None-Match)": put(names.bucket, names.repairOutcomeKey(0, PEER)),
      "replace the binary": put(names.bucket, names.binaryKey),
      "delete a failure record": capture(s3, new DeleteObjectCommand({ Bucket: names.bucket, Key: names.failureRecordKey(PEER) })),
      "register in another project's target group": capture(elb, new RegisterTargetsCommand({ TargetGroupArn: OTHER_TG, Targets: [{ Id: SELF }] })),
      "read another project's API key": capture(ssm, new GetParameterCommand({ Name: other.apiKeyParameter, WithDecryption: true })),
    }).map(async ([label, pending]) => {
      const got = await pending;
      return "call" in got ? { label, ...got } : { label, call: got };
    }),
  );
}
