/**
 * Load balancer stand-ins against a real moto: `watchLoadBalancers` finds each load balancer
 * created with the SDK, learns its listener's target group, settings and registered targets from
 * moto, and plays ALB in front of vLLM stand-ins bound to production ports on their own 127.x
 * addresses (as the booter's instances are), the resolver giving only the host. Times are the
 * group's divided by 10.
 */
import http from "node:http";
import { DescribeSubnetsCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_SERVER_PORT, STATUS_PORT } from "../../../src/infra/ports.js";
import { AddressPool } from "../../support/booter/addresses.js";
import { startFleetDrainingOverlay } from "../../support/load-balancer/draining-overlay.js";
import { watchLoadBalancers, type FleetEvent, type LoadBalancerFleet } from "../../support/load-balancer/fleet.js";
import { sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { until as poll } from "../../support/until.js";
import { startVllmStandin, type VllmStandin } from "../../support/vllm-standin.js";

const until = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000) => poll(what, check, timeoutMs, 50);

let moto: Moto;
let elb: ElasticLoadBalancingV2Client;
let ec2: EC2Client;
let fleet: LoadBalancerFleet;
const events: FleetEvent[] = [];
/** instance id -> its "private address", where its model server (8000) and status port (8080) listen. */
const addresses = new Map<string, string>();
const closers: (() => Promise<void>)[] = [];
const vllms = new Map<string, VllmStandin>();

/** A worker's status port as the worker serves it: /healthz is 200 while its model server is healthy. */
async function statusServer(host: string, vllm: VllmStandin): Promise<void> {
  const server = http.createServer(async (req, res) => {
    const healthy = req.url === "/healthz" && (await fetch(`${vllm.url}/health`).then((r) => r.ok, () => false));
    res.writeHead(healthy ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(STATUS_PORT, host, resolve));
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
}

/** Launches `count` instances in moto and plays each: a vLLM stand-in on <address>:8000 and a status port on :8080. */
async function instances(count: number, latencyMs = 50): Promise<string[]> {
  const launched = await ec2.send(new RunInstancesCommand({ ImageId: "ami-12345678", InstanceType: "g5.xlarge", MinCount: count, MaxCount: count }));
  const ids = launched.Instances!.map((i) => i.InstanceId!);
  const pool = new AddressPool(undefined, [MODEL_SERVER_PORT, STATUS_PORT]);
  for (const id of ids) {
    const host = await pool.allocate();
    const vllm = await startVllmStandin({ host, port: MODEL_SERVER_PORT, latencyMs });
    await vllm.ready;
    closers.push(() => vllm.close(0));
    await statusServer(host, vllm);
    addresses.set(id, host);
    vllms.set(id, vllm);
  }
  return ids;
}

/** A load balancer as synkti's infra declares it: listener on 80 -> target group on 8000, /healthz on 8080, 5 s, 2/2. */
async function loadBalancer(name: string, deregistrationDelaySeconds: number) {
  const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!;
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: name, Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!) }))).LoadBalancers![0]!;
  const group = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: `${name}-tg`,
        Protocol: "HTTP",
        Port: MODEL_SERVER_PORT,
        VpcId: subnets[0]!.VpcId,
        TargetType: "instance",
        HealthCheckPath: "/healthz",
        HealthCheckPort: String(STATUS_PORT),
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: "200" },
      }),
    )
  ).TargetGroups![0]!;
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: group.TargetGroupArn,
      Attributes: [
        { Key: "deregistration_delay.timeout_seconds", Value: String(deregistrationDelaySeconds) },
        { Key: "load_balancing.algorithm.type", Value: "least_outstanding_requests" },
      ],
    }),
  );
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 80, DefaultActions: [{ Type: "forward", TargetGroupArn: group.TargetGroupArn }] }));
  return { arn: lb.LoadBalancerArn!, groupArn: group.TargetGroupArn! };
}

const complete = (url: string, body: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer k" }, body: JSON.stringify({ prompt: "hi", max_tokens: 3, ...body }) });

beforeAll(async () => {
  moto = await startMoto();
  elb = new ElasticLoadBalancingV2Client(sdkConfigFor(moto.url));
  ec2 = new EC2Client(sdkConfigFor(moto.url));
  fleet = await watchLoadBalancers({ motoUrl: moto.url, resolve: (id) => addresses.get(id), pollIntervalMs: 200, timeScale: 10, onEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await fleet?.stop();
  for (const close of closers.reverse()) await close();
  elb?.destroy();
  ec2?.destroy();
  await moto?.stop();
});

describe("load balancer stand-ins against moto", () => {
  it("plays each load balancer created in moto: targets initial then healthy, requests spread over every instance", async () => {
    const ids = await instances(3);
    const { groupArn } = await loadBalancer("it-spread", 3);
    const started = await until("a stand-in for it-spread", () => events.find((e) => e.type === "started" && e.name === "it-spread"));
    const url = (started as { url: string }).url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await complete(url)).status).toBe(503); // nothing registered yet

    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: ids.map((Id) => ({ Id })) }));
    // moto calls them healthy at once; the stand-in starts them initial, as ALB does.
    const standin = fleet.get("it-spread")!;
    await until("the targets learnt from moto", () => standin.targets().length === 3);
    expect(standin.targets().every((t) => t.state === "initial" || t.state === "healthy")).toBe(true);
    await until("every target healthy", () => standin.targets().every((t) => t.state === "healthy"));
    expect(standin.targets().map((t) => t.instanceId).sort()).toEqual([...ids].sort());

    const answers = await Promise.all(Array.from({ length: 30 }, () => complete(url)));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    expect(ids.map((id) => vllms.get(id)!.served()).every((n) => n > 0)).toBe(true);
    expect(fleet.list()).toContainEqual(
      expect.objectContaining({ name: "it-spread", url, targetGroup: "it-spread-tg", dnsName: expect.stringContaining("elb.amazonaws.com"), targets: expect.arrayContaining([expect.objectContaining({ instanceId: ids[0], port: 8000, state: "healthy" })]) }),
    );
    expect(JSON.parse(JSON.stringify(fleet.list()))).toEqual(fleet.list()); // plain JSON for the local cloud's listing
  });

  it("a target deregistered in moto drains: its request in flight finishes, new ones go elsewhere, then it is gone", async () => {
    const ids = await instances(2, 1500);
    const { groupArn } = await loadBalancer("it-drain", 90);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: ids.map((Id) => ({ Id })) }));
    const standin = await until("a stand-in for it-drain", () => fleet.get("it-drain"));
    await until("both targets healthy", () => standin.targets().length === 2 && standin.targets().every((t) => t.state === "healthy"));
    const slow = complete(standin.url, { stream: true, max_tokens: 5 });
    const holder = await until("the request in flight", () => ids.find((id) => vllms.get(id)!.inFlight() > 0));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: groupArn, Targets: [{ Id: holder }] }));
    await until("the target draining", () => standin.targets().find((t) => t.instanceId === holder)?.state === "draining");
    const before = standin.requests()[holder];
    const others = await Promise.all([complete(standin.url), complete(standin.url)]);
    expect(others.map((r) => r.status)).toEqual([200, 200]);
    expect(standin.requests()[holder]).toBe(before);
    expect(await (await slow).text()).toMatch(/tok4[\s\S]*data: \[DONE\]/);
    await until("the drained target gone", () => !standin.targets().some((t) => t.instanceId === holder));
  });

  it("through the draining overlay, moto shows a deregistered target draining while its request is in flight, as AWS does, then not at all", async () => {
    const ids = await instances(2, 1500);
    const { groupArn } = await loadBalancer("it-overlay", 90);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: ids.map((Id) => ({ Id })) }));
    const standin = await until("a stand-in for it-overlay", () => fleet.get("it-overlay"));
    await until("both targets healthy", () => standin.targets().length === 2 && standin.targets().every((t) => t.state === "healthy"));
    await using overlay = await startFleetDrainingOverlay(moto.url, fleet);
    const viaOverlay = new ElasticLoadBalancingV2Client(sdkConfigFor(overlay.url));
    const health = async () => ((await viaOverlay.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }))).TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.TargetHealth?.State, d.TargetHealth?.Reason ?? null]);
    try {
      const slow = complete(standin.url, { stream: true, max_tokens: 5 });
      const holder = await until("the request in flight", () => ids.find((id) => vllms.get(id)!.inFlight() > 0));
      const idle = ids.find((id) => id !== holder)!;
      await viaOverlay.send(new DeregisterTargetsCommand({ TargetGroupArn: groupArn, Targets: ids.map((Id) => ({ Id })) }));
      // At once, without waiting for a poll: the idle one is done, the busy one drains.
      expect(await health()).toEqual([[holder, "draining", "Target.DeregistrationInProgress"]]);
      expect(standin.targets().map((t) => t.instanceId)).not.toContain(idle);
      expect(await (await slow).text()).toMatch(/data: \[DONE\]/);
      await until("no target left", async () => (await health()).length === 0);
    } finally {
      viaOverlay.destroy();
    }
  });

  it("with standinHealth, the overlay gives each target the stand-in's state: a just-registered one is initial until its checks pass, where moto says healthy at once", async () => {
    const [id] = (await instances(1)) as [string];
    const { groupArn } = await loadBalancer("it-health", 3);
    await using overlay = await startFleetDrainingOverlay(moto.url, fleet, { standinHealth: true });
    const viaOverlay = new ElasticLoadBalancingV2Client(sdkConfigFor(overlay.url));
    const health = async (client: ElasticLoadBalancingV2Client) => ((await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }))).TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.TargetHealth?.State]);
    try {
      await until("a stand-in for it-health, playing its group", () => fleet.list().some((lb) => lb.name === "it-health" && lb.targetGroup === "it-health-tg"));
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: [{ Id: id }] }));
      expect(await health(elb)).toEqual([[id, "healthy"]]); // moto's word, before any health check
      expect(await health(viaOverlay)).toEqual([[id, "initial"]]);
      const standin = fleet.get("it-health")!;
      await until("the stand-in's checks to pass", () => standin.targets()[0]?.state === "healthy");
      expect(await health(viaOverlay)).toEqual([[id, "healthy"]]);
    } finally {
      viaOverlay.destroy();
    }
  });

  it("a terminated instance's target is treated as deregistered; a deleted load balancer's stand-in stops", async () => {
    const ids = await instances(1);
    const { arn, groupArn } = await loadBalancer("it-gone", 3);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: ids.map((Id) => ({ Id })) }));
    const standin = await until("a stand-in for it-gone", () => fleet.get("it-gone"));
    await until("the target healthy", () => standin.targets()[0]?.state === "healthy");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    await until("the terminated target gone", () => standin.targets().length === 0);
    expect((await complete(standin.url)).status).toBe(503);

    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
    await until("the stand-in stopped", () => events.some((e) => e.type === "stopped" && e.name === "it-gone"));
    expect(fleet.get("it-gone")).toBeUndefined();
    await expect(fetch(standin.url)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
  });
});
