/** SynktiSlot's value, parsed strictly: tags are written by workers and the deployer, read as untrusted. */
import { MAX_DESIRED_WORKERS } from "../cluster/desired-size.js";

/** Plain decimal 0..MAX_DESIRED_WORKERS-1, no sign, no leading zero; anything else is no slot. */
export function parseSlot(value: string | undefined): number | undefined {
  if (value === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(value)) return undefined;
  const slot = Number(value);
  return slot < MAX_DESIRED_WORKERS ? slot : undefined;
}
