/**
 * terraform/ must describe the same resources as `synkti infra up`: the same names, settings and
 * IAM documents. The HCL is parsed (not applied: providers cannot be downloaded here) and compared
 * with src/infra.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { BUCKET_ENCRYPTION, lifecycleRules } from "../../../src/infra/desired.js";
import { PROJECT_NAME, projectNames } from "../../../src/infra/names.js";
import { policyVars, POLICY_FILES, workerPolicy } from "../../../src/infra/policies.js";
import { DEFAULT_COMPUTE, recordedCompute, withCompute, type ComputePolicy } from "../../../src/infra/compute-policy.js";
import { samePolicy } from "../../../src/infra/policy-compare.js";
import { HTTP_PORT, HTTPS_PORT, LOAD_BALANCER_TARGET_PORTS, PEER_PORTS } from "../../../src/infra/ports.js";
import * as lbSettings from "../../../src/infra/load-balancer-settings.js";
import { desiredInfra } from "../../../src/infra/desired.js";
import { ELB_NAME_HASH_LENGTH, ELB_NAME_MAX, LOAD_BALANCER_SUFFIX, TARGET_GROUP_SUFFIX } from "../../../src/infra/names.js";

const root = path.resolve(import.meta.dirname, "../../..");
// hcl2json's shapes: blocks are lists, attributes plain values, expressions "${...}" strings.
type Hcl = Record<string, any>;
let main: Hcl;
let variables: Hcl;
let locals: Record<string, unknown>;
const PROJECT = "acme-llm";
const names = projectNames(PROJECT);

const load = async (file: string) => parse(file, readFileSync(path.join(root, "terraform", file), "utf8")) as Promise<Hcl>;

/** Evaluates the little HCL used here: `${local.x}` and `${var.project_name}` interpolations. */
function value(expression: unknown): unknown {
  if (typeof expression !== "string") return expression;
  const whole = /^\$\{local\.([a-z_]+)\}$/.exec(expression);
  if (whole) return value(locals[whole[1]!]);
  return expression.replaceAll("${var.project_name}", PROJECT);
}

const resource = (type: string, name: string): Hcl => main.resource[type][name][0];

beforeAll(async () => {
  [main, variables] = await Promise.all([load("main.tf"), load("variables.tf")]);
  locals = Object.assign({}, ...main.locals);
});

describe("terraform/ matches src/infra", () => {
  it("derives every name like src/infra/names.ts", () => {
    expect(value(resource("aws_s3_bucket", "models").bucket)).toBe(names.bucket);
    expect(value(resource("aws_iam_role", "worker").name)).toBe(names.role);
    expect(value(resource("aws_iam_role_policy", "worker").name)).toBe(names.workerPolicy);
    expect(value(resource("aws_iam_instance_profile", "worker").name)).toBe(names.instanceProfile);
    expect(value(resource("aws_security_group", "workers").name)).toBe(names.securityGroup);
    expect(value(locals.checkpoints_prefix)).toBe(names.checkpointsPrefix);
    const tags = value(locals.tags) as Record<string, string>;
    expect(Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, value(v)]))).toEqual({ SynktiCluster: PROJECT });
  });

  it("validates project_name with the same pattern as the CLI", () => {
    const condition: string = variables.variable.project_name[0].validation[0].condition;
    expect(condition).toContain(`regex("${PROJECT_NAME.source}", var.project_name)`);
    expect(condition).toContain('!startswith(var.project_name, "xn--")');
  });

  it("configures the bucket like infra up: public access blocked, SSE-S3, same lifecycle", () => {
    const block = resource("aws_s3_bucket_public_access_block", "models");
    for (const key of ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]) expect(block[key]).toBe(true);
    const sse = resource("aws_s3_bucket_server_side_encryption_configuration", "models").rule[0].apply_server_side_encryption_by_default[0];
    expect(value(sse.sse_algorithm)).toBe(BUCKET_ENCRYPTION);
    const rules = resource("aws_s3_bucket_lifecycle_configuration", "models").rule.map((rule: Hcl) => ({
      id: rule.id,
      enabled: rule.status === "Enabled",
      prefix: value(rule.filter[0].prefix),
      ...(rule.expiration ? { expirationDays: value(rule.expiration[0].days) } : {}),
      ...(rule.abort_incomplete_multipart_upload
        ? { abortIncompleteMultipartUploadDays: value(rule.abort_incomplete_multipart_upload[0].days_after_initiation) }
        : {}),
    }));
    expect(rules).toEqual(lifecycleRules(names));
  });

  it("loads the IAM documents from the same files, with the same placeholders", () => {
    const uses = (expression: string, fn: string, file: string) =>
      expect(expression).toContain(`${fn}("\${path.module}/../${file}"`);
    uses(resource("aws_s3_bucket_policy", "models").policy, "templatefile", POLICY_FILES.bucket);
    expect(resource("aws_iam_role_policy", "worker").policy).toBe("${local.worker_policy}");
    uses(locals.worker_policy_template as string, "templatefile", POLICY_FILES.worker);
    uses(resource("aws_iam_role", "worker").assume_role_policy, "file", POLICY_FILES.trust);
    expect(locals.worker_policy_template).toContain("local.policy_vars)");
    const account = { accountId: "1", partition: "aws", region: "us-east-1" };
    expect(Object.keys(locals.policy_vars as object).sort()).toEqual(Object.keys(policyVars(names, account)).sort());
    const hclVars = locals.policy_vars as Record<string, string>;
    expect([value(hclVars.bucket), value(hclVars.project), value(hclVars.role)]).toEqual([names.bucket, PROJECT, names.role]);
    expect(value(hclVars.checkpoints_prefix)).toBe(names.checkpointsPrefix);
  });

  it("opens exactly the peer ports, to the group itself and the load balancer's group only, and no SSH", () => {
    const group = resource("aws_security_group", "workers");
    const ingress = group.ingress.map((rule: Hcl) => ({
      protocol: rule.protocol,
      from: value(rule.from_port),
      to: value(rule.to_port),
      self: rule.self,
      groups: rule.security_groups,
      world: rule.cidr_blocks ?? rule.ipv6_cidr_blocks,
    }));
    expect(ingress).toEqual([
      ...PEER_PORTS.map(({ port }) => ({ protocol: "tcp", from: port, to: port, self: true, groups: undefined, world: undefined })),
      ...LOAD_BALANCER_TARGET_PORTS.map(({ port }) => ({
        protocol: "tcp",
        from: port,
        to: port,
        self: undefined,
        groups: ["${aws_security_group.load_balancer.id}"],
        world: undefined,
      })),
    ]);
    expect(group.vpc_id).toBe("${data.aws_vpc.default.id}");
  });

  it("names the load balancer, target group, their group and the key's parameter like src/infra/names.ts", () => {
    expect(resource("aws_lb", "workers").name).toBe("${local.load_balancer_name}");
    expect(resource("aws_lb_target_group", "vllm").name).toBe("${local.target_group_name}");
    expect(value(resource("aws_security_group", "load_balancer").name)).toBe(names.loadBalancerSecurityGroup);
    expect(value(locals.api_key_parameter)).toBe(names.apiKeyParameter);
    // The shortening (an HCL expression; checked by its parts, the TS side by names tests).
    const [lbSuffix, tgSuffix] = [locals.lb_suffix, locals.tg_suffix];
    expect([lbSuffix, tgSuffix]).toEqual([LOAD_BALANCER_SUFFIX, TARGET_GROUP_SUFFIX]);
    expect(locals.elb_name_hash).toBe(`\${substr(sha256(var.project_name), 0, ${ELB_NAME_HASH_LENGTH})}`);
    expect(locals.elb_name_head).toBe('${replace(replace(var.project_name, "/^internal-/", "int-"), "/-+/", "-")}');
    expect(locals.elb_name_plain_ok).toBe('${!startswith(var.project_name, "internal-") && !strcontains(var.project_name, "--")}');
    for (const [name, suffix] of [["load_balancer_name", "lb_suffix"], ["target_group_name", "tg_suffix"]] as const) {
      expect(locals[name]).toContain(`length("\${var.project_name}-\${local.${suffix}}") <= ${ELB_NAME_MAX}`);
      expect(locals[name]).toContain(`substr(local.elb_name_head, 0, ${ELB_NAME_MAX} - length(local.${suffix}) - ${ELB_NAME_HASH_LENGTH + 2})`);
    }
    // The worker policy's placeholders for them.
    const hclVars = locals.policy_vars as Record<string, string>;
    expect([hclVars.target_group, hclVars.api_key_parameter]).toEqual(["${local.target_group_name}", "${local.api_key_parameter}"]);
  });

  it("declares the load balancer, target group and listeners with infra up's settings", () => {
    const want = desiredInfra(names, { accountId: "1", partition: "aws", region: "us-east-1" });
    const lb = resource("aws_lb", "workers");
    expect([lb.load_balancer_type, lb.ip_address_type, value(lb.idle_timeout)]).toEqual(["application", "ipv4", lbSettings.LB_IDLE_TIMEOUT_SECONDS]);
    expect(String(value(lb.idle_timeout))).toBe(want.loadBalancer.attributes[lbSettings.IDLE_TIMEOUT_ATTRIBUTE]);
    expect(lb.subnets).toBe("${data.aws_subnets.default.ids}");
    expect(lb.security_groups).toEqual(["${aws_security_group.load_balancer.id}"]);
    expect(lb.internal).toBe("${var.internal}");
    expect(variables.variable.internal[0].default).toBe(false);
    const tg = resource("aws_lb_target_group", "vllm");
    expect([tg.protocol, value(tg.port), tg.target_type]).toEqual([want.targetGroup.protocol, want.targetGroup.port, want.targetGroup.targetType]);
    expect(value(tg.load_balancing_algorithm_type)).toBe(want.targetGroup.attributes[lbSettings.ALGORITHM_ATTRIBUTE]);
    expect(String(value(tg.deregistration_delay))).toBe(want.targetGroup.attributes[lbSettings.DEREGISTRATION_DELAY_ATTRIBUTE]);
    const h = tg.health_check[0];
    expect({
      protocol: h.protocol,
      path: value(h.path),
      port: String(value(h.port)),
      intervalSeconds: value(h.interval),
      timeoutSeconds: value(h.timeout),
      healthyThreshold: value(h.healthy_threshold),
      unhealthyThreshold: value(h.unhealthy_threshold),
      matcher: h.matcher,
    }).toEqual(want.targetGroup.healthCheck);
    const http = resource("aws_lb_listener", "http");
    expect([value(http.port), http.protocol]).toEqual([HTTP_PORT, "HTTP"]);
    expect(value(locals.https_port)).toBe(HTTPS_PORT);
    expect(value(locals.redirect_status)).toBe(lbSettings.REDIRECT_STATUS);
    expect(resource("aws_lb_listener", "https").certificate_arn).toBe("${var.certificate_arn}");
    expect(variables.variable.allowed_cidrs[0].default).toEqual([]);
  });

  it("leaves the API key to infra up (its value would sit in terraform's state)", () => {
    expect(Object.keys(main.resource)).not.toContain("aws_ssm_parameter");
  });

  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

  // terraform evaluates the name locals itself (no provider needed): the very lines of main.tf.
  it.skipIf(!terraform)("computes the same load balancer and target group names as names.ts, edge cases included", () => {
    const text = readFileSync(path.join(root, "terraform", "main.tf"), "utf8");
    const keys = ["lb_suffix", "tg_suffix", "elb_name_hash", "elb_name_head", "elb_name_plain_ok", "load_balancer_name", "target_group_name"];
    const lines = keys.map((key) => {
      const line = new RegExp(`^\\s*${key}\\s*=.*$`, "m").exec(text)?.[0];
      expect(line, key).toBeDefined();
      return line!;
    });
    const dir = mkdtempSync(path.join(tmpdir(), "synkti-tf-"));
    writeFileSync(path.join(dir, "main.tf"), `variable "project_name" {\n  type = string\n}\nlocals {\n${lines.join("\n")}\n}\n`);
    const env = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" };
    for (const project of ["acme-llm", "a".repeat(40), "internal-x", "internal-" + "b".repeat(31), "a--b", "abcdefghijklmnopqrst-uvw-xyz", "x".repeat(20) + "-" + "y".repeat(19)]) {
      const out = execFileSync("terraform", ["console", `-var=project_name=${project}`], { cwd: dir, env, input: "jsonencode([local.load_balancer_name, local.target_group_name])\n", encoding: "utf8" });
      const got = JSON.parse(JSON.parse(out.trim()));
      const want = projectNames(project);
      expect(got, project).toEqual([want.loadBalancer, want.targetGroup]);
    }
  }, 60_000);
  // The instance types and market: terraform renders the worker policy itself, compared with infra up's.
  it.skipIf(!terraform)("writes the same instance types and market conditions into the worker policy as infra up", () => {
    const text = readFileSync(path.join(root, "terraform", "main.tf"), "utf8");
    const block = /^# The instance types and market[\s\S]*?\n}\n/m.exec(text)?.[0];
    expect(block).toBeDefined();
    const account = { accountId: "123456789012", partition: "aws", region: "eu-west-1" };
    const vars = policyVars(names, account);
    const dir = mkdtempSync(path.join(tmpdir(), "synkti-tf-"));
    mkdirSync(path.join(dir, "tf"));
    cpSync(path.join(root, "policies"), path.join(dir, "policies"), { recursive: true });
    const hclVars = Object.entries(vars).map(([k, v]) => `    ${k} = ${JSON.stringify(v)}`).join("\n");
    writeFileSync(
      path.join(dir, "tf", "main.tf"),
      `variable "instance_types" {\n  type = list(string)\n}\nvariable "allow_on_demand" {\n  type = bool\n}\nlocals {\n  policy_vars = {\n${hclVars}\n  }\n}\n${block}`,
    );
    const env = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" };
    // The last: types given out of order and twice, which infra up records sorted and once.
    const cases: Array<[string[], ComputePolicy]> = [
      [[], DEFAULT_COMPUTE],
      [["g5.xlarge", "g6.xlarge"], { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false }],
      [["g5.xlarge"], { instanceTypes: ["g5.xlarge"], allowOnDemand: true }],
      [["g6.xlarge", "g5.xlarge", "g6.xlarge"], { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false }],
    ];
    for (const [asked, compute] of cases) {
      const args = ["console", `-var=instance_types=${JSON.stringify(asked)}`, `-var=allow_on_demand=${compute.allowOnDemand}`];
      const out = execFileSync("terraform", args, { cwd: path.join(dir, "tf"), env, input: "local.worker_policy\n", encoding: "utf8" });
      const got = JSON.parse(JSON.parse(out.trim()));
      expect(samePolicy(got, withCompute(workerPolicy(vars), compute)), JSON.stringify(compute)).toBe(true);
      expect(recordedCompute(got)).toEqual(compute);
    }
    expect(variables.variable.instance_types[0].default).toEqual([]);
    expect(variables.variable.allow_on_demand[0].default).toBe(false);
  }, 60_000);

  it.skipIf(!terraform)("is formatted (terraform fmt -check)", () => {
    const env = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" };
    expect(() => execFileSync("terraform", ["fmt", "-check", "terraform"], { cwd: root, env, stdio: "pipe" })).not.toThrow();
  });
});
