/**
 * Uploads of permanent content into the project bucket (the binary, model weights), and the
 * verifiers preflight reuses to decide whether they are in place.
 */
export { uploadBinary, type UploadBinaryInput, type UploadBinaryResult } from "./upload-binary.js";
export { uploadModel, type UploadModelInput, type UploadModelResult } from "./upload-model.js";
export { verifyBinaryInS3, type BinaryVerification, type VerifyBinaryOptions } from "./verify-binary.js";
export { verifyModelInS3, type ModelVerification } from "./verify-model.js";
export { validateModelName, modelNameProblem, MODEL_NAME_RULE } from "./model-name.js";
export { createProgressBar, type ProgressReporter } from "./progress.js";
export { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, type TransferOptions, type UploadDeps } from "./types.js";
