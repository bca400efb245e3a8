import type { ConditionalObjects } from "../../aws/s3-conditional.js";
import { parseBoundedJson } from "../../core/bounded-json.js";
import type { ObjectReader } from "../../aws/s3-objects.js";
import type { ProjectNames } from "../../infra/names.js";
import type { Desired } from "../../cluster/desired.js";
import { readRecentOutcomes } from "../../cluster/repair-outcomes.js";
import { CLAIM_MAX_BYTES, ClaimBodySchema, parseClaimKey, SLOT_CLAIMS_LISTED, slotClaimsPrefix, type ClaimBody, type ClaimSeen, type RepairOutcome } from "../../repair/index.js";

/** "created": this member's claim; "own": it made this claim before (an agent restart); "taken": another's. */
export type ClaimResult = { kind: "created" } | { kind: "own" } | { kind: "taken"; claimer: string | undefined };


type Names = Pick<ProjectNames, "bucket" | "claimKey" | "claimsPrefix" | "repairPrefix" | "repairOutcomeKey">;

/**
 * The repair's objects in the bucket: claims (`checkpoints/claims/<slot>-<cause>`, created with
 * If-None-Match: *) and outcome records (`checkpoints/repair/<slot>-<cause>.json`, written once the
 * same way). Everything read is untrusted and bounded (another member may be compromised): bodies
 * are read with a byte cap and parsed strictly; listings are capped.
 */
export class RepairStore {
  /** Outcome records never change once written: each is read once. */
  private readonly outcomes = new Map<string, RepairOutcome | null>();

  constructor(
    private readonly deps: { objects: ConditionalObjects; reader: ObjectReader },
    private readonly names: Names,
  ) {}

  /** Every claim of one slot (`<slot>-<cause>`, every cause and attempt), key and LastModified only. */
  async claimsOf(slot: number, signal?: AbortSignal): Promise<ClaimSeen[]> {
    const listed = await this.deps.reader.list(this.names.bucket, slotClaimsPrefix(this.names, slot), { maxKeys: SLOT_CLAIMS_LISTED }, signal);
    if (listed === "no-bucket") return [];
    return listed.objects.flatMap((o) => parseClaimKey(this.names, o.key, o.lastModified?.getTime() ?? 0) ?? []);
  }

  /**
   * Creates the claim; when it exists, reads who made it: a claim this member made before its agent
   * restarted is still its own to go on with (the launch path searches before launching again).
   */
  async claim(body: ClaimBody, signal?: AbortSignal): Promise<ClaimResult> {
    const key = this.names.claimKey(body.slot, body.cause);
    const outcome = await this.deps.objects.putIfAbsent(this.names.bucket, key, `${JSON.stringify(body)}\n`, signal);
    if (outcome === "created") return { kind: "created" };
    const claimer = await this.claimer(key, signal).catch(() => undefined);
    return claimer === body.claimer ? { kind: "own" } : { kind: "taken", claimer };
  }

  /** Written once (If-None-Match: *): a second writer of the same record changes nothing. */
  async writeOutcome(outcome: RepairOutcome, signal?: AbortSignal): Promise<"created" | "exists"> {
    const key = this.names.repairOutcomeKey(outcome.slot, outcome.cause);
    const written = await this.deps.objects.putIfAbsent(this.names.bucket, key, `${JSON.stringify(outcome)}\n`, signal);
    // Only our own: after a 412 the bucket holds another member's record (its `at`, its reason),
    // which is what every other reader's pause rule and `synkti status` judge, so this one reads it too.
    if (written === "created") this.outcomes.set(key, outcome);
    return written;
  }

  /** The newest outcome records since the desired size was set, as `synkti status` reads them (src/cluster/repair-outcomes.ts). */
  recentOutcomes(desired: Desired, signal?: AbortSignal): Promise<RepairOutcome[]> {
    return readRecentOutcomes(this.deps.reader, this.names, desired, { known: this.outcomes }, signal);
  }

  private async claimer(key: string, signal?: AbortSignal): Promise<string | undefined> {
    const read = await this.deps.reader.read(this.names.bucket, key, { maxBytes: CLAIM_MAX_BYTES, from: "start" }, signal);
    if (!read || read.totalSize > CLAIM_MAX_BYTES) return undefined;
    const parsed = parseBoundedJson(Buffer.from(read.bytes).toString("utf8"), ClaimBodySchema, CLAIM_MAX_BYTES);
    return "value" in parsed ? parsed.value.claimer : undefined;
  }
}
