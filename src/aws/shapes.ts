/**
 * Small shapes every narrow AWS module shares: a call's abort option, and the SDK's
 * `{ Key, Value }` lists (tags, attributes) to and from plain string maps.
 */
export const opts = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

export const toPairs = (map: Record<string, string>) => Object.entries(map).map(([Key, Value]) => ({ Key, Value }));

export const fromPairs = (pairs?: Array<{ Key?: string; Value?: string }>): Record<string, string> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.Key ?? "", p.Value ?? ""]));

/** The whole object's size from a Content-Range ("bytes 0-4095/12345"); undefined when absent or "*". */
export const contentRangeTotal = (contentRange?: string): number | undefined => {
  const total = /\/(\d+)$/.exec(contentRange ?? "")?.[1];
  return total !== undefined ? Number(total) : undefined;
};
