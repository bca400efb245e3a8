/**
 * The deployer's view of the load balancer against moto, after `infra up` made it: the endpoint
 * (URL from moto's DNS name, the key from SSM only with showKey), status with registered targets,
 * and down, whose DeregisterTargets must reach AWS before TerminateInstances (the order is read off
 * the fault proxy). moto deregisters at once (no draining): the wait itself is unit-tested.
 */
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { describeEndpoint } from "../../../src/deployer/endpoint/endpoint.js";
import { downProject } from "../../../src/deployer/fleet/down.js";
import { projectStatus } from "../../../src/deployer/fleet/status.js";
import { infraUp } from "../../../src/infra/up.js";
import { projectNames, type ProjectNames } from "../../../src/infra/names.js";
import { sdkConfigFor } from "../../support/moto.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
let elb: ElasticLoadBalancingV2Client;
let ssm: SSMClient;
beforeAll(async () => {
  h = await startHarness();
  elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(h.moto.url), maxAttempts: 1 });
  ssm = new SSMClient({ ...sdkConfigFor(h.moto.url), maxAttempts: 1 });
});
afterAll(async () => {
  elb?.destroy();
  ssm?.destroy();
  await h?.close();
});

let projects = 0;
async function project(label: string): Promise<ProjectNames> {
  const names = projectNames(`it-${label}-${process.pid % 1000}-${projects++}`);
  await infraUp({ clients: h.clients, log: silentLogger, clock: systemClock }, names);
  return names;
}

async function workers(names: ProjectNames, count: number, model = "tiny-model"): Promise<string[]> {
  const out = await h.ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "g5.xlarge",
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: names.project }, { Key: "SynktiRole", Value: "worker" }, { Key: "SynktiModel", Value: model }] }],
    }),
  );
  return (out.Instances ?? []).map((i) => i.InstanceId!).sort();
}

async function targetGroupArn(names: ProjectNames): Promise<string> {
  return (await elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }))).TargetGroups![0]!.TargetGroupArn!;
}

describe("endpoint, status and down against moto", () => {
  it("endpoint: the load balancer's DNS name over HTTP, the workers' model, the key only when asked", async () => {
    const names = await project("endpoint");
    await workers(names, 2, "qwen-7b");
    const dns = (await elb.send(new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))).LoadBalancers![0]!.DNSName!;
    const key = (await ssm.send(new GetParameterCommand({ Name: names.apiKeyParameter, WithDecryption: true }))).Parameter!.Value!;

    h.proxy.resetCounts();
    const plain = await describeEndpoint(h.fleet, names);
    expect(plain).toMatchObject({ url: `http://${dns}`, model: "qwen-7b", apiKeyParameter: names.apiKeyParameter, warnings: [] });
    expect(plain.apiKey).toBeUndefined();
    expect(JSON.stringify(plain)).not.toContain(key);
    expect(h.proxy.counts()["ssm:GetParameter"]).toBeUndefined(); // the key is not even read

    const shown = await describeEndpoint(h.fleet, names, { showKey: true });
    expect(shown.apiKey).toBe(key);
    expect(h.proxy.counts()["ssm:GetParameter"]).toBe(1);
  });

  it("status: the URL and every registered target's state from DescribeTargetHealth", async () => {
    const names = await project("status");
    const ids = await workers(names, 2);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: await targetGroupArn(names), Targets: [{ Id: ids[0]! }] }));
    const status = await projectStatus({ ...h.fleet, askHealth: async () => ({ health: "unknown", detail: null }) }, names.project);
    expect(status.loadBalancerUnavailable).toBeNull();
    expect(status.loadBalancer?.url).toMatch(/^http:\/\/.+/);
    // moto reports a registered target healthy at once (AWS: initial, then healthy after 2 checks).
    expect(status.loadBalancer?.targets).toEqual([{ instanceId: ids[0], state: "healthy", reason: null, description: null }]);
    expect(status.workers.map((w) => w.instanceId).sort()).toEqual(ids);
  });

  it("down: DeregisterTargets reaches AWS before TerminateInstances; no target is left", async () => {
    const names = await project("down");
    const ids = await workers(names, 2);
    const arn = await targetGroupArn(names);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) }));

    h.proxy.resetCounts();
    const result = await downProject(h.fleet, { project: names.project, intervalMs: 100 });
    const actions = h.proxy.calls().map((c) => c.action);
    const deregisterAt = actions.indexOf("elasticloadbalancing:DeregisterTargets");
    const terminateAt = actions.indexOf("ec2:TerminateInstances");
    expect(deregisterAt, actions.join(" ")).toBeGreaterThanOrEqual(0);
    expect(terminateAt).toBeGreaterThan(deregisterAt);
    // The wait looked again (and saw them gone) before terminating.
    expect(actions.slice(deregisterAt, terminateAt)).toContain("elasticloadbalancing:DescribeTargetHealth");
    expect(result).toMatchObject({ terminated: ids, remaining: [], error: null });
    expect(result.deregistration).toMatchObject({ targetGroup: names.targetGroup, targets: ids, drained: true, warning: null });
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).toEqual([]);
  });

  it("down: a refused DeregisterTargets is reported and the instances are terminated anyway", async () => {
    const names = await project("down-refused");
    const ids = await workers(names, 1);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: await targetGroupArn(names), Targets: [{ Id: ids[0]! }] }));
    h.proxy.addRule({ action: "elasticloadbalancing:DeregisterTargets", error: "access-denied" });
    try {
      const result = await downProject(h.fleet, { project: names.project, intervalMs: 100 });
      expect(result.deregistration?.warning).toMatch(/^could not deregister the targets from .*; terminating anyway/);
      expect(result).toMatchObject({ terminated: ids, remaining: [], error: null });
    } finally {
      h.proxy.clearRules();
    }
  });
});
