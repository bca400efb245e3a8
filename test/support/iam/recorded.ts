/**
 * The proof over calls really made: the fault proxy recorded every AWS call the workers of a test
 * made (their agents talk to moto through it; the test's own arranging goes to moto directly), and
 * each must be Allowed by the worker policy as `infra up` renders it for that project. The facts a
 * request does not carry (an instance's tags, an image's owner, a profile's role) are read from moto
 * after the run. One line in any integration test that runs workers through the proxy:
 *
 *   expect(await workerRefusals({ motoUrl, project, calls: proxy.calls() })).toEqual([]);
 */
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient, ListInstanceProfilesCommand } from "@aws-sdk/client-iam";
import { DEFAULT_COMPUTE, withCompute, type ComputePolicy } from "../../../src/infra/compute-policy.js";
import { projectNames } from "../../../src/infra/names.js";
import { policyVars, workerPolicy } from "../../../src/infra/policies.js";
import type { CallRecord } from "../fault-proxy.js";
import { sdkConfigFor } from "../moto.js";
import type { Facts, RecordedCall } from "./calls.js";
import type { PolicyDoc } from "./evaluate.js";
import { judge, refusals } from "./proof.js";

/** moto's default account and the local cloud's region. */
export const MOTO_ACCOUNT = "123456789012";
const REGION = "us-east-1";

const tagsOf = (tags: Array<{ Key?: string | undefined; Value?: string | undefined }> | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));

/** What moto knows of the resources the recorded calls name. */
export async function factsFromMoto(motoUrl: string, imageIds: string[]): Promise<Facts> {
  const config = { ...sdkConfigFor(motoUrl), maxAttempts: 1 };
  const ec2 = new EC2Client(config);
  const iam = new IAMClient(config);
  try {
    const [instances, groups, images, profiles] = await Promise.all([
      ec2.send(new DescribeInstancesCommand({})),
      ec2.send(new DescribeSecurityGroupsCommand({})),
      // One by one: an id moto does not know (a test's made-up image) has no owner, not an error.
      Promise.all(imageIds.map((id) => ec2.send(new DescribeImagesCommand({ ImageIds: [id] })).then((o) => o.Images ?? [], () => []))).then((all) => ({ Images: all.flat() })),
      iam.send(new ListInstanceProfilesCommand({})),
    ]);
    const tags: Facts["tags"] = {};
    for (const i of (instances.Reservations ?? []).flatMap((r) => r.Instances ?? [])) tags[i.InstanceId!] = tagsOf(i.Tags);
    for (const g of groups.SecurityGroups ?? []) tags[g.GroupId!] = tagsOf(g.Tags);
    return {
      partition: "aws",
      region: REGION,
      accountId: MOTO_ACCOUNT,
      tags,
      // IAM's ec2:Owner is the owner's alias ("amazon") when the image has one, else its account.
      imageOwners: Object.fromEntries((images.Images ?? []).map((i) => [i.ImageId!, i.ImageOwnerAlias ?? i.OwnerId ?? "unknown"])),
      instanceProfileRoles: Object.fromEntries((profiles.InstanceProfiles ?? []).map((p) => [p.InstanceProfileName!, p.Roles?.[0]?.RoleName ?? "none"])),
    };
  } finally {
    ec2.destroy();
    iam.destroy();
  }
}

export const workerPolicyOf = (project: string, compute: ComputePolicy = DEFAULT_COMPUTE): PolicyDoc =>
  withCompute(workerPolicy(policyVars(projectNames(project), { accountId: MOTO_ACCOUNT, partition: "aws", region: REGION })), compute) as PolicyDoc;

/** Every recorded call (one per distinct request) that the project's worker policy would refuse, with why. */
export async function workerRefusals(input: { motoUrl: string; project: string; calls: CallRecord[]; compute?: ComputePolicy }): Promise<string[]> {
  const distinct = new Map<string, RecordedCall>();
  for (const { request } of input.calls) {
    const call: RecordedCall = { action: request.action, params: request.params, path: request.path, headers: request.headers, method: request.method, ...(request.json !== undefined ? { json: request.json } : {}) };
    // Pagination tokens and request ids change nothing IAM looks at.
    const { NextToken: _t, ...params } = call.params ?? {};
    distinct.set(JSON.stringify([call.action, params, call.path, call.headers?.["if-none-match"], call.json]), call);
  }
  const calls = [...distinct.values()];
  const images = [...new Set(calls.filter((c) => c.action === "ec2:RunInstances").map((c) => c.params?.["ImageId"]).filter((id): id is string => id !== undefined))];
  const facts = await factsFromMoto(input.motoUrl, images);
  const principal = `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/${projectNames(input.project).role}/i-recorded`;
  const judged = await judge(workerPolicyOf(input.project, input.compute), principal, calls.map((call) => ({ label: call.action, call })), facts);
  return refusals(judged);
}
