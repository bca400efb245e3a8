import { ROLE_WORKER, TAG_CLUSTER, TAG_ROLE } from "../infra/names.js";
import { DEFAULT_IMDS_ENDPOINT, IPV6_IMDS_ENDPOINT } from "./imds-settings.js";
import type { ContextReport, Evidence, Observations } from "./types.js";

/**
 * Pure: observations -> verdict. The rules, in order:
 * 1. No valid identity document: not provably EC2, so deployer. If DMI strongly says EC2, the layers
 *    contradict each other: report it with the fix (hop limit, endpoint, disabled IMDS); never guess.
 * 2. A valid identity document: on EC2. A DMI instance id that differs from the document's means the
 *    endpoint is not this instance's metadata service: a contradiction.
 * 3. On EC2, membership comes from the instance's own tags: SynktiCluster=<project> and
 *    SynktiRole=worker make a worker (without a project name: any SynktiCluster). Tags that cannot
 *    be read (metadata tags disabled) make a deployer, with the command that enables them.
 */
export function decide(obs: Observations, options: { projectName?: string } = {}): ContextReport {
  const evidence = evidenceOf(obs);
  const doc = obs.identity.status === "valid" ? obs.identity.document : undefined;
  if (!doc) {
    if (obs.dmi.status === "ec2" && obs.dmi.strength === "strong") {
      return {
        role: "deployer",
        reason: "DMI says this is an EC2 instance, but the metadata service did not confirm it; not guessing.",
        contradiction: unconfirmed(obs),
        evidence,
      };
    }
    return { role: "deployer", reason: notEc2Reason(obs), evidence };
  }

  const where = `${doc.instanceId} in ${doc.availabilityZone}`;
  if (obs.dmi.instanceId && obs.dmi.instanceId !== doc.instanceId) {
    return {
      role: "deployer",
      reason: `DMI and the metadata service name different instances.`,
      contradiction: {
        message: `board_asset_tag says ${obs.dmi.instanceId} but the identity document from ${obs.imds.endpoint} says ${doc.instanceId}: that endpoint is not this instance's metadata service.`,
        fix: "unset AWS_EC2_METADATA_SERVICE_ENDPOINT",
      },
      evidence,
    };
  }
  const firmwareNote = obs.dmi.status === "not-ec2" ? ` (firmware does not name EC2: a container with masked DMI, or a metadata emulator)` : "";
  const region = `--region ${doc.region}`;

  if (obs.tags.status === "disabled") {
    return {
      role: "deployer",
      reason: `On EC2 as ${where}${firmwareNote}, but instance metadata tags are disabled, so membership of ${options.projectName ?? "a synkti project"} cannot be seen.`,
      fix: `aws ec2 modify-instance-metadata-options --instance-id ${doc.instanceId} --instance-metadata-tags enabled ${region}`,
      evidence,
    };
  }
  if (obs.tags.status !== "ok") {
    return {
      role: "deployer",
      reason: `On EC2 as ${where}, but its tags could not be read.`,
      contradiction: {
        message: `The metadata service answered the identity document but not the instance's tags: ${obs.tags.detail}`,
        fix: `synkti context${options.projectName ? ` --project-name ${options.projectName}` : ""} --debug`,
      },
      evidence,
    };
  }

  const cluster = obs.tags.values?.SynktiCluster;
  const tagRole = obs.tags.values?.SynktiRole;
  const tagged = `${TAG_CLUSTER}=${cluster ?? "(none)"}, ${TAG_ROLE}=${tagRole ?? "(none)"}`;
  const wanted = options.projectName ?? cluster;
  if (tagRole === ROLE_WORKER && cluster !== undefined && cluster === wanted) {
    return {
      role: "worker",
      reason: `${where} is tagged ${TAG_CLUSTER}=${cluster} and ${TAG_ROLE}=${ROLE_WORKER}${firmwareNote}.`,
      evidence: { ...evidence, project: cluster },
    };
  }
  if (options.projectName) {
    const p = options.projectName;
    return {
      role: "deployer",
      reason: `On EC2 as ${where}, but not a worker of ${p} (tags: ${tagged}).`,
      fix: `aws ec2 create-tags --resources ${doc.instanceId} --tags Key=${TAG_CLUSTER},Value=${p} Key=${TAG_ROLE},Value=${ROLE_WORKER} ${region}   # only if this instance should serve ${p}`,
      evidence,
    };
  }
  return { role: "deployer", reason: `On EC2 as ${where}, without synkti worker tags (${tagged}).`, evidence };
}

function evidenceOf(obs: Observations): Evidence {
  const doc = obs.identity.status === "valid" ? obs.identity.document : undefined;
  const { document: _document, ...identity } = obs.identity;
  const privateIp = doc?.privateIp ?? obs.localIpv4;
  return {
    ...(doc && {
      instanceId: doc.instanceId,
      region: doc.region,
      availabilityZone: doc.availabilityZone,
      instanceType: doc.instanceType,
      ...(privateIp && { privateIp }),
      ...(doc.accountId && { accountId: doc.accountId }),
    }),
    dmi: obs.dmi,
    imds: obs.imds,
    identity,
    tags: obs.tags,
  };
}

function notEc2Reason(obs: Observations): string {
  const firmware = {
    ec2: `DMI only hints at EC2 (${obs.dmi.detail})`,
    "not-ec2": "firmware does not name EC2",
    unavailable: "no DMI data",
  }[obs.dmi.status];
  const imds = {
    ok: `gave no valid identity document (${obs.identity.status})`,
    disabled: "was not asked (AWS_EC2_METADATA_DISABLED=true)",
    unreachable: "is unreachable",
    timeout: `did not answer within ${obs.imds.deadlineMs ?? "?"} ms`,
    refused: "refused the token request",
    unauthorized: "refused every token",
    "bad-answer": "answered, but not like IMDSv2",
    "http-error": "answered with an HTTP error",
  }[obs.imds.status];
  return `Not an EC2 instance: ${firmware}, and the metadata service at ${obs.imds.endpoint} ${imds}.`;
}

/** Strong DMI evidence, but IMDS did not confirm: say which layer failed and how to fix it. */
function unconfirmed(obs: Observations): { message: string; fix: string } {
  const id = obs.dmi.instanceId ?? "<instance-id>";
  const modify = `aws ec2 modify-instance-metadata-options --instance-id ${id}`;
  const custom = obs.imds.endpoint !== DEFAULT_IMDS_ENDPOINT && obs.imds.endpoint !== IPV6_IMDS_ENDPOINT;
  const dmi = `DMI says EC2 (${obs.dmi.detail})`;
  switch (obs.imds.status) {
    case "disabled":
      return { message: `${dmi}, but AWS_EC2_METADATA_DISABLED=true forbids asking the metadata service.`, fix: "unset AWS_EC2_METADATA_DISABLED" };
    case "timeout":
      return {
        message: `${dmi}, but ${obs.imds.detail}. Inside a container the IMDSv2 token answer is dropped when the hop limit is 1.`,
        fix: custom ? "unset AWS_EC2_METADATA_SERVICE_ENDPOINT" : `${modify} --http-put-response-hop-limit 2`,
      };
    case "unreachable":
    case "refused":
      return {
        message: `${dmi}, but ${obs.imds.detail}: the metadata service may be turned off for this instance.`,
        fix: custom ? "unset AWS_EC2_METADATA_SERVICE_ENDPOINT" : `${modify} --http-endpoint enabled --http-tokens required`,
      };
    default: {
      const what = obs.imds.status === "ok" ? `its identity document is ${obs.identity.status}: ${obs.identity.detail}` : obs.imds.detail;
      return {
        message: `${dmi}, but the metadata service at ${obs.imds.endpoint} does not behave like IMDSv2: ${what}.`,
        fix: custom ? "unset AWS_EC2_METADATA_SERVICE_ENDPOINT" : `${modify} --http-endpoint enabled --http-tokens required`,
      };
    }
  }
}
