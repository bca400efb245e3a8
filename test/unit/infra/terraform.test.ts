/**
 * terraform/ must describe the same resources as `synkti infra up`: the same names, settings and
 * IAM documents. The HCL is parsed (not applied: providers cannot be downloaded here) and compared
 * with src/infra.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { BUCKET_ENCRYPTION, lifecycleRules } from "../../../src/infra/desired.js";
import { PROJECT_NAME, projectNames } from "../../../src/infra/names.js";
import { policyVars, POLICY_FILES } from "../../../src/infra/policies.js";
import { PEER_PORTS } from "../../../src/infra/ports.js";

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
    uses(resource("aws_iam_role_policy", "worker").policy, "templatefile", POLICY_FILES.worker);
    uses(resource("aws_iam_role", "worker").assume_role_policy, "file", POLICY_FILES.trust);
    expect(resource("aws_iam_role_policy", "worker").policy).toContain("local.policy_vars)");
    const account = { accountId: "1", partition: "aws", region: "us-east-1" };
    expect(Object.keys(locals.policy_vars as object).sort()).toEqual(Object.keys(policyVars(names, account)).sort());
    const hclVars = locals.policy_vars as Record<string, string>;
    expect([value(hclVars.bucket), value(hclVars.project), value(hclVars.role)]).toEqual([names.bucket, PROJECT, names.role]);
    expect(value(hclVars.checkpoints_prefix)).toBe(names.checkpointsPrefix);
  });

  it("opens exactly the peer ports, to the group itself only, and no SSH", () => {
    const group = resource("aws_security_group", "workers");
    const ingress = group.ingress.map((rule: Hcl) => ({
      protocol: rule.protocol,
      from: value(rule.from_port),
      to: value(rule.to_port),
      self: rule.self,
      world: rule.cidr_blocks ?? rule.ipv6_cidr_blocks,
    }));
    expect(ingress).toEqual(PEER_PORTS.map(({ port }) => ({ protocol: "tcp", from: port, to: port, self: true, world: undefined })));
    expect(group.vpc_id).toBe("${data.aws_vpc.default.id}");
  });

  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;
  it.skipIf(!terraform)("is formatted (terraform fmt -check)", () => {
    const env = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" };
    expect(() => execFileSync("terraform", ["fmt", "-check", "terraform"], { cwd: root, env, stdio: "pipe" })).not.toThrow();
  });
});
