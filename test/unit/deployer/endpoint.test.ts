/**
 * `synkti endpoint`'s logic and text with fakes: the URL (HTTP, HTTPS, SYNKTI_ENDPOINT_URL), the
 * model from the workers' tags, the refusal without a load balancer, and the key: read only with
 * --show-key, and never in the text otherwise.
 */
import { describe, expect, it } from "vitest";
import { renderEndpoint, renderEndpointSummary } from "../../../src/cli/commands/endpoint.js";
import { silentLogger } from "../../../src/core/log.js";
import { describeEndpoint, endpointSummary, endpointUrlOverride, loadBalancerUrl } from "../../../src/deployer/endpoint/index.js";
import { projectNames } from "../../../src/infra/names.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { accessDenied, FakeLoadBalancer } from "./fake-load-balancer.js";

const KEY = "k3y-Secret_value-0123456789abcdefghijklmnopqrstu";
const DNS = "demo-synkti-1234567890.us-east-1.elb.amazonaws.com";
const names = projectNames("demo");
const worker = (model: string, extra: Record<string, string> = {}) => ({ SynktiCluster: "demo", SynktiRole: "worker", SynktiModel: model, ...extra });

function setup() {
  const ec2 = new FakeEc2();
  const lb = new FakeLoadBalancer(instantClock());
  const reads: string[] = [];
  const secrets = async (parameter: string) => (reads.push(parameter), parameter === names.apiKeyParameter ? KEY : undefined);
  return { ec2, lb, reads, deps: { ec2, lb, secrets, log: silentLogger } };
}

describe("SYNKTI_ENDPOINT_URL", () => {
  it.each([
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["http://127.0.0.1:8080/", "http://127.0.0.1:8080"],
    ["https://llm.example.com/prefix/", "https://llm.example.com/prefix"],
    ["  http://localhost:9  ", "http://localhost:9"],
  ])("accepts %j as %j", (value, url) => {
    expect(endpointUrlOverride({ SYNKTI_ENDPOINT_URL: value })).toBe(url);
  });

  it("unset or empty: no override", () => {
    expect(endpointUrlOverride({})).toBeUndefined();
    expect(endpointUrlOverride({ SYNKTI_ENDPOINT_URL: " " })).toBeUndefined();
  });

  it.each([
    ["127.0.0.1:8080", /its scheme is 127\.0\.0\.1|not a URL/],
    ["not a url", /it is not a URL/],
    ["ftp://host/x", /its scheme is ftp/],
    ["http://user:pw@host", /carries a user or password/],
    ["http://host/x?a=1", /query or fragment/],
    ["http://host/a'b", /path has characters/],
  ])("refuses %j with what is valid (exit 2)", (value, problem) => {
    let error: unknown;
    try {
      endpointUrlOverride({ SYNKTI_ENDPOINT_URL: value });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ kind: "usage", code: "invalid-endpoint-url", remedy: expect.stringMatching(/^export SYNKTI_ENDPOINT_URL=http:\/\/127\.0\.0\.1:<port>/) });
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toContain("It must be an http:// or https:// URL with a host");
  });

  it("never echoes a URL's password", () => {
    expect(() => endpointUrlOverride({ SYNKTI_ENDPOINT_URL: "http://me:hunter2@host" })).toThrow(/value not shown/);
    expect(() => endpointUrlOverride({ SYNKTI_ENDPOINT_URL: "http://me:hunter2@host" })).not.toThrow(/hunter2/);
  });
});

describe("the load balancer's URL", () => {
  it("is HTTPS when an HTTPS listener exists (HTTP then only redirects), else HTTP; a non-default port is kept", () => {
    expect(loadBalancerUrl({ dnsName: DNS, listeners: [{ protocol: "HTTP", port: 80 }] })).toBe(`http://${DNS}`);
    expect(loadBalancerUrl({ dnsName: DNS, listeners: [{ protocol: "HTTP", port: 80 }, { protocol: "HTTPS", port: 443 }] })).toBe(`https://${DNS}`);
    expect(loadBalancerUrl({ dnsName: DNS, listeners: [{ protocol: "HTTPS", port: 8443 }] })).toBe(`https://${DNS}:8443`);
    expect(loadBalancerUrl({ dnsName: DNS, listeners: [{ protocol: "HTTP", port: 8080 }] })).toBe(`http://${DNS}:8080`);
  });
});

describe("describeEndpoint", () => {
  it("gives the URL, the running workers' model, the key's parameter and a curl line; reads no key", async () => {
    const { ec2, reads, deps } = setup();
    ec2.add("us-east-1a", worker("qwen-7b"));
    ec2.add("us-east-1b", worker("qwen-7b"), "pending");
    ec2.add("us-east-1c", worker("old-model"), "terminated");
    const result = await describeEndpoint(deps, names);
    expect(result).toEqual({
      project: "demo",
      url: `http://${DNS}`,
      urlSource: "load-balancer",
      loadBalancerUrl: `http://${DNS}`,
      model: "qwen-7b",
      models: ["qwen-7b"],
      apiKeyParameter: "/synkti/demo/api-key",
      curl: `curl -sS http://${DNS}/v1/completions -H "Authorization: Bearer $SYNKTI_API_KEY" -H "Content-Type: application/json" -d '{"model":"qwen-7b","prompt":"Hello","max_tokens":16}'`,
      warnings: [],
    });
    expect(reads).toEqual([]);
  });

  it("with --show-key reads the key; the override replaces the URL shown, not the load balancer's", async () => {
    const { ec2, reads, deps } = setup();
    ec2.add("us-east-1a", worker("qwen-7b"));
    const result = await describeEndpoint(deps, names, { showKey: true, urlOverride: "http://127.0.0.1:9000" });
    expect(reads).toEqual(["/synkti/demo/api-key"]);
    expect(result).toMatchObject({ apiKey: KEY, url: "http://127.0.0.1:9000", urlSource: "SYNKTI_ENDPOINT_URL", loadBalancerUrl: `http://${DNS}` });
    expect(result.curl).toContain("curl -sS http://127.0.0.1:9000/v1/completions");
    expect(result.curl).not.toContain(KEY);
  });

  it("no load balancer: UNSAFE (exit 1) with the fix; a missing key with --show-key too", async () => {
    const { lb, deps } = setup();
    await expect(describeEndpoint(deps, names, { showKey: true, urlOverride: "http://127.0.0.1:1" })).resolves.toBeDefined();
    await expect(describeEndpoint({ ...deps, secrets: async () => undefined }, names, { showKey: true, region: "us-east-1" })).rejects.toMatchObject({
      kind: "unsafe",
      code: "no-api-key",
      remedy: "synkti infra up --project-name demo --region us-east-1",
    });
    lb.view = undefined;
    await expect(describeEndpoint(deps, names)).rejects.toMatchObject({
      kind: "unsafe",
      code: "no-load-balancer",
      message: "Project demo has no load balancer (demo-synkti): there is no endpoint yet.",
      remedy: "synkti infra up --project-name demo",
    });
  });

  it("no worker: model null, a <model> placeholder and a warning; several models: says so; stopping workers do not count", async () => {
    const { ec2, deps } = setup();
    const none = await describeEndpoint(deps, names);
    expect(none).toMatchObject({ model: null, models: [] });
    expect(none.curl).toContain(`'{"model":"<model>","prompt":"Hello","max_tokens":16}'`);
    expect(none.warnings).toEqual([expect.stringMatching(/^no worker is running: the endpoint answers 503 until one serves\. Run: synkti --project-name demo --model <model> --workers <n>$/)]);

    ec2.add("us-east-1a", worker("a"));
    ec2.add("us-east-1b", worker("b"));
    ec2.add("us-east-1b", worker("c", { SynktiStopping: "true" }));
    const several = await describeEndpoint(deps, names);
    expect(several).toMatchObject({ model: null, models: ["a", "b"] });
    expect(several.warnings.join("\n")).toMatch(/the workers serve 2 models \(a, b\)/);
  });

  it("an internal load balancer: says its URL answers only inside the VPC, unless a tunnel's URL is set", async () => {
    const { ec2, lb, deps } = setup();
    ec2.add("us-east-1a", worker("qwen-7b"));
    lb.view!.scheme = "internal";
    expect((await describeEndpoint(deps, names)).warnings).toEqual([expect.stringMatching(/^the load balancer is internal: http:\/\/\S+ answers only inside the VPC/)]);
    expect((await describeEndpoint(deps, names, { urlOverride: "http://127.0.0.1:8000" })).warnings).toEqual([]);
  });

  it("a model tag that is not a model name never reaches the shell line", async () => {
    const { ec2, deps } = setup();
    ec2.add("us-east-1a", worker("x'; rm -rf ~; echo '"));
    expect((await describeEndpoint(deps, names)).curl).toContain(`"model":"<model>"`);
  });
});

describe("endpoint text", () => {
  it("never holds the key without --show-key: it shows how to load it into $SYNKTI_API_KEY instead", async () => {
    const { ec2, deps } = setup();
    ec2.add("us-east-1a", worker("qwen-7b"));
    const text = renderEndpoint(await describeEndpoint(deps, names), "us-east-1");
    expect(text).not.toContain(KEY);
    expect(text).toBe(
      [
        `Endpoint of demo: http://${DNS}`,
        "Model:   qwen-7b",
        "API key: SSM SecureString /synkti/demo/api-key   (shown with --show-key)",
        "",
        "export SYNKTI_API_KEY=$(synkti endpoint --project-name demo --region us-east-1 --show-key --output json | jq -r .apiKey)",
        `curl -sS http://${DNS}/v1/completions -H "Authorization: Bearer $SYNKTI_API_KEY" -H "Content-Type: application/json" -d '{"model":"qwen-7b","prompt":"Hello","max_tokens":16}'`,
      ].join("\n"),
    );
  });

  it("with --show-key exports the key itself, and says where an overridden URL comes from", async () => {
    const { deps } = setup();
    const text = renderEndpoint(await describeEndpoint(deps, names, { showKey: true, urlOverride: "http://127.0.0.1:9000" }));
    expect(text).toContain(`export SYNKTI_API_KEY='${KEY}'`);
    expect(text).toContain(`  (from SYNKTI_ENDPOINT_URL; the load balancer itself: http://${DNS})`);
  });
});

describe("endpointSummary (a launch's epilogue)", () => {
  it("shows the endpoint without the key, or why not; it never throws", async () => {
    const { ec2, lb, reads, deps } = setup();
    ec2.add("us-east-1a", worker("qwen-7b"));
    const ok = await endpointSummary(deps, names);
    expect(reads).toEqual([]);
    expect(renderEndpointSummary(ok)).toMatch(new RegExp(`^Endpoint: http://${DNS.replaceAll(".", "\\.")}  \\(model qwen-7b\\)\\n  export SYNKTI_API_KEY=\\$\\(synkti endpoint`));
    expect(renderEndpointSummary(ok)).not.toContain(KEY);

    lb.view = undefined;
    expect(await endpointSummary(deps, names)).toEqual({ endpoint: null, unavailable: "Project demo has no load balancer (demo-synkti): there is no endpoint yet. Run: synkti infra up --project-name demo" });
    lb.failWith.loadBalancer = accessDenied("DescribeLoadBalancers");
    expect((await endpointSummary(deps, names)).unavailable).toMatch(/^AWS refused the request while reading the project's endpoint \(AccessDenied\)/);
  });
});
