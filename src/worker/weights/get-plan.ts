/**
 * Which ranged GETs fetch a file's missing chunks: the GET is decoupled from the chunk. One GET
 * covers a run of consecutive chunks still needed, up to `chunksPerGet` of them; its body is split
 * at chunk boundaries as it streams, and every chunk is still verified on its own (chunk-io.ts).
 * A gap (a chunk already verified on disk, on a resume) ends a run: nothing verified is fetched again.
 */
export interface GetSpan {
  /** First and last chunk index (0-based, inclusive) the GET covers. */
  first: number;
  last: number;
}

/** `todo` sorted ascending, no repeats. */
export function planGets(todo: readonly number[], chunksPerGet: number): GetSpan[] {
  const spans: GetSpan[] = [];
  for (const index of todo) {
    const open = spans.at(-1);
    if (open && open.last === index - 1 && index - open.first < chunksPerGet) open.last = index;
    else spans.push({ first: index, last: index });
  }
  return spans;
}

/** How many whole chunks fit in `maxGetBytes` (at least one: a chunk is never split across GETs). */
export function chunksPerGet(maxGetBytes: number, chunkSize: number): number {
  return Math.max(1, Math.floor(maxGetBytes / chunkSize));
}
