import { createHash, type Hash } from "node:crypto";

/**
 * Per-chunk SHA-256 (manifest version 2). A whole-file SHA-256 needs the bytes in order, so a
 * worker that fetches a file as many parallel ranged GETs could check it only by reading the file
 * a second time. Each fixed-size chunk's own hash lets every range be verified as it lands, and a
 * resume re-verify what is already on disk chunk by chunk. The chunk size is part of the manifest
 * (a reader never assumes it).
 *
 * CHUNK_SIZE is what `synkti upload model` writes, and also its multipart part size (each part one
 * chunk, so S3's composite checksum vouches for the object: s3-checksum.ts). 16 MiB, not more: a
 * part is a unit of parallelism, and with 64 MiB parts a 192 MiB file had only 3 requests in flight
 * (the upload bench fell to x0.6 of `aws s3 cp`); 16 MiB keeps 8 in flight from 128 MiB up, 8 x 16
 * MiB of memory, and the unit the worker's fetch verifies (one of its GETs covers up to 4: fetch-weights.ts).
 */
export const CHUNK_SIZE = 16 * 2 ** 20;

/** Chunks of a file of `size` bytes: ceil(size / chunkSize); an empty file has none. */
export function chunkCount(size: number, chunkSize: number = CHUNK_SIZE): number {
  return Math.ceil(size / chunkSize);
}

/** Byte range [start, end) of chunk `index`; the last chunk is shorter when size is not a multiple. */
export function chunkRange(size: number, index: number, chunkSize: number = CHUNK_SIZE): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(size, start + chunkSize) };
}

export interface ChunkedDigest {
  size: number;
  /** SHA-256 of the whole content. */
  sha256: string;
  /** SHA-256 of each chunk, in order. */
  chunks: string[];
}

/**
 * Pure, incremental: feed the bytes in order (any slicing), get the whole-file hash and every chunk
 * hash from one pass. For uploads, which must read the weights once.
 */
export class ChunkHasher {
  private readonly whole: Hash = createHash("sha256");
  private chunk: Hash = createHash("sha256");
  private inChunk = 0;
  private size = 0;
  private readonly chunks: string[] = [];

  constructor(readonly chunkSize: number = CHUNK_SIZE) {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
  }

  update(bytes: Uint8Array): this {
    this.whole.update(bytes);
    this.size += bytes.byteLength;
    let offset = 0;
    while (offset < bytes.byteLength) {
      const take = Math.min(this.chunkSize - this.inChunk, bytes.byteLength - offset);
      this.chunk.update(bytes.subarray(offset, offset + take));
      this.inChunk += take;
      offset += take;
      if (this.inChunk === this.chunkSize) this.closeChunk();
    }
    return this;
  }

  /** SHA-256 (hex) of chunk `index` (0-based) once it is complete, else undefined. */
  finishedChunk(index: number): string | undefined {
    return this.chunks[index];
  }

  /** The digest so far (the hasher can keep going: it works on copies). */
  digest(): ChunkedDigest {
    const chunks = this.inChunk > 0 ? [...this.chunks, this.chunk.copy().digest("hex")] : [...this.chunks];
    return { size: this.size, sha256: this.whole.copy().digest("hex"), chunks };
  }

  private closeChunk(): void {
    this.chunks.push(this.chunk.digest("hex"));
    this.chunk = createHash("sha256");
    this.inChunk = 0;
  }
}
