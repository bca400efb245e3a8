import { WORKER_ENDPOINT as ENDPOINT } from "./endpoint.js";
import { httpGet } from "../core/http-client.js";
import { MAX_STATUS_BYTES, PeerStatusSchema, type PeerStatus } from "./status-document.js";

export const STATUS_PATH = "/status";


/**
 * Asks a peer for its status (DESIGN: to know a peer's health, ask the peer). A short timeout: a
 * peer that cannot answer within a second is, for a caller choosing where to send work, not healthy.
 */
export class WrongPeerError extends Error {}

/**
 * `expect`: who should answer at that endpoint. A stale tag can point at an address that now
 * belongs to another instance, even another project's worker: its answer is refused, never
 * credited to the instance asked about (nor its gossip merged).
 */
export async function askPeerStatus(
  endpoint: string,
  options: { timeoutMs: number; signal?: AbortSignal; expect?: { instanceId: string; project?: string } },
): Promise<PeerStatus> {
  if (!ENDPOINT.test(endpoint)) throw new Error(`not a worker endpoint: '${endpoint}'`);
  const answer = await httpGet(`http://${endpoint}${STATUS_PATH}`, { ...options, maxBytes: MAX_STATUS_BYTES });
  if (answer.status !== 200) throw new Error(`${endpoint}${STATUS_PATH} answered HTTP ${answer.status}`);
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new Error(`${endpoint}${STATUS_PATH} answered something that is not JSON`);
  }
  const parsed = PeerStatusSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${endpoint}${STATUS_PATH} is not a synkti worker status: ${parsed.error.issues[0]?.message ?? "bad shape"}`);
  const { expect } = options;
  if (expect && parsed.data.instanceId !== expect.instanceId) throw new WrongPeerError(`${endpoint} answered as ${parsed.data.instanceId}`);
  if (expect?.project !== undefined && parsed.data.project !== expect.project) {
    throw new WrongPeerError(`${endpoint} answered for project ${parsed.data.project ?? "(none)"}, not ${expect.project}`);
  }
  return parsed.data;
}
