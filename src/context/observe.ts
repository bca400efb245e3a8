import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";
import { TAG_CLUSTER, TAG_ROLE } from "../infra/names.js";
import { interpretDmi, readDmi, type DmiObservation } from "./dmi.js";
import { IDENTITY_PATH, parseIdentityDocument } from "./identity.js";
import { ImdsClient } from "./imds-client.js";
import { isImdsError } from "./imds-error.js";
import type { ImdsSettings } from "./imds-settings.js";
import type { ImdsTransport } from "./imds-transport.js";
import type { IdentityObservation, ImdsObservation, Observations, TagsObservation } from "./types.js";

/**
 * How long each layer may take. Off EC2 the answer must come fast: a closed port refuses at once,
 * a silent one costs `probeMs`. When DMI says EC2 an answer is expected, so the token may take
 * longer before the silence is called a contradiction (typically a hop limit of 1 in a container).
 */
export const DETECTION_TIMEOUTS = { probeMs: 1000, probeOnEc2Ms: 2000, requestMs: 2000 } as const;

export interface ObserveOptions {
  sysfsRoot: string;
  imds: ImdsSettings;
  signal?: AbortSignal;
  /** DMI already read by the caller (the verdict cache reads it first). */
  dmi?: DmiObservation;
}

export interface ObserveDeps {
  clock: Clock;
  transport?: ImdsTransport;
  log: Logger;
}

/** Instance metadata tags (the launch enables them): the keys, one a line; `/<key>` its value. */
export const TAGS_PATH = "/latest/meta-data/tags/instance";

/** Does the I/O of all three layers, fastest first; never throws for what it observes. */
export async function observeContext(options: ObserveOptions, deps: ObserveDeps): Promise<Observations> {
  const dmi = options.dmi ?? interpretDmi(await readDmi(options.sysfsRoot));
  deps.log.debug({ dmi }, "context: DMI");
  const skipped = { status: "not-fetched" as const, detail: "the metadata service gave no token" };
  if (options.imds.disabled) {
    const imds: ImdsObservation = {
      status: "disabled",
      endpoint: options.imds.endpoint,
      detail: "AWS_EC2_METADATA_DISABLED=true: the metadata service was not asked",
    };
    return { dmi, imds, identity: skipped, tags: skipped };
  }

  const deadlineMs = expectsEc2(dmi) ? DETECTION_TIMEOUTS.probeOnEc2Ms : DETECTION_TIMEOUTS.probeMs;
  const client = new ImdsClient({ endpoint: options.imds.endpoint, clock: deps.clock, transport: deps.transport, timeoutMs: DETECTION_TIMEOUTS.requestMs });
  const call = { signal: options.signal };
  const imds = await probe(client, deadlineMs, options.signal);
  deps.log.debug({ imds }, "context: IMDS token");
  if (imds.status !== "ok") return { dmi, imds, identity: skipped, tags: skipped };

  const identity = await observeIdentity(client, call);
  deps.log.debug({ identity }, "context: identity document");
  if (identity.status !== "valid") {
    return { dmi, imds, identity, tags: { status: "not-fetched", detail: "no valid identity document" } };
  }
  const [tags, localIpv4] = await Promise.all([
    observeTags(client, call),
    identity.document?.privateIp ? undefined : client.get("/latest/meta-data/local-ipv4", call).catch(() => undefined),
  ]);
  deps.log.debug({ tags }, "context: tags");
  return { dmi, imds, identity, tags, ...(localIpv4 ? { localIpv4: localIpv4.trim() } : {}) };
}

function expectsEc2(dmi: DmiObservation): boolean {
  return dmi.status === "ec2" && dmi.strength === "strong";
}

async function probe(client: ImdsClient, deadlineMs: number, signal?: AbortSignal): Promise<ImdsObservation> {
  try {
    await client.token({ timeoutMs: deadlineMs, signal });
    return { status: "ok", endpoint: client.endpoint, deadlineMs, detail: `IMDSv2 token issued by ${client.endpoint}` };
  } catch (error) {
    if (!isImdsError(error)) throw error;
    return { status: error.failure, endpoint: client.endpoint, deadlineMs, detail: error.message };
  }
}

async function observeIdentity(client: ImdsClient, call: { signal?: AbortSignal }): Promise<IdentityObservation> {
  try {
    const body = await client.get(IDENTITY_PATH, call);
    if (body === undefined) return { status: "missing", detail: `${IDENTITY_PATH} answered 404` };
    const parsed = parseIdentityDocument(body);
    return parsed.ok
      ? { status: "valid", detail: `identity document of ${parsed.document.instanceId}`, document: parsed.document }
      : { status: "invalid", detail: parsed.problem };
  } catch (error) {
    if (!isImdsError(error)) throw error;
    return { status: "error", detail: error.message };
  }
}

/** Lists the tag keys first: a 404 on the list means tags are disabled, on a key only that it is absent. */
async function observeTags(client: ImdsClient, call: { signal?: AbortSignal }): Promise<TagsObservation> {
  try {
    const list = await client.get(TAGS_PATH, call);
    if (list === undefined) {
      return { status: "disabled", detail: `${TAGS_PATH} answered 404: instance metadata tags are disabled` };
    }
    const keys = new Set(list.split("\n").map((k) => k.trim()));
    const values: { SynktiCluster?: string; SynktiRole?: string } = {};
    await Promise.all(
      [TAG_CLUSTER, TAG_ROLE].filter((k) => keys.has(k)).map(async (key) => {
        const value = await client.get(`${TAGS_PATH}/${key}`, call);
        if (value !== undefined) values[key as keyof typeof values] = value.trim();
      }),
    );
    const shown = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(", ");
    return { status: "ok", detail: shown ? `tags: ${shown}` : "no synkti tags", values };
  } catch (error) {
    if (!isImdsError(error)) throw error;
    return { status: "error", detail: error.message };
  }
}
