/**
 * `synkti endpoint` through the built binary against moto: no load balancer (exit 1 with the fix),
 * the JSON shape after `infra up`, --show-key, SYNKTI_ENDPOINT_URL (and a bad one: exit 2), and the
 * key never on stdout or stderr without --show-key.
 */
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../support/moto.js";
import { runCli } from "../support/run-cli.js";

let moto: Moto;
let ssm: SSMClient;
let env: Record<string, string>;
const p = `e2e-endpoint-${process.pid % 1000}`;
const synkti = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { env: { ...env, SYNKTI_ENDPOINT_URL: undefined, ...extra }, timeoutMs: 30_000 });

beforeAll(async () => {
  moto = await startMoto();
  env = { ...awsEnvFor(moto.url), SYNKTI_LOG_LEVEL: "warn" };
  ssm = new SSMClient({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
});
afterAll(async () => {
  ssm?.destroy();
  await moto?.stop();
});

describe("synkti endpoint (built binary)", () => {
  it("before infra up: exit 1, saying there is no load balancer and the command that makes it", async () => {
    const run = await synkti(["endpoint", "--project-name", p]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`Error: Project ${p} has no load balancer (${p}-synkti): there is no endpoint yet.`);
    expect(run.stderr).toContain(`Run: synkti infra up --project-name ${p} --region us-east-1`);
    expect(run.stdout).toBe("");
    const noRegion = await synkti(["endpoint", "--project-name", p], { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: "/dev/null" });
    expect(noRegion.code, noRegion.stderr).toBe(1);
    expect(noRegion.stderr).toContain("Run: pass --region <region>");
  });

  it("after infra up: the JSON shape; the key only with --show-key; SYNKTI_ENDPOINT_URL overrides the URL; a bad one is exit 2", async () => {
    const up = await synkti(["infra", "up", "--project-name", p]);
    expect(up.code, up.stderr).toBe(0);
    const key = (await ssm.send(new GetParameterCommand({ Name: `/synkti/${p}/api-key`, WithDecryption: true }))).Parameter!.Value!;

    const json = await synkti(["endpoint", "--project-name", p, "--output", "json"]);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toEqual({
      project: p,
      url: expect.stringMatching(new RegExp(`^http://${p}-synkti-.*elb\\.amazonaws\\.com$`)),
      urlSource: "load-balancer",
      loadBalancerUrl: body.url,
      model: null,
      models: [],
      apiKeyParameter: `/synkti/${p}/api-key`,
      curl: `curl -sS ${body.url}/v1/completions -H "Authorization: Bearer $SYNKTI_API_KEY" -H "Content-Type: application/json" -d '{"model":"<model>","prompt":"Hello","max_tokens":16}'`,
      warnings: [expect.stringMatching(/^no worker is running/)],
    });
    const text = await synkti(["endpoint", "--project-name", p]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`export SYNKTI_API_KEY=$(synkti endpoint --project-name ${p} --region us-east-1 --show-key --output json | jq -r .apiKey)`);
    for (const run of [json, text]) expect(run.stdout + run.stderr).not.toContain(key);

    const shown = await synkti(["endpoint", "--project-name", p, "--show-key", "--output", "json"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).apiKey).toBe(key);
    expect((await synkti(["endpoint", "--project-name", p, "--show-key"])).stdout).toContain(`export SYNKTI_API_KEY='${key}'`);

    const tunnel = await synkti(["endpoint", "--project-name", p, "--output", "json"], { SYNKTI_ENDPOINT_URL: "http://127.0.0.1:18080/" });
    expect(JSON.parse(tunnel.stdout)).toMatchObject({ url: "http://127.0.0.1:18080", urlSource: "SYNKTI_ENDPOINT_URL", loadBalancerUrl: body.url });

    const bad = await synkti(["endpoint", "--project-name", p], { SYNKTI_ENDPOINT_URL: "127.0.0.1:18080" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/SYNKTI_ENDPOINT_URL='127\.0\.0\.1:18080' is not valid: .* It must be an http:\/\/ or https:\/\/ URL with a host/);
    expect(bad.stderr).toContain("Run: export SYNKTI_ENDPOINT_URL=http://127.0.0.1:<port>");

    const status = await synkti(["status", "--project-name", p, "--output", "json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ loadBalancer: { url: body.url, targets: [] }, loadBalancerUnavailable: null });
  });
});
