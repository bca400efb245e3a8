import { describe, expect, it } from "vitest";
import { decide } from "../../../src/context/decide.js";
import type { DmiObservation } from "../../../src/context/dmi.js";
import type { IdentityDocument } from "../../../src/context/identity.js";
import type { ImdsObservation, Observations, TagsObservation } from "../../../src/context/types.js";

// The decision table: observations in, verdict out. No I/O here.
const DOC: IdentityDocument = {
  instanceId: "i-0af01c0123456789a",
  region: "us-east-1",
  availabilityZone: "us-east-1b",
  instanceType: "g5.xlarge",
  privateIp: "172.31.1.2",
  accountId: "123456789012",
};
const DEFAULT = "http://169.254.169.254";

const dmi = {
  none: { status: "unavailable", signals: [], detail: "no DMI data", values: {} },
  laptop: { status: "not-ec2", signals: [], detail: "firmware does not name EC2 (sys_vendor: LENOVO)", values: {} },
  nitro: {
    status: "ec2",
    strength: "strong",
    signals: ["sys_vendor is 'Amazon EC2'", `board_asset_tag holds instance id ${DOC.instanceId}`],
    instanceId: DOC.instanceId,
    detail: "sys_vendor is 'Amazon EC2'",
    values: {},
  },
  uuidOnly: { status: "ec2", strength: "weak", signals: ["product_uuid starts with ec2 (big-endian)"], detail: "product_uuid starts with ec2", values: {} },
} satisfies Record<string, DmiObservation>;

const imds = (status: ImdsObservation["status"], endpoint = DEFAULT): ImdsObservation => ({
  status,
  endpoint,
  deadlineMs: 1000,
  detail: `imds ${status}`,
});
const tags = (values?: TagsObservation["values"], status: TagsObservation["status"] = "ok"): TagsObservation => ({
  status,
  detail: `tags ${status}`,
  ...(values ? { values } : {}),
});
const notFetched = { status: "not-fetched" as const, detail: "-" };

function onEc2(tagObs: TagsObservation, dmiObs: DmiObservation = dmi.none, extra: Partial<Observations> = {}): Observations {
  return { dmi: dmiObs, imds: imds("ok"), identity: { status: "valid", detail: "ok", document: DOC }, tags: tagObs, ...extra };
}
function offEc2(dmiObs: DmiObservation, imdsObs: ImdsObservation, identity: Observations["identity"] = notFetched): Observations {
  return { dmi: dmiObs, imds: imdsObs, identity, tags: notFetched };
}

const workerTags = { SynktiCluster: "demo", SynktiRole: "worker" };

describe("decide: off EC2", () => {
  it.each([
    ["no DMI, closed port", dmi.none, "unreachable"],
    ["laptop firmware, silent port", dmi.laptop, "timeout"],
    ["no DMI, IMDS disabled by env", dmi.none, "disabled"],
    ["no DMI, garbage instead of a token", dmi.none, "bad-answer"],
    ["UUID hint only, silent port", dmi.uuidOnly, "timeout"],
  ] as const)("%s -> deployer, no contradiction", (_case, dmiObs, status) => {
    const report = decide(offEc2(dmiObs, imds(status)), { projectName: "demo" });
    expect(report.role).toBe("deployer");
    expect(report.contradiction).toBeUndefined();
    expect(report.reason).toMatch(/^Not an EC2 instance/);
    expect(report.evidence.instanceId).toBeUndefined();
  });

  it("a token but no valid identity document is not evidence of EC2", () => {
    const report = decide(offEc2(dmi.none, imds("ok"), { status: "invalid", detail: "not JSON" }));
    expect(report).toMatchObject({ role: "deployer" });
    expect(report.reason).toContain("no valid identity document (invalid)");
  });
});

describe("decide: contradictions (DMI says EC2, IMDS does not confirm)", () => {
  it.each([
    ["timeout", /hop limit is 1/, "--http-put-response-hop-limit 2"],
    ["unreachable", /turned off/, "--http-endpoint enabled"],
    ["refused", /turned off/, "--http-endpoint enabled"],
    ["bad-answer", /does not behave like IMDSv2/, "--http-endpoint enabled"],
    ["disabled", /AWS_EC2_METADATA_DISABLED/, "unset AWS_EC2_METADATA_DISABLED"],
  ] as const)("IMDS %s -> deployer with a contradiction and its fix", (status, message, fix) => {
    const report = decide(offEc2(dmi.nitro, imds(status)));
    expect(report.role).toBe("deployer");
    expect(report.contradiction?.message).toMatch(message);
    expect(report.contradiction?.fix).toContain(fix);
    if (status !== "disabled") expect(report.contradiction?.fix).toContain(`--instance-id ${DOC.instanceId}`);
  });

  it("a custom endpoint that does not answer is the endpoint's fault, not the instance's", () => {
    const report = decide(offEc2(dmi.nitro, imds("timeout", "http://127.0.0.1:9")));
    expect(report.contradiction?.fix).toBe("unset AWS_EC2_METADATA_SERVICE_ENDPOINT");
  });

  it("an identity document that is not one, under strong DMI, is a contradiction", () => {
    const report = decide(offEc2(dmi.nitro, imds("ok"), { status: "invalid", detail: "not JSON" }));
    expect(report.contradiction?.message).toContain("identity document is invalid");
  });

  it("DMI and the identity document naming different instances is a contradiction", () => {
    const report = decide(onEc2(tags(workerTags), { ...dmi.nitro, instanceId: "i-0000000000000000f" }), { projectName: "demo" });
    expect(report.role).toBe("deployer");
    expect(report.contradiction?.message).toContain("i-0000000000000000f");
  });

  it("tags that cannot be read after a valid identity document is reported, not guessed", () => {
    const report = decide(onEc2(tags(undefined, "error")), { projectName: "demo" });
    expect(report.role).toBe("deployer");
    expect(report.contradiction?.fix).toBe("synkti context --project-name demo --debug");
  });
});

describe("decide: on EC2", () => {
  it("tagged for the project -> worker, with the instance's facts in the evidence", () => {
    const report = decide(onEc2(tags(workerTags), dmi.nitro), { projectName: "demo" });
    expect(report).toMatchObject({
      role: "worker",
      evidence: {
        instanceId: DOC.instanceId,
        region: "us-east-1",
        availabilityZone: "us-east-1b",
        instanceType: "g5.xlarge",
        privateIp: "172.31.1.2",
        project: "demo",
      },
    });
    expect(report.contradiction).toBeUndefined();
    expect(report.evidence.identity).not.toHaveProperty("document");
  });

  it("without a project name, worker tags of any project make a worker of that project", () => {
    expect(decide(onEc2(tags(workerTags))).evidence.project).toBe("demo");
  });

  it.each([
    ["another project's worker", { SynktiCluster: "other", SynktiRole: "worker" }],
    ["the project, but not a worker", { SynktiCluster: "demo", SynktiRole: "deployer" }],
    ["no synkti tags", {}],
  ])("%s -> deployer, with the tagging command", (_case, values) => {
    const report = decide(onEc2(tags(values)), { projectName: "demo" });
    expect(report.role).toBe("deployer");
    expect(report.fix).toContain(`aws ec2 create-tags --resources ${DOC.instanceId}`);
    expect(report.evidence.instanceId).toBe(DOC.instanceId);
  });

  it("no project name and no worker tags -> deployer, no fix", () => {
    const report = decide(onEc2(tags({})));
    expect(report).toMatchObject({ role: "deployer" });
    expect(report.fix).toBeUndefined();
  });

  it("metadata tags disabled -> deployer with the command that enables them", () => {
    const report = decide(onEc2(tags(undefined, "disabled")), { projectName: "demo" });
    expect(report.role).toBe("deployer");
    expect(report.reason).toContain("instance metadata tags are disabled");
    expect(report.fix).toBe(
      `aws ec2 modify-instance-metadata-options --instance-id ${DOC.instanceId} --instance-metadata-tags enabled --region us-east-1`,
    );
  });

  it("takes privateIp from local-ipv4 when the document has none", () => {
    const { privateIp: _ignored, ...noIp } = DOC;
    const obs = onEc2(tags(workerTags), dmi.none, { localIpv4: "127.0.0.5" });
    obs.identity = { status: "valid", detail: "ok", document: noIp };
    expect(decide(obs).evidence.privateIp).toBe("127.0.0.5");
  });

  it("trusts a valid identity document over laptop-looking firmware, and says so", () => {
    const report = decide(onEc2(tags(workerTags), dmi.laptop), { projectName: "demo" });
    expect(report.role).toBe("worker");
    expect(report.reason).toContain("firmware does not name EC2");
  });
});
