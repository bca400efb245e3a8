import type { ConditionalObjects } from "../../aws/s3-conditional.js";
import { DESIRED_MAX_BYTES, parseDesired, type Desired } from "../../cluster/desired.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { messageOf } from "../../core/errors.js";

/**
 * Why a launch into `slot` is no longer wanted by the desired size as `view` holds it (`synkti
 * down` wrote 0 first; a lower `--workers`), or undefined: only a known size refuses.
 */
export function slotNotWanted(view: DesiredView, slot: number): string | undefined {
  if (view.kind !== "known" || slot < view.desired.workers) return undefined;
  return `the desired size is now ${view.desired.workers} (set ${view.desired.setAt} by synkti down or a lower --workers): slot ${slot} is no longer wanted`;
}

/** How often a worker reads `cluster/desired.json` (one conditional GET; a 304 has no body). */
export const DESIRED_POLL_MS = 15_000;

/**
 * What the worker knows of the operator's intent: `absent` (no desired.json, an old cluster: repair
 * is inactive), `unknown` (not read yet, or unreadable so far: repair waits), or the document.
 */
export type DesiredView = { kind: "unknown" } | { kind: "absent" } | { kind: "known"; desired: Desired; readAt: number };

/**
 * Reads `cluster/desired.json` every DESIRED_POLL_MS with If-None-Match on the last ETag, at most
 * DESIRED_MAX_BYTES (the document is a few dozen bytes; anything larger is refused, like anything
 * parseDesired refuses). A document that stops parsing, or a read that fails, keeps the last good
 * view: the deployer is its only writer, so a bad one is a fault to report, not a new intent. Each
 * change (and each kind of trouble) is logged once, not every poll.
 */
export class DesiredReader {
  private view: DesiredView = { kind: "unknown" };
  private etag: string | undefined;
  private lastNews: string | undefined;

  constructor(
    private readonly deps: { objects: Pick<ConditionalObjects, "readIfChanged">; clock: Clock; log: Logger; onChange?: (view: DesiredView) => void },
    private readonly options: { bucket: string; key: string; pollMs?: number },
  ) {}

  get current(): DesiredView {
    return this.view;
  }

  /** One read; never throws (a failure keeps the view). */
  async readOnce(signal?: AbortSignal): Promise<DesiredView> {
    const { bucket, key } = this.options;
    try {
      const read = await this.deps.objects.readIfChanged(bucket, key, { ...(this.etag ? { etag: this.etag } : {}), maxBytes: DESIRED_MAX_BYTES }, signal);
      if (read.kind === "unchanged") {
        if (this.lastNews === "failing") this.news("recovered", "info", {}, `s3://${bucket}/${key} reads again`);
        return this.view;
      }
      if (read.kind === "absent") {
        this.etag = undefined;
        if (this.view.kind !== "absent") this.change({ kind: "absent" });
        this.news("absent", "info", {}, `no s3://${bucket}/${key}: repair is inactive (a cluster launched before desired sizes; the next launch with --workers sets one)`);
        return this.view;
      }
      const parsed = read.size > DESIRED_MAX_BYTES ? { problem: `larger than ${DESIRED_MAX_BYTES} bytes (${read.size})` } : parseDesired(read.text);
      if ("problem" in parsed) {
        this.news(`bad:${read.etag}`, "warn", { problem: parsed.problem }, `s3://${bucket}/${key} is not a desired size (${parsed.problem}); repair keeps its last view`);
        this.etag = read.etag; // the same bad document is not read (or reported) again
        return this.view;
      }
      this.etag = read.etag;
      this.change({ kind: "known", desired: parsed.desired, readAt: this.deps.clock.now() });
      this.news(`known:${parsed.desired.workers}:${parsed.desired.setAt}`, "info", { ...parsed.desired }, `desired size: ${parsed.desired.workers} workers (set ${parsed.desired.setAt})`);
      return this.view;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.news("failing", "warn", { error: messageOf(error) }, `s3://${bucket}/${key} could not be read; repair keeps its last view and reads it again in ${(this.options.pollMs ?? DESIRED_POLL_MS) / 1000} s`);
      return this.view;
    }
  }

  /**
   * Asked right before a repair's RunInstances: reads the document now (one conditional GET, a 304
   * when unchanged) and refuses unless it still wants `slot`. A claim made on a view up to 15 s old
   * (or a repair resumed after a restart) must not launch once `synkti down` has written 0.
   */
  async launchRefusal(slot: number, signal?: AbortSignal): Promise<{ refuse: string } | undefined> {
    const view = await this.readOnce(signal);
    if (view.kind === "absent") return { refuse: "no cluster/desired.json any more: repair is off" };
    if (view.kind === "unknown") return { refuse: "the desired size could not be read: no repair launch without it" };
    const why = slotNotWanted(view, slot);
    return why ? { refuse: why } : undefined;
  }

  /** Reads at once, then every poll interval, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.readOnce(signal).catch(() => undefined);
      try {
        await this.deps.clock.sleep(this.options.pollMs ?? DESIRED_POLL_MS, signal);
      } catch {
        return;
      }
    }
  }

  private change(view: DesiredView): void {
    this.view = view;
    this.deps.onChange?.(view);
  }

  /** Logs at `level` only when the news differs from the last (an idle cluster stays quiet). */
  private news(what: string, level: "info" | "warn", fields: Record<string, unknown>, message: string): void {
    if (this.lastNews === what) return;
    this.lastNews = what;
    this.deps.log[level](fields, message);
  }
}
