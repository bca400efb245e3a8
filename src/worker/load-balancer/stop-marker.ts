import type { ImdsClient } from "../../context/imds-client.js";
import { TAGS_PATH } from "../../context/observe.js";
import { TAG_STOPPING } from "../../infra/names.js";

/**
 * Has `synkti down` begun on this instance? Down tags every instance `SynktiStopping=true` before
 * it deregisters and terminates them, so a worker that is still booting reads its own tag through
 * instance metadata (tags are enabled at launch) before it joins the load balancer: joining then
 * would only put a target in the group that is about to be terminated under its requests. A 404
 * (no such tag) is "no".
 */
export async function downHasBegun(imds: Pick<ImdsClient, "get">, signal?: AbortSignal): Promise<boolean> {
  const value = await imds.get(`${TAGS_PATH}/${TAG_STOPPING}`, signal ? { signal } : {});
  return value?.trim() === "true";
}
