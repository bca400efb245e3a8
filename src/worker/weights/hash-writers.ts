import { createHash, type Hash } from "node:crypto";
import { writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * SHA-256 and the positioned writes of the fetch, on threads of their own. The main thread parses
 * HTTP for every GET in flight; hashing as well would cap the fetch at one core's SHA-256 and
 * parsing together (about 1 GB/s), below what a GPU instance's network brings (3 GB/s at 25
 * Gbit/s). So the main thread only copies each GET's bytes into 1 MiB batches and hands them over
 * (the batch's memory moves, it is not copied again); a hashing thread hashes a batch and writes it
 * in place with the same descriptor, then hands the memory back for the next batch. One chunk
 * stays on one thread (its SHA-256 needs its bytes in order); chunks of different GETs go to
 * different threads.
 *
 * With no core to spare, the main thread hashes and writes itself (InlineSink).
 *
 * The worker's code is a string (a single executable has no files of its own to start a worker
 * from) that uses only Node's own modules.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { writeSync } = require("node:fs");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.close) return void hashes.delete(m.sink);
  try {
    let hash = hashes.get(m.sink);
    if (hash === undefined) hashes.set(m.sink, (hash = createHash("sha256")));
    const view = new Uint8Array(m.buffer, 0, m.bytes);
    hash.update(view);
    for (let at = 0; at < m.bytes; ) at += writeSync(m.fd, view, at, m.bytes - at, m.position + at);
    let digest;
    if (m.last) {
      digest = hash.digest("hex");
      hashes.delete(m.sink);
    }
    parentPort.postMessage({ sink: m.sink, digest, buffer: m.buffer }, [m.buffer]);
  } catch (error) {
    hashes.delete(m.sink);
    parentPort.postMessage({ sink: m.sink, error: { message: error.message, code: error.code, syscall: error.syscall }, buffer: m.buffer }, [m.buffer]);
  }
});
`;

/** Bytes handed to a hashing thread at once, and batches a GET may have there before it waits. */
const BATCH = 1 << 20;
const IN_FLIGHT = 2;

interface Ack {
  sink: number;
  digest?: string;
  error?: { message: string; code?: string; syscall?: string };
  buffer: ArrayBuffer;
}

/**
 * Threads for hashing: the cores left once the HTTP thread and the kernel's own share (network
 * receive, page cache writeback) have one each, 0 to 4 (4 hash ~6 GB/s, above any NIC's share).
 * A GPU instance has 4 vCPUs or more: 2 threads and up. On 2 cores the main thread hashes itself:
 * measured on the bench's 2-core machine, a thread there only added the copy and the wake-ups
 * (this process's CPU per 300 MiB 0.94-0.98 s with 1 or 2 threads, 0.80-0.88 s with none).
 */
export function defaultHashThreads(cores = availableParallelism()): number {
  return Math.max(0, Math.min(4, cores - 2));
}

/** Where one GET's bytes go, chunk after chunk. */
export interface ChunkSink {
  /** Takes `bytes` (copied or written before it returns); a promise only when the sink must catch up first (await it). */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** The chunk's SHA-256 (hex), once every byte given since the last chunk is hashed and written. */
  endChunk(): Promise<string>;
  /** Waits until nothing more will be written (the descriptor may then be closed); always called. */
  close(): Promise<void>;
}

export class HashWriters {
  private readonly workers: Worker[];
  private readonly sinks = new Map<number, ThreadSink>();
  private readonly spare: ArrayBuffer[] = [];
  private nextSink = 1;
  private broken: Error | undefined;

  constructor(threads = defaultHashThreads()) {
    this.workers = Array.from({ length: Math.max(0, threads) }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref(); // never what keeps the agent alive
      worker.on("message", (ack: Ack) => this.sinks.get(ack.sink)?.settle(ack));
      worker.on("error", (error) => this.fail(new Error(`a hashing thread failed: ${error.message}`)));
      worker.on("exit", (code) => this.fail(new Error(`a hashing thread ended (exit code ${code})`)));
      return worker;
    });
  }

  /** Where one GET's bytes go: file descriptor `fd`, from file offset `position` on. */
  sink(fd: number, position: number): ChunkSink {
    if (this.workers.length === 0) return new InlineSink(fd, position);
    const id = this.nextSink++;
    const sink = new ThreadSink(id, fd, position, this.workers[id % this.workers.length]!, this, () => this.sinks.delete(id));
    this.sinks.set(id, sink);
    if (this.broken) sink.fail(this.broken);
    return sink;
  }

  async close(): Promise<void> {
    this.broken ??= new Error("the fetch is over");
    for (const sink of this.sinks.values()) sink.fail(this.broken);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** @internal a batch's memory, reused across GETs (no allocation per MiB fetched). */
  takeBuffer(): ArrayBuffer {
    return this.spare.pop() ?? new ArrayBuffer(BATCH);
  }

  /** @internal */
  giveBuffer(buffer: ArrayBuffer): void {
    if (buffer.byteLength === BATCH && this.spare.length < 64) this.spare.push(buffer);
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    for (const sink of this.sinks.values()) sink.fail(error);
  }
}

/**
 * A GET's bytes through a hashing thread: `write` copies them into the batch being filled;
 * `close` waits for every batch handed over, so the descriptor is never closed under a write.
 */
class ThreadSink implements ChunkSink {
  private batch: Uint8Array;
  private used = 0;
  private readonly waiting: Array<{ resolve: (ack: Ack) => void; reject: (error: Error) => void; promise: Promise<Ack> }> = [];
  private failed: Error | undefined;

  constructor(
    private readonly id: number,
    private readonly fd: number,
    private position: number,
    private readonly worker: Worker,
    private readonly pool: HashWriters,
    private readonly forget: () => void,
  ) {
    this.batch = new Uint8Array(pool.takeBuffer());
  }

  write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    let offset = 0;
    while (offset < bytes.byteLength) {
      const take = Math.min(bytes.byteLength - offset, this.batch.byteLength - this.used);
      this.batch.set(take === bytes.byteLength ? bytes : bytes.subarray(offset, offset + take), this.used);
      this.used += take;
      offset += take;
      if (this.used === this.batch.byteLength) {
        this.send(false);
        if (this.waiting.length >= IN_FLIGHT) return this.writeRest(bytes, offset);
      }
    }
    return undefined;
  }

  async endChunk(): Promise<string> {
    if (this.failed) throw this.failed;
    this.send(true);
    let digest: string | undefined;
    while (this.waiting.length > 0) digest = (await this.waiting[0]!.promise).digest;
    if (digest === undefined) throw new Error("a hashing thread answered no digest");
    return digest;
  }

  /** Every batch handed over answered (whatever the outcome), then the thread drops the chunk's hash. */
  async close(): Promise<void> {
    await Promise.allSettled(this.waiting.map((w) => w.promise));
    this.forget();
    if (!this.failed) this.worker.postMessage({ sink: this.id, close: true });
  }

  /** @internal */
  settle(ack: Ack): void {
    const head = this.waiting.shift();
    this.pool.giveBuffer(ack.buffer);
    if (!head) return;
    if (ack.error) {
      const error = Object.assign(new Error(ack.error.message), { code: ack.error.code, syscall: ack.error.syscall });
      this.failed ??= error;
      head.reject(error);
    } else head.resolve(ack);
  }

  /** @internal */
  fail(error: Error): void {
    this.failed ??= error;
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  private async writeRest(bytes: Uint8Array, offset: number): Promise<void> {
    await this.waiting[0]!.promise;
    const rest = this.write(bytes.subarray(offset));
    if (rest) await rest;
  }

  private send(last: boolean): void {
    let resolve!: (ack: Ack) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<Ack>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // awaited by endChunk or close; never an unhandled rejection
    // Acks come back in order (one thread per sink): the head of `waiting` is the oldest batch.
    this.waiting.push({ resolve, reject, promise });
    const buffer = this.batch.buffer as ArrayBuffer;
    this.worker.postMessage({ sink: this.id, fd: this.fd, position: this.position, buffer, bytes: this.used, last }, [buffer]);
    this.position += this.used;
    this.batch = new Uint8Array(this.pool.takeBuffer());
    this.used = 0;
  }
}

/**
 * The main thread hashes and writes (no core to spare), each piece before `write` returns: the
 * pieces may be views into a connection's read buffer that the next read overwrites
 * (lean-http-handler.ts), so none is kept.
 */
class InlineSink implements ChunkSink {
  private hash: Hash = createHash("sha256");

  constructor(
    private readonly fd: number,
    private position: number,
  ) {}

  write(bytes: Uint8Array): undefined {
    this.hash.update(bytes);
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, this.position + done);
    this.position += bytes.byteLength;
    return undefined;
  }

  async endChunk(): Promise<string> {
    const digest = this.hash.digest("hex");
    this.hash = createHash("sha256");
    return digest;
  }

  async close(): Promise<void> {}
}
