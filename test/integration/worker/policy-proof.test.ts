/**
 * Issue 14 item 3, over calls really made: in-process workers run their failovers against moto
 * behind the fault proxy, which records every AWS call they make (boot, preflight with its DryRun,
 * membership, tags, target group, the API key, S3 traces, the replacement's launch, the
 * self-termination). Each recorded call must be Allowed by the worker policy as `infra up`
 * renders it, conditions included (offline: @cloud-copilot/iam-simulate, see
 * test/unit/infra/policy-proof.test.ts for the hostile side and the mutation test).
 *
 * Any other file of failover-world tests joins the proof with one change: `failoverWorld(prefix,
 * { iamProof: true })` checks every test's calls after it (issue 12's repair tests: one line); a
 * test elsewhere with workers behind the proxy: `workerRefusals` (test/support/iam/recorded.ts).
 */
import { describe, expect, it } from "vitest";
import { failoverWorld } from "./failover-world.js";
import { until } from "./harness.js";

const world = failoverWorld("iam-proof", { iamProof: true });
const { name, replacementsOf, doomedWorker, playServing } = world;

type Doomed = Awaited<ReturnType<typeof doomedWorker>>;

/**
 * A notice injected into the worker's IMDS: one replacement launched, played serving, and the
 * failover retired; then `after` (what else the scenario waits for).
 */
async function replacedAfter(p: string, inject: (agent: Doomed["agent"]) => void, after?: () => Promise<unknown>) {
  const { id, agent, targetGroupArn } = await doomedWorker(p);
  try {
    inject(agent);
    await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 15_000);
    const [replacement] = await replacementsOf(id);
    await playServing(replacement!.InstanceId!, targetGroupArn);
    await until("the failover retired", async () => (await agent.status()).failover.phase === "retired", 15_000);
    await after?.();
  } finally {
    await agent.stop();
  }
}

/** A spot notice: drain, one replacement launched, retired once it serves. */
const spotNotice = (p: string) => replacedAfter(p, (agent) => agent.imds.injectSpotInterruption());

/** A rebalance recommendation: the early room check (quota, vCPUs), a replacement, then the worker ends itself. */
const rebalance = (p: string) =>
  replacedAfter(
    p,
    (agent) => agent.imds.injectRebalance(),
    () => until("its self-termination asked", async () => world.proxy.calls().some((c) => c.action === "ec2:TerminateInstances"), 10_000),
  );

const SCENARIOS: Array<[string, (project: string) => Promise<void>]> = [
  ["a spot notice: drain, replace, retire", spotNotice],
  ["a rebalance recommendation: replace early, then end itself", rebalance],
];

describe("every AWS call a worker makes in its failovers is allowed by the worker policy (offline IAM evaluation)", () => {
  const seen = new Set<string>();
  for (const [title, scenario] of SCENARIOS) {
    // The proof itself runs after each test (failoverWorld's iamProof).
    it(title, async () => {
      await scenario(name());
      for (const c of world.proxy.calls()) seen.add(c.action);
    }, 90_000);
  }

  it("covered the calls that matter (so the proof above is not vacuous)", () => {
    for (const action of [
      "ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeInstances", "ec2:TerminateInstances", "ec2:DescribeInstanceTypes", "servicequotas:GetServiceQuota",
      "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DescribeTargetHealth", "ssm:GetParameter", "s3:PutObject",
    ]) {
      expect(seen, action).toContain(action);
    }
  });
});
