/**
 * A launch ends by printing the endpoint (issue 10 item 3): the launch's result gains `endpoint`
 * (the URL, SYNKTI_ENDPOINT_URL when set, the model, a curl line) and its text an `Endpoint:` block,
 * never the key; without a load balancer, or when AWS refuses the read, the launch still succeeds
 * and says why there is no endpoint, with the command to run.
 */
import { describe, expect, it } from "vitest";
import { renderLaunchOutcome } from "../../../src/cli/commands/launch.js";
import { silentLogger } from "../../../src/core/log.js";
import { launchWorkers } from "../../../src/deployer/launch/launch.js";
import { launchOutcome } from "../../../src/deployer/launch/outcome.js";
import type { LaunchTarget } from "../../../src/deployer/launch/types.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { accessDenied, FakeLoadBalancer } from "./fake-load-balancer.js";

const KEY = "k3y-Secret_value-0123456789abcdefghijklmnopqrstu";
const DNS = "demo-synkti-1234567890.us-east-1.elb.amazonaws.com";

function setup() {
  const ec2 = new FakeEc2();
  const clock = instantClock();
  const lb = new FakeLoadBalancer(clock);
  const reads: string[] = [];
  const secrets = async (parameter: string) => (reads.push(parameter), KEY);
  const target: LaunchTarget = {
    project: "demo",
    model: "qwen-7b",
    region: "us-east-1",
    instanceType: "g5.xlarge",
    imageId: "ami-dca37ea5",
    securityGroupId: "sg-fake",
    instanceProfile: "demo-synkti-worker",
    subnets: Object.fromEntries(ec2.zones.map((z) => [z, `subnet-${z}`])),
    userData: "#!/bin/bash\n",
    binarySha256: "a".repeat(64),
  };
  return { lb, reads, target, deps: { ec2, lb, secrets, clock, log: silentLogger } };
}

describe("a launch's outcome: the endpoint at the end", () => {
  it("adds the endpoint of the launched workers' model, without reading the key; the text ends with the URL and a curl line", async () => {
    const { deps, reads, target } = setup();
    const result = await launchWorkers(deps, { target, workers: 2 });
    const outcome = await launchOutcome(deps, result, { region: "us-east-1" });
    expect(outcome).toMatchObject({ launched: result.launched, endpointUnavailable: null });
    expect(outcome.endpoint).toMatchObject({ url: `http://${DNS}`, urlSource: "load-balancer", model: "qwen-7b", apiKeyParameter: "/synkti/demo/api-key" });
    expect(outcome.endpoint).not.toHaveProperty("apiKey");
    expect(reads).toEqual([]);
    const text = renderLaunchOutcome(outcome, "us-east-1");
    expect(text).toMatch(/^demo: .*2 running \(launch l-/);
    expect(text).toContain(`\n\nEndpoint: http://${DNS}  (model qwen-7b)\n  export SYNKTI_API_KEY=$(synkti endpoint --project-name demo --region us-east-1 --show-key --output json | jq -r .apiKey)\n  curl -sS http://${DNS}/v1/completions`);
    expect(JSON.stringify(outcome) + text).not.toContain(KEY);
  });

  it("SYNKTI_ENDPOINT_URL replaces the URL shown; --wait's line comes before the endpoint", async () => {
    const { deps, target } = setup();
    const result = await launchWorkers(deps, { target, workers: 1 });
    const outcome = await launchOutcome(deps, result, { urlOverride: "http://127.0.0.1:18080", waited: { serving: ["i-1"], waitedMs: 83_000 } });
    expect(outcome.endpoint).toMatchObject({ url: "http://127.0.0.1:18080", urlSource: "SYNKTI_ENDPOINT_URL", loadBalancerUrl: `http://${DNS}` });
    expect(outcome.wait).toEqual({ serving: ["i-1"], waitedSeconds: 83 });
    expect(renderLaunchOutcome(outcome)).toMatch(/All 1 workers serving after 1m23s\.\n\nEndpoint: http:\/\/127\.0\.0\.1:18080  \(model qwen-7b\)\n/);
  });

  it("no load balancer, or a refused read: the launch still succeeds, and says why there is no endpoint and what to run", async () => {
    const { deps, lb, target } = setup();
    const result = await launchWorkers(deps, { target, workers: 1 });
    lb.view = undefined;
    const none = await launchOutcome(deps, result, { region: "us-east-1" });
    expect(none).toMatchObject({ launched: result.launched, endpoint: null });
    expect(renderLaunchOutcome(none)).toMatch(/\n\nEndpoint: unavailable: Project demo has no load balancer \(demo-synkti\): there is no endpoint yet\. Run: synkti infra up --project-name demo --region us-east-1$/);
    lb.failWith.loadBalancer = accessDenied("DescribeLoadBalancers");
    const refused = await launchOutcome(deps, result, {});
    expect(refused.endpoint).toBeNull();
    expect(refused.endpointUnavailable).toMatch(/^AWS refused the request while reading the project's endpoint \(AccessDenied\)/);
  });
});
