/**
 * Uploads of permanent content into the project bucket (the binary, model weights). What preflight
 * shares with them (hashes, the manifest, the verifiers) lives in src/artifacts.
 */
export { uploadBinary, type UploadBinaryInput, type UploadBinaryResult } from "./upload-binary.js";
export { uploadModel, type UploadModelInput, type UploadModelResult } from "./upload-model.js";
export { describeSkipped, type SkippedEntry } from "./local-files.js";
export { createProgressBar, type ProgressReporter } from "./progress.js";
export { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, type TransferOptions, type UploadDeps } from "./types.js";
export { hashCacheFile } from "./hash-cache.js";
